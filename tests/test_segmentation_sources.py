"""E-DAIC ASR transcripts, RTTM, STM, stereo recordings, format detection, source choice, bad audio."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_path
from test_segmentation_speech import SR, build_dialogue, write_daic

from interview_mil.data import Interview, resample, write_audio
from interview_mil.errors import AudioError, ConfigError, TranscriptError
from interview_mil.segmentation import (
    TURN_SOURCES,
    NoTurnsWarning,
    RefineConfig,
    SegmentationConfig,
    TranscriptConfig,
    TurnConfig,
    choose_source,
    detect_speech,
    detect_transcript_format,
    segment_interview,
    turns_from_asr_transcript,
    turns_from_rttm,
    turns_from_stm,
)
from interview_mil.segmentation.regions import frame_agreement, regions_to_mask
from interview_mil.segmentation.speakers import read_rttm, read_stm
from interview_mil.segmentation.vad import speech_mask

NO_REFINE = SegmentationConfig(refine=RefineConfig(enabled=False), turns=TurnConfig(max_length=None))
EDAIC = 'Start_Time,End_Time,Text,Confidence\n1.2,2.5,"yes, i am",0.93\n2.7,4.0,fine,0.88\n6.0,7.5,uh,0.2\n'
STM = """;; comment line
rec 1 Ellie 0.5 2.0 <o,f0,female> how are you
rec 1 Pat 2.5 4.0 <o,f0,male> good thanks
rec 1 Pat 4.2 5.0 really
rec 1 excluded_region 5.5 6.5 ignore_time_segment_in_scoring
rec 1 Pat 6.8 7.5 after
rec 1 inter_segment_gap 7.5 8.0
"""
RTTM = """SPEAKER rec 1 0.50 1.50 <NA> <NA> spk0 <NA> <NA>
SPEAKER rec 1 2.50 2.00 <NA> <NA> spk1 <NA> <NA>
SPEAKER rec 1 3.00 0.40 <NA> <NA> spk0 <NA> <NA>
SPEAKER rec 1 4.60 1.00 <NA> <NA> spk1 <NA> <NA>
SPEAKER rec 1 6.00 1.00 <NA> <NA> spk0 <NA> <NA>
SPEAKER rec 1 7.20 1.00 <NA> <NA> spk1 <NA> <NA>
"""


def _spans(turns):
    return [(round(t.start, 3), round(t.end, 3)) for t in turns]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_edaic_segments_become_turns(tmp_path):
    path = _write(tmp_path, "300_Transcript.csv", EDAIC)
    turns = turns_from_asr_transcript(path, "300", NO_REFINE)
    assert _spans(turns) == [(1.2, 2.5), (2.7, 4.0), (6.0, 7.5)]
    assert turns[0].text == "yes, i am" and all(t.response_latency is None for t in turns)
    cfg = SegmentationConfig(
        refine=RefineConfig(enabled=False), transcript=TranscriptConfig(asr_merge_gap=0.5, min_confidence=0.5)
    )
    assert _spans(turns_from_asr_transcript(path, "300", cfg)) == [(1.2, 4.0)]


def test_edaic_bad_lines(tmp_path):
    path = _write(tmp_path, "t.csv", "Start_Time,End_Time,Text,Confidence\n1.0,2.0,ok,0.9\n3.0,2.5,bad,0.9\n")
    with pytest.raises(TranscriptError, match="line 3: stop time 2.500 s is before start time 3.000 s"):
        turns_from_asr_transcript(path, "300", NO_REFINE)
    path = _write(tmp_path, "t.csv", "Start_Time,Stop,Text\n1.0,2.0,ok\n")
    with pytest.raises(TranscriptError, match=r"header lacks column\(s\) \['end_time'\]"):
        turns_from_asr_transcript(path, "300", NO_REFINE)


def test_stm_turns_of_the_chosen_speaker(tmp_path):
    path = _write(tmp_path, "rec.stm", STM)
    turns = turns_from_stm(path, "pat", "rec", NO_REFINE)  # speaker names are matched case-insensitively
    assert _spans(turns) == [(2.5, 5.0), (6.8, 7.5)]  # the excluded region is never bridged
    assert turns[0].text == "good thanks really" and turns[0].response_latency == pytest.approx(0.5)
    assert turns[1].response_latency is None


def test_rttm_turns_of_the_chosen_speaker(tmp_path):
    path = _write(tmp_path, "rec.rttm", RTTM)
    turns = turns_from_rttm(path, "spk1", "rec", NO_REFINE)
    # spk1 2.5-4.5 overlaps spk0's 3.0-3.4 backchannel; spk0 speaks again before 7.2
    assert _spans(turns) == [(2.5, 5.6), (7.2, 8.2)]
    assert turns[0].response_latency == pytest.approx(0.5) and turns[1].response_latency == pytest.approx(0.2)
    with pytest.raises(TranscriptError, match=r"'nobody' does not occur; speakers in the file: \['spk0', 'spk1'\]"):
        turns_from_rttm(path, "nobody", "rec", NO_REFINE)
    with pytest.raises(TranscriptError, match="which speaker is the participant"):
        turns_from_rttm(path, None, "rec", NO_REFINE)


def test_rttm_record_with_too_few_fields(tmp_path):
    path = _write(tmp_path, "bad.rttm", "SPEAKER rec 1 0.5 1.0 <NA> <NA> spk0 <NA> <NA>\nSPEAKER rec 1 2.0\n")
    with pytest.raises(TranscriptError, match="line 2: an RTTM SPEAKER record needs at least 8 fields"):
        turns_from_rttm(path, "spk0", "rec", NO_REFINE)


def test_format_detection(tmp_path):
    assert detect_transcript_format(_write(tmp_path, "a.csv", "start_time\tstop_time\tspeaker\tvalue\n")) == "daic_woz"
    assert detect_transcript_format(_write(tmp_path, "b.csv", EDAIC)) == "e_daic"
    assert detect_transcript_format(_write(tmp_path, "c.txt", STM)) == "stm"
    assert detect_transcript_format(_write(tmp_path, "d.txt", RTTM)) == "rttm"
    with pytest.raises(TranscriptError, match="unrecognised transcript format"):
        detect_transcript_format(_write(tmp_path, "e.txt", "hello world\n"))


def test_source_choice(tmp_path):
    audio = write_audio(tmp_path / "a.wav", np.zeros(16_000, np.float32))
    stereo = tmp_path / "s.wav"
    sf.write(stereo, np.zeros((16_000, 2), np.float32), 16_000)
    cfg = SegmentationConfig()
    assert choose_source(Interview("a", str(audio)), cfg)[0] == "diarize"  # one channel, nothing else given
    stm = _write(tmp_path, "a.stm", STM)
    assert choose_source(Interview("a", str(audio), transcript_path=str(stm)), cfg)[0] == "stm"
    edaic = _write(tmp_path, "a.csv", EDAIC)
    assert choose_source(Interview("a", str(audio), transcript_path=str(edaic)), cfg)[0] == "e_daic"
    rttm = _write(tmp_path, "a.rttm", RTTM)
    name, record = choose_source(Interview("a", str(audio), transcript_path=str(rttm)), cfg)
    assert name == "rttm" and record.rttm_path == str(rttm)
    assert choose_source(Interview("a", str(audio), rttm_path=str(rttm), transcript_path=str(stm)), cfg)[0] == "rttm"
    assert choose_source(Interview("s", str(stereo), channel=1), cfg)[0] == "stereo"
    assert choose_source(Interview("s", str(stereo)), cfg)[0] == "diarize"  # two channels, none chosen: the mix
    assert choose_source(Interview("a", str(audio)), cfg, source="stm")[0] == "stm"
    with pytest.raises(ConfigError, match="unknown turn source 'whisper'"):
        choose_source(Interview("a", str(audio)), cfg, source="whisper")
    assert set(TURN_SOURCES.names()) == {"daic_woz", "e_daic", "stm", "rttm", "vad", "stereo", "diarize"}


def test_silence_gives_no_turns_and_a_warning(tmp_path):
    for name, signal in [
        ("zeros", np.zeros(16_000 * 3)),
        ("hiss", np.random.default_rng(1).normal(0, 10 ** (-60 / 20), 16_000 * 3)),
    ]:
        path = write_audio(tmp_path / f"{name}.wav", signal.astype(np.float32))
        with pytest.warns(NoTurnsWarning, match="no participant turns"):
            assert segment_interview(Interview(name, str(path))).turns == []


def test_empty_and_unreadable_audio_raise_naming_the_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav: file is empty"):
        segment_interview(Interview("e", str(empty))).turns
    with pytest.raises(AudioError, match="missing.wav: audio file not found"):
        segment_interview(Interview("m", str(tmp_path / "missing.wav"))).turns


def _errors(turns, truth):
    return [abs(t.start - a) for t, (a, _) in zip(turns, truth)] + [abs(t.end - b) for t, (_, b) in zip(turns, truth)]


def test_8khz_and_stereo_recordings(tmp_path):
    dialogue = build_dialogue(voice="buzz")
    narrow = tmp_path / "narrow.wav"
    sf.write(narrow, resample(dialogue.audio, SR, 8_000), 8_000, subtype="PCM_16")
    turns = segment_interview(Interview("n", str(narrow)), source="vad").turns
    assert len(turns) == len(dialogue.turns) and np.median(_errors(turns, dialogue.turns)) < 0.05
    both = tmp_path / "both.wav"  # the same mono mix on two channels, no channel chosen → mixed to mono
    sf.write(both, np.stack([dialogue.audio, dialogue.audio], axis=1), SR, subtype="PCM_16")
    turns = segment_interview(Interview("b", str(both)), source="vad").turns
    assert len(turns) == len(dialogue.turns) and np.median(_errors(turns, dialogue.turns)) < 0.05


def test_stereo_source_keeps_the_participant_channel(tmp_path):
    loud = build_dialogue(bleed_db=0.0, noise_dbfs=-70.0, seed=1, voice="buzz")  # both speakers at full level
    participant = np.zeros_like(loud.audio)
    for a, b in loud.turns:
        participant[int(a * SR) : int(b * SR)] = loud.audio[int(a * SR) : int(b * SR)]
    interviewer = loud.audio - participant
    leak = 10 ** (-18 / 20)  # each microphone hears the other speaker 18 dB down
    stereo = np.stack([interviewer + leak * participant, participant + leak * interviewer], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, SR, subtype="PCM_16")
    turns = segment_interview(Interview("s", str(path), channel=1)).turns
    assert {t.source for t in turns} == {"stereo"}
    assert len(turns) == len(loud.turns) and np.median(_errors(turns, loud.turns)) < 0.05
    for turn, (_, q_end, _), (a, _) in zip(turns, loud.questions, loud.turns):
        assert turn.response_latency == pytest.approx(a - q_end, abs=0.1)
    with pytest.raises(AudioError, match="two-channel recording"):
        segment_interview(
            Interview("m", str(write_audio(tmp_path / "m.wav", loud.audio)), channel=0), source="stereo"
        ).turns


def test_daic_transcript_from_a_manifest_record(tmp_path):
    dialogue = build_dialogue(voice="buzz")
    audio, transcript = write_daic(dialogue, tmp_path / "1001_P", "1001")
    turns = segment_interview(Interview("1001", str(audio), transcript_path=str(transcript))).turns
    assert {t.source for t in turns} == {"daic_woz"} and len(turns) == len(dialogue.turns)


# --- the real conversation in ../shared/data/conversation -------------------------------------------


def _reference(records, speaker, gap=TranscriptConfig().merge_gap):
    """The rule by hand: a speaker's segments, joined while no other speaker talks and the gap is short."""
    records = sorted(records, key=lambda r: r[1])
    out = []
    for spk, a, b, *_ in records:
        if spk != speaker:
            continue
        if (
            out
            and a - out[-1][1] < gap
            and not any(s != speaker and e > out[-1][1] and x < a for s, x, e, *_ in records)
        ):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in out]


@pytest.mark.parametrize("speaker", ["Sheila", "Diane"])
def test_real_conversation_stm_turns_agree_with_the_reference(speaker):
    folder = shared_path("conversation")
    stm = folder / "sample.stm"
    interview = Interview("sample", str(folder / "sample.wav"), transcript_path=str(stm), participant_speaker=speaker)
    raw = segment_interview(interview, NO_REFINE).turns
    assert _spans(raw) == _reference(read_stm(stm), speaker)
    refined = segment_interview(interview).turns
    for turn, (a, b) in zip(refined, _spans(raw)):
        assert a - 1e-6 <= turn.start and turn.end <= b + 1e-6  # trimming never extends a turn
    assert sum(t.duration for t in refined) > 0.8 * sum(b - a for a, b in _spans(raw))


def test_real_conversation_rttm_turns_agree_with_the_reference():
    folder = shared_path("conversation")
    rttm = folder / "sample.rttm"
    for speaker in ("speaker90", "speaker91"):
        interview = Interview("sample", str(folder / "sample.wav"), rttm_path=str(rttm), participant_speaker=speaker)
        assert _spans(segment_interview(interview, NO_REFINE).turns) == _reference(read_rttm(rttm), speaker)
    # the RTTM's speaker91 and the STM's Sheila are the same person: their turns agree frame by frame
    sheila = turns_from_stm(folder / "sample.stm", "Sheila", "sample", NO_REFINE)
    s91 = turns_from_rttm(rttm, "speaker91", "sample", NO_REFINE)
    a = regions_to_mask([(t.start, t.end) for t in sheila], 3000)
    b = regions_to_mask([(t.start, t.end) for t in s91], 3000)
    assert frame_agreement(a, b) > 0.95


def test_real_conversation_vad_agrees_with_the_reference_speech():
    folder = shared_path("conversation")
    from interview_mil.data import load_audio

    activity = detect_speech(load_audio(folder / "sample.wav"), SR)
    reference = regions_to_mask([(a, b) for _, a, b, _ in read_rttm(folder / "sample.rttm")], activity.n_cells)
    assert frame_agreement(speech_mask(activity), reference) >= 0.90
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real speech: no empty-result warning
        assert segment_interview(Interview("sample", str(folder / "sample.wav")), source="vad").turns
