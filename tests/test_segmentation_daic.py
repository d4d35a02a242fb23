"""DAIC-WOZ transcripts: merging, latency, every defect rule of the corpus, and bad transcripts."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from test_segmentation_speech import build_dialogue, write_daic

from interview_mil.data import Interview, write_audio
from interview_mil.errors import TranscriptError
from interview_mil.segmentation import (
    DAIC_SYNC_OFFSETS,
    RefineConfig,
    SegmentationConfig,
    TranscriptConfig,
    TurnConfig,
    segment_interview,
    speech_activity,
    turns_from_daic_transcript,
)

NO_REFINE = SegmentationConfig(refine=RefineConfig(enabled=False), turns=TurnConfig(max_length=None))


def _transcript(tmp_path, rows, name="1000_TRANSCRIPT.csv", header="start_time\tstop_time\tspeaker\tvalue"):
    path = tmp_path / name
    path.write_text("\n".join([header] + ["\t".join(str(c) for c in r) for r in rows]) + "\n")
    return path


def _spans(turns):
    return [(round(t.start, 4), round(t.end, 4)) for t in turns]


BASIC = [
    (1.0, 3.0, "Ellie", "how are you"),
    (4.0, 5.0, "Participant", "fine"),
    (5.5, 6.0, "Participant", "thanks"),
    (7.0, 8.0, "Ellie", "where are you from"),
    (9.0, 10.0, "Participant", "chicago"),
]


def test_lines_of_one_answer_merge_and_latency_is_measured(tmp_path):
    turns = turns_from_daic_transcript(_transcript(tmp_path, BASIC), "1000", NO_REFINE)
    assert _spans(turns) == [(4.0, 6.0), (9.0, 10.0)]
    assert [t.text for t in turns] == ["fine thanks", "chicago"]
    assert [t.response_latency for t in turns] == [1.0, 1.0]
    assert [t.turn_id for t in turns] == ["1000_0000", "1000_0001"]
    assert all(t.source == "daic_woz" and t.n_pauses is None for t in turns)  # no audio: not measured


def test_a_long_gap_without_the_interviewer_starts_a_turn_without_latency(tmp_path):
    rows = BASIC[:2] + [(12.0, 13.0, "Participant", "anyway")]
    turns = turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", NO_REFINE)
    assert _spans(turns) == [(4.0, 5.0), (12.0, 13.0)]
    assert turns[1].response_latency is None
    wide = SegmentationConfig(refine=RefineConfig(enabled=False), transcript=TranscriptConfig(merge_gap=8.0))
    assert _spans(turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", wide)) == [(4.0, 13.0)]


def test_speaker_names_in_any_case_and_spacing(tmp_path):
    rows = [
        (1, 2, " ellie ", "hi"),
        (3, 4, "PARTICIPANT", "hello"),
        (5, 6, "El lie", "ok"),
        (7, 8, "participant  ", "bye"),
    ]
    turns = turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", NO_REFINE)
    assert _spans(turns) == [(3.0, 4.0), (7.0, 8.0)]


@pytest.mark.parametrize("marker", ["<sync>", "[sync]", "[synch]", "[syncing]", "<SYNC>"])
def test_sync_markers_are_removed(tmp_path, marker):
    rows = [
        (0.5, 0.9, "Ellie", marker),
        (1, 2, "Ellie", "hi"),
        (2.5, 2.9, "Participant", marker),
        (3, 4, "Participant", f"hello {marker} there"),
    ]
    turns = turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", NO_REFINE)
    assert _spans(turns) == [(3.0, 4.0)] and turns[0].text == "hello there"


def test_talk_before_the_interview_is_dropped(tmp_path):
    rows = [(0.2, 1.5, "Participant", "is it on"), (2.0, 3.0, "Ellie", "hi i'm ellie"), (4.0, 5.0, "Participant", "hi")]
    turns = turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", NO_REFINE)
    assert _spans(turns) == [(4.0, 5.0)]
    keep = SegmentationConfig(
        refine=RefineConfig(enabled=False), transcript=TranscriptConfig(drop_before_interview=False)
    )
    assert _spans(turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", keep))[0] == (0.2, 1.5)


@pytest.mark.parametrize("session", sorted(DAIC_SYNC_OFFSETS))
def test_sync_offsets_of_the_out_of_sync_sessions(tmp_path, session):
    path = _transcript(tmp_path, BASIC, name=f"{session}_TRANSCRIPT.csv")
    offset = DAIC_SYNC_OFFSETS[session]
    turns = turns_from_daic_transcript(path, session, NO_REFINE)
    assert turns[0].start == pytest.approx(4.0 + offset, abs=1e-4)
    assert turns[0].response_latency == pytest.approx(1.0, abs=1e-4)
    off = SegmentationConfig(refine=RefineConfig(enabled=False), transcript=TranscriptConfig(daic_defects=False))
    assert turns_from_daic_transcript(path, session, off)[0].start == 4.0
    # a copy named differently is recognised by its interview id
    other = _transcript(tmp_path, BASIC, name="transcript.csv")
    assert turns_from_daic_transcript(other, session, NO_REFINE)[0].start == pytest.approx(4.0 + offset, abs=1e-4)
    assert (
        turns_from_daic_transcript(_transcript(tmp_path, BASIC, name="1318_TRANSCRIPT.csv"), "1318", NO_REFINE)[0].start
        == 4.0
    )


@pytest.mark.parametrize("session, window", [("373", (395.0, 428.0)), ("444", (286.0, 387.0))])
def test_interruptions_are_dropped_and_never_bridged(tmp_path, session, window):
    a, b = window
    rows = [
        (a - 20, a - 15, "Ellie", "tell me more"),
        (a - 14, a - 2, "Participant", "before"),
        (a + 5, a + 9, "Participant", "someone came in"),
        (b - 3, b + 1, "Ellie", "sorry about that"),
        (b + 2, b + 4, "Participant", "after"),
    ]
    cfg = SegmentationConfig(refine=RefineConfig(enabled=False), transcript=TranscriptConfig(merge_gap=500.0))
    turns = turns_from_daic_transcript(_transcript(tmp_path, rows, name=f"{session}_TRANSCRIPT.csv"), session, cfg)
    assert [t.text for t in turns] == ["before", "after"]
    rows_no_ellie = [r for r in rows if r[2] == "Participant"]
    turns = turns_from_daic_transcript(
        _transcript(tmp_path, rows_no_ellie, name=f"{session}_TRANSCRIPT.csv"), session, cfg
    )
    assert [t.text for t in turns] == ["before", "after"]  # the interruption is a boundary
    assert turns[1].response_latency is None


@pytest.mark.parametrize("session", ["451", "458", "480"])
def test_sessions_without_interviewer_lines(tmp_path, session, caplog):
    rows = [
        (0.5, 1.5, "Participant", "hello"),
        (2.0, 4.0, "Participant", "i am fine"),
        (20.0, 22.0, "Participant", "from here"),
    ]
    with caplog.at_level(logging.WARNING):
        turns = turns_from_daic_transcript(
            _transcript(tmp_path, rows, name=f"{session}_TRANSCRIPT.csv"), session, NO_REFINE
        )
    assert _spans(turns) == [(0.5, 4.0), (20.0, 22.0)]  # grouped by pauses, nothing dropped
    assert all(t.response_latency is None for t in turns)
    assert not caplog.records  # known sessions: no warning
    with caplog.at_level(logging.WARNING):
        turns_from_daic_transcript(_transcript(tmp_path, rows), "1000", NO_REFINE)
    assert "no interviewer lines" in caplog.text


@pytest.mark.parametrize(
    "rows, needle",
    [
        ([(1, 2, "Ellie", "hi"), (3, 4, "Particpant", "typo")], "line 3: unknown speaker 'Particpant'"),
        ([(1, 2, "Ellie", "hi"), (5, 4, "Participant", "backwards")], "line 3: stop time 4.000 s is before"),
        ([(1, 2, "Ellie", "hi"), ("abc", 4, "Participant", "x")], "line 3: start_time 'abc' is not a number"),
        ([(1, 2, "Ellie", "hi"), (-1, 4, "Participant", "x")], "line 3: start_time '-1' is not a time"),
    ],
)
def test_bad_transcript_lines_name_file_and_line(tmp_path, rows, needle):
    path = _transcript(tmp_path, rows)
    with pytest.raises(TranscriptError) as err:
        turns_from_daic_transcript(path, "1000", NO_REFINE)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_missing_header_column(tmp_path):
    path = _transcript(tmp_path, [(1, 2, "Ellie", "hi")], header="start\tstop_time\tspeaker\tvalue")
    with pytest.raises(TranscriptError, match=r"line 1: header lacks column\(s\) \['start_time'\]"):
        turns_from_daic_transcript(path, "1000", NO_REFINE)


def test_transcript_longer_than_the_audio(tmp_path):
    audio = write_audio(tmp_path / "a.wav", np.random.default_rng(0).normal(0, 0.01, 16_000 * 6), 16_000)
    rows = [(1, 2, "Ellie", "hi"), (3, 5.0, "Participant", "hello"), (5.2, 9.5, "Participant", "too long")]
    path = _transcript(tmp_path, rows)
    activity = speech_activity(audio, SegmentationConfig())
    with pytest.raises(TranscriptError) as err:
        turns_from_daic_transcript(path, "1000", NO_REFINE, activity)
    assert "line 4: ends at 9.500 s but the recording is only 6.000 s" in str(err.value)
    assert str(path) in str(err.value)
    # within the tolerance the line is clipped to the recording
    path = _transcript(tmp_path, rows[:2] + [(5.2, 6.3, "Participant", "just over")])
    turns = turns_from_daic_transcript(path, "1000", NO_REFINE, activity)
    assert turns[-1].end == pytest.approx(6.0)


def test_transcript_turns_equal_the_true_answers_on_speech(tmp_path):
    dialogue = build_dialogue()
    audio, transcript = write_daic(dialogue, tmp_path / "1000_P", "1000", speaker_case=("ELLIE", " participant"))
    interview = Interview("1000", str(audio), transcript_path=str(transcript))
    raw = segment_interview(interview, NO_REFINE).turns
    assert _spans(raw) == [(round(a, 3), round(b, 3)) for a, b in dialogue.turns]
    refined = segment_interview(interview).turns  # default: trimmed by VAD, pauses measured
    errors = [abs(t.start - a) for t, (a, _) in zip(refined, dialogue.turns)]
    errors += [abs(t.end - b) for t, (_, b) in zip(refined, dialogue.turns)]
    assert max(errors) < 0.05
    # the 0.6 s inserted between sentences is found (piper also pauses at the comma of answer 2)
    assert refined[0].n_pauses == 1 and refined[0].pause_time == pytest.approx(0.6, abs=0.06)
    assert refined[2].longest_pause == pytest.approx(0.6, abs=0.06)
    assert refined[0].response_latency == pytest.approx(dialogue.turns[0][0] - dialogue.questions[0][1], abs=0.05)


def test_out_of_sync_session_lines_up_with_its_audio(tmp_path):
    offset = DAIC_SYNC_OFFSETS["318"]
    dialogue = build_dialogue(lead=offset + 0.5, voice="buzz")
    audio, transcript = write_daic(dialogue, tmp_path / "318_P", "318", offset=offset)
    turns = segment_interview(Interview("318", str(audio), transcript_path=str(transcript)), NO_REFINE).turns
    assert [t.start for t in turns] == pytest.approx([a for a, _ in dialogue.turns], abs=2e-3)


def test_out_of_sync_session_interviewer_timeline_lines_up_with_its_turns(tmp_path):
    """The interviewer spans that the report draws come from the same shifted lines as the turns, so in a
    session with a sync offset they sit where the interviewer actually speaks in the audio."""
    offset = DAIC_SYNC_OFFSETS["318"]
    dialogue = build_dialogue(lead=offset + 0.5, voice="buzz")
    audio, transcript = write_daic(dialogue, tmp_path / "318_P", "318", offset=offset)
    seg = segment_interview(Interview("318", str(audio), transcript_path=str(transcript)), NO_REFINE)
    assert seg.source == "daic_woz"
    assert len(seg.interviewer) == len(dialogue.questions)
    for (a, b), (qa, qb, _) in zip(seg.interviewer, dialogue.questions):
        assert (a, b) == pytest.approx((qa, qb), abs=2e-3)
    # each answer starts after the question before it ends: timeline and turns agree
    for turn, (_, q_end, _) in zip(seg.turns, dialogue.questions):
        assert turn.start >= q_end - 2e-3
