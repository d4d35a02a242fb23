"""One-channel recordings without a transcript: the ``diarize`` source keeps the interviewer's voice out of
the participant's turns, chooses the participant from the recording (and says how sure it is), takes the
user's choice instead, writes who spoke when as RTTM and reads it back; the ``vad`` source, which cannot
tell voices apart, says how much of its turns another voice fills and refers the recording when it is a lot.
Real voices from ``../shared/data/librispeech`` (skipped with a reason where absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from interview_mil.cli.main import main
from interview_mil.data import load_audio
from interview_mil.data.audio import resample
from interview_mil.data.records import Interview
from interview_mil.errors import InputError, ModelNotFoundError, TranscriptError
from interview_mil.segmentation import SegmentationConfig, segment_interview
from interview_mil.segmentation.config import AsrConfig, TranscriptConfig
from interview_mil.segmentation.quality import assess_quality
from interview_mil.segmentation.vad import cell_levels
from interview_mil.segmentation.voices import VoiceEncoder, mel_frames

SR = 16_000
LIBRI = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "librispeech" / "test-other"
pytestmark = pytest.mark.skipif(not LIBRI.is_dir(), reason=f"real voices not found at {LIBRI}")


def _speakers() -> list[Path]:
    return sorted(d for d in LIBRI.iterdir() if d.is_dir())


def interview_mix(interviewer: Path, participant: Path, level_db: float, seed: int) -> tuple[np.ndarray, list]:
    """A one-channel interview of two real voices: short questions, a pause, a longer answer at
    ``level_db`` re the interviewer → (samples, [(who, start, end), ...])."""
    import librosa

    def clip(f: Path, seconds: float) -> np.ndarray:  # the utterance's speech (no leading/trailing silence)
        return librosa.effects.trim(load_audio(f), top_db=35)[0][: int(seconds * SR)]

    rng = np.random.default_rng(seed)
    asks, answers = sorted(interviewer.glob("*.flac")), sorted(participant.glob("*.flac"))
    parts, ref, t = [np.zeros(SR // 2, np.float32)], [], 0.5
    for k in range(7):
        q = clip(asks[k], rng.uniform(1.5, 3.0))
        a = clip(answers[k], rng.uniform(5.0, 11.0)) * 10 ** (level_db / 20)
        for who, w, gap in (("I", q, rng.uniform(0.4, 1.0)), ("P", a, rng.uniform(0.6, 1.5))):
            parts += [w, np.zeros(int(gap * SR), np.float32)]
            ref.append((who, t, t + w.size / SR))
            t += w.size / SR + gap
    x = np.concatenate(parts)
    return (0.5 * x / np.abs(x).max()).astype(np.float32), ref


def _share(turns, ref, who: str) -> float:
    """Share of the turns' time (who = "I": the interviewer's speech inside them) or of the participant's
    speech inside the turns (who = "P")."""
    inside = sum(max(0.0, min(t.end, b) - max(t.start, a)) for t in turns for w, a, b in ref if w == who)
    if who == "I":
        return inside / sum(t.end - t.start for t in turns)
    return inside / sum(b - a for w, a, b in ref if w == "P")


@pytest.fixture(scope="module")
def mixes(tmp_path_factory) -> dict[str, tuple[Path, list]]:
    folder = tmp_path_factory.mktemp("mixes")
    spk = _speakers()
    out = {}
    for name, (i, p, level, seed) in {
        "louder": (0, 1, 6.0, 0),
        "softer": (2, 3, -6.0, 1),
        "equal": (4, 5, 0, 2),
    }.items():
        x, ref = interview_mix(spk[i], spk[p], level, seed)
        sf.write(folder / f"{name}.wav", x, SR, subtype="PCM_16")
        out[name] = (folder / f"{name}.wav", ref)
    return out


def _segment(path: Path, source: str | None = None, **kw):
    return segment_interview(Interview(path.stem, str(path), **kw), SegmentationConfig(), source=source)


def test_the_speaker_encoder_tells_real_voices_apart():
    enc = VoiceEncoder()
    vectors, who = [], []
    for speaker in _speakers()[:6]:
        for f in sorted(speaker.glob("*.flac"))[:3]:
            x = load_audio(f)[: 3 * SR]
            vectors.append(enc.embed(mel_frames(x), cell_levels(x), [(0.0, x.size / SR)])[0])
            who.append(speaker.name)
    v, who = np.stack(vectors), np.array(who)
    sim = v @ v.T - 2 * np.eye(len(v))
    nearest_same = (who[np.argmax(sim, axis=1)] == who).mean()
    assert nearest_same >= 0.9, nearest_same  # each segment's closest other segment is the same speaker


def test_interviewer_speech_stays_out_of_the_participant_turns(mixes):
    for name, (path, ref) in mixes.items():
        seg = _segment(path)
        assert seg.source == "diarize"
        assert _share(seg.turns, ref, "I") <= 0.03, name  # interviewer contamination
        assert _share(seg.turns, ref, "P") >= 0.90, name  # participant recall
        answers = [(a, b) for w, a, b in ref if w == "P"]
        per_turn = [sum(min(t.end, b) - max(t.start, a) > 0.2 for a, b in answers) for t in seg.turns]
        assert np.median(per_turn) == 1, name  # one answer per turn, not question-answer-question blocks
        assert seg.diarization.chosen_by == "cues" and seg.diarization.margin > 0


def test_diarized_turns_stay_put_under_gain_and_telephone_audio(mixes, tmp_path):
    path, ref = mixes["equal"]
    x, _ = sf.read(path, dtype="float32")
    base = _segment(path)
    variants = {"quiet": (x * 0.1, SR), "telephone": (resample(x, SR, 8_000), 8_000)}
    for name, (y, rate) in variants.items():
        sf.write(tmp_path / f"{name}.wav", y, rate, subtype="PCM_16")
        seg = _segment(tmp_path / f"{name}.wav")
        assert _share(seg.turns, ref, "I") <= 0.03 and _share(seg.turns, ref, "P") >= 0.90, name
        same = [(t.start, t.end) for t in base.turns]
        kept = sum(max(0.0, min(t.end, b) - max(t.start, a)) for t in seg.turns for a, b in same)
        assert kept >= 0.9 * sum(b - a for a, b in same), name  # the same turns, whatever the voices are called


def test_the_user_can_choose_the_participant_and_a_voice_that_does_not_exist_is_refused(mixes):
    path, ref = mixes["louder"]
    chosen = _segment(path).diarization.participant
    other = "spk1" if chosen == "spk2" else "spk2"
    seg = _segment(path, participant_speaker=other)
    assert seg.diarization.chosen_by == "override" and _share(seg.turns, ref, "P") < 0.1  # the interviewer's now
    with pytest.raises(TranscriptError, match=r"'spk9' is not a voice found.*spk1, spk2"):
        _segment(path, participant_speaker="spk9")


def test_who_spoke_when_is_written_as_rttm_and_read_back(mixes, tmp_path, capsys):
    path, ref = mixes["softer"]
    rttm = tmp_path / "who.rttm"
    assert main(["segment", str(path), "--out", str(tmp_path / "a.csv"), "--write-rttm", str(rttm)]) == 0
    out = capsys.readouterr().out
    assert "participant: voice spk" in out and str(rttm) in out
    names = {line.split()[7] for line in rttm.read_text().splitlines()}
    assert {"participant", "interviewer"} <= names <= {"participant", "interviewer", "overlap"}
    read_back = _segment(path, rttm_path=str(rttm))  # no --participant: the file names the participant
    assert read_back.source == "rttm"
    assert _share(read_back.turns, ref, "I") <= 0.03 and _share(read_back.turns, ref, "P") >= 0.90


def test_vad_turns_holding_two_voices_get_a_note_and_a_refer(mixes):
    path, ref = mixes["equal"]
    seg = _segment(path, source="vad")  # levels alike: the level split keeps both voices
    assert _share(seg.turns, ref, "I") > 0.2
    report = assess_quality(seg)
    assert report.refer and "another voice in the participant's turns" in report.reason
    assert abs(report.measures["other_voice_share"] - _share(seg.turns, ref, "I")) < 0.1
    clean = assess_quality(_segment(path))  # the diarize source's turns: nothing to say about other voices
    assert not clean.refer and "another voice" not in clean.reason


def test_missing_speaker_weights_are_one_clear_error(tmp_path):
    broken = tmp_path / "w.safetensors"
    broken.write_bytes(b"not weights")
    with pytest.raises(InputError, match=r"w.safetensors: cannot read the speaker-encoder weights(.|\n)*reinstall"):
        VoiceEncoder(broken)


def test_each_turn_carries_its_words_and_the_question_before_it(mixes):
    path, ref = mixes["equal"]
    seg = _segment(path)
    said = [t for t in seg.turns if t.text]
    assert len(said) >= 0.8 * len(seg.turns) and np.mean([len(t.text.split()) for t in said]) >= 5
    asked = [t for t in seg.turns if t.prompt_start is not None]
    assert len(asked) >= 0.8 * len(seg.turns) and sum(bool(t.prompt_text) for t in asked) >= 0.8 * len(asked)
    questions = [(a, b) for w, a, b in ref if w == "I"]
    for t in asked:  # the prompt is the interviewer's question just before the answer, not part of the answer
        assert t.prompt_end <= t.start
        inside = sum(max(0.0, min(t.prompt_end, b) - max(t.prompt_start, a)) for a, b in questions)
        assert inside >= 0.8 * (t.prompt_end - t.prompt_start)
    off = segment_interview(Interview("x", str(path)), SegmentationConfig(asr=AsrConfig(enabled=False)))
    assert all(t.text is None and t.prompt_text is None for t in off.turns)


def test_a_missing_recognition_model_is_one_clear_error(mixes, tmp_path):
    path, _ = mixes["equal"]
    config = SegmentationConfig(asr=AsrConfig(enabled=True, model=str(tmp_path / "no-model")))
    with pytest.raises(ModelNotFoundError, match=r"no-model: not a CTranslate2 model folder(.|\n)*fix"):
        segment_interview(Interview("x", str(path)), config)


def test_e_daic_transcripts_lose_the_interviewers_lines_by_voice(mixes, tmp_path):
    path, ref = mixes["softer"]
    rows = "".join(f"{a:.2f},{b:.2f},words,0.9\n" for _, a, b in ref)  # E-DAIC ASR lines name no speaker
    transcript = tmp_path / "x_Transcript.csv"
    transcript.write_text("Start_Time,End_Time,Text,Confidence\n" + rows)
    seg = _segment(path, transcript_path=str(transcript))
    assert seg.source == "e_daic"
    assert _share(seg.turns, ref, "I") <= 0.03 and _share(seg.turns, ref, "P") >= 0.90
    assert seg.interviewer  # the interviewer's lines end turns and give the response latency
    config = SegmentationConfig(transcript=TranscriptConfig(edaic_speakers=False))  # as before: every line kept
    kept = segment_interview(Interview("x", str(path), transcript_path=str(transcript)), config)
    assert _share(kept.turns, ref, "I") > 0.15


def test_the_speaker_vector_does_not_depend_on_the_recording_level():
    x = load_audio(sorted(_speakers()[0].glob("*.flac"))[0])[: 3 * SR]
    enc = VoiceEncoder()
    vectors = [enc.embed(mel_frames(x * g), cell_levels(x * g), [(0.0, 3.0)])[0] for g in (0.05, 1.0, 1.8)]
    assert min(float(v @ vectors[1]) for v in vectors) > 0.999


def test_the_voice_that_asks_the_questions_is_taken_for_the_interviewer():
    from interview_mil.segmentation.diarize import Diarization, choose_participant
    from interview_mil.segmentation.transcribe import Word, with_questions

    # two voices alternating, the same speech time and run length; spk2 opened (a cue for spk2 as interviewer)
    segments = tuple((float(k), k + 0.9, "spk2" if k % 2 == 0 else "spk1") for k in range(10))
    cues = {
        s: {"speech_s": 4.5, "median_run_s": 0.9, "first_s": 0.0 if s == "spk2" else 1.0, "level_db": -30.0}
        for s in ("spk1", "spk2")
    }
    found = choose_participant(segments, (), cues, 0.6)
    assert found.participant == "spk1"  # without words: the one who did not open
    words = [Word(k + 0.5, k + 0.8, "why?" if k % 2 == 1 else "because") for k in range(10)]
    asked = with_questions(found, words)  # but spk1 asks every question: spk1 is the interviewer
    assert asked.participant == "spk2" and asked.cues["spk1"]["questions"] == 1.0
    user = Diarization(segments, (), "spk1", float("inf"), "override", cues, 0.6)
    assert with_questions(user, words).participant == "spk1"  # the user's choice stays
