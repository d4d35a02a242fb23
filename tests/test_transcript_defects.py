"""Transcripts and turn tables that look usable but are not: each gets a clear error or a named note,
never a silent wrong answer (issue 23, item 7). Real speech from ../shared/data/conversation where it helps."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from conftest import shared_path

from interview_mil.data import Interview
from interview_mil.data.manifest import read_turns
from interview_mil.errors import ManifestError, TranscriptError
from interview_mil.segmentation import SegmentationConfig, segment_interview, turns_from_stm


def test_overlapping_speakers_never_give_a_negative_response_latency(tmp_path):
    """The shared conversation's transcript with Sheila's answers starting 2 s early, inside Diane's speech
    (overlapping speakers, as many real transcripts have): those answers came at once (latency 0), not at
    -1.5 to -3.8 s, a time the features were never trained on."""
    folder = shared_path("conversation")
    rows = [ln.split(" ", 5) for ln in (folder / "sample.stm").read_text().splitlines() if ln.strip()]
    for r in rows:
        if r[2] == "Sheila":
            r[3] = f"{float(r[3]) - 2.0:.3f}"
    stm = tmp_path / "sample.stm"
    stm.write_text("\n".join(" ".join(r) for r in rows) + "\n")
    turns = turns_from_stm(stm, "Sheila", "sample", SegmentationConfig())
    latencies = [t.response_latency for t in turns if t.response_latency is not None]
    assert latencies and min(latencies) >= 0.0, latencies
    diane = [(float(r[3]), float(r[4])) for r in rows if r[2] == "Diane"]
    started_in_overlap = [t for t in turns if any(a < t.start < b for a, b in diane)]
    assert started_in_overlap and all(t.response_latency == 0.0 for t in started_in_overlap)


def test_a_header_only_transcript_is_blamed_on_the_transcript_not_the_audio(tmp_path):
    folder = shared_path("conversation")
    empty = tmp_path / "sample.csv"
    empty.write_text("start_time\tstop_time\tspeaker\tvalue\n")
    interview = Interview("sample", str(folder / "sample.wav"), transcript_path=str(empty))
    with pytest.raises(TranscriptError, match=r"sample\.csv.*holds no lines") as err:
        segment_interview(interview)
    assert "without --transcript" in str(err.value)


def test_a_one_recording_file_for_another_recording_is_named(tmp_path):
    folder = shared_path("conversation")
    stm = tmp_path / "other.stm"
    stm.write_text((folder / "sample.stm").read_text().replace("sample ", "interview_0042 "))
    interview = Interview("sample", str(folder / "sample.wav"), transcript_path=str(stm), participant_speaker="Diane")
    with pytest.warns(UserWarning, match=r"other\.stm.*'interview_0042', not \['sample'\].*--file-id interview_0042"):
        segment_interview(interview)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its own id, or an explicit one, says nothing
        segment_interview(
            Interview(
                "sample",
                str(folder / "sample.wav"),
                transcript_path=str(stm),
                participant_speaker="Diane",
                meta={"file_id": "interview_0042"},
            )
        )


def test_a_turn_table_whose_end_and_duration_disagree_is_refused(tmp_path):
    table = pd.DataFrame(
        {
            "interview_id": ["a", "a"],
            "turn_id": ["a_0", "a_1"],
            "turn_index": [0, 1],
            "start": [1.0, 10.0],
            "duration": [4.0, 3.0],
            "end": [5.0, 20.0],
        }
    )
    table.to_csv(tmp_path / "turns.csv", index=False)
    with pytest.raises(ManifestError, match=r"turns\.csv.*1 turn\(s\).*a_1: start 10 \+ duration 3 = 13 but end 20"):
        read_turns(tmp_path / "turns.csv")
    table.loc[1, "end"] = 13.004  # written with a few decimals: the same turn
    table.to_csv(tmp_path / "turns.csv", index=False)
    assert [t.end for t in read_turns(tmp_path / "turns.csv")["a"]] == pytest.approx([5.0, 13.0])
