import math

import pytest

from interview_mil.data import Interview, Turn, read_manifest, read_turns, validate, write_manifest, write_turns
from interview_mil.data.records import turn_problems, validate_manifest
from interview_mil.errors import ManifestError


def _turns(iid="300", spans=((1.0, 2.0), (4.0, 1.5))):
    return [Turn(iid, f"{iid}_t{i:03d}", i, s, d, source="test") for i, (s, d) in enumerate(spans)]


def test_end_is_derived():
    t = Turn("1", "1_t0", 0, start=2.5, duration=1.25)
    assert t.end == 3.75
    assert t.to_dict()["end"] == 3.75


def test_turn_from_dict_accepts_end_instead_of_duration():
    t = Turn.from_dict(
        {"interview_id": 7, "turn_id": "a", "turn_index": 0, "start": 1.0, "end": 3.0, "text": float("nan")}
    )
    assert t.duration == 2.0 and t.interview_id == "7" and t.text is None


def test_validate_draws_the_line_at_the_end_of_the_recording():
    """A turn may end at the end of the recording (and within rounding of it); one that ends later, or
    whose index does not match its position, is refused with the reason."""
    interview = Interview("300", "a.wav", duration=10.0)
    assert turn_problems(interview, _turns(spans=((1.0, 2.0), (8.0, 2.0)))) == []
    assert turn_problems(interview, _turns(spans=((1.0, 2.0), (8.0, 2.04)))) == []  # 40 ms of rounding
    assert turn_problems(interview, _turns(spans=((1.0, 2.0), (8.0, 2.2))))  # 200 ms past the end
    swapped = _turns()[::-1]
    assert any("turn_index" in p or "before the turn" in p for p in turn_problems(interview, swapped))
    with pytest.raises(ManifestError, match="'300'"):
        validate(interview, swapped)


@pytest.mark.parametrize(
    "spans, message",
    [
        (((1.0, 2.0), (9.5, 1.0)), "after the recording"),
        (((1.0, -0.5),), "non-positive duration"),
        (((-1.0, 2.0),), "starts before the recording"),
    ],
)
def test_validate_rejects_bad_turns_naming_the_interview(spans, message):
    with pytest.raises(ManifestError) as err:
        validate(Interview("300", "a.wav", duration=10.0), _turns(spans=spans))
    assert "'300'" in str(err.value) and message in str(err.value)


def test_validate_rejects_duplicate_ids_and_foreign_turns():
    turns = _turns()
    dup = [turns[0], Turn("300", turns[0].turn_id, 1, 5.0, 1.0)]
    with pytest.raises(ManifestError, match="duplicate turn id"):
        validate(Interview("300", "a.wav"), dup)
    with pytest.raises(ManifestError, match="belongs to interview"):
        validate(Interview("301", "a.wav"), turns)


def test_validate_rejects_bad_labels():
    with pytest.raises(ManifestError, match="label must be 0 or 1"):
        validate(Interview("1", "a.wav", label=3))
    with pytest.raises(ManifestError, match="PHQ-8"):
        validate(Interview("1", "a.wav", phq8_score=30))


def test_manifest_rejects_participant_in_two_splits():
    a = Interview("a", "a.wav", participant_id="p1", split="train")
    b = Interview("b", "b.wav", participant_id="p1", split="dev")
    with pytest.raises(ManifestError, match="both the 'train' and the 'dev' split"):
        validate_manifest([a, b])


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_manifest_round_trip(tmp_path, suffix):
    interviews = [
        Interview(
            "300",
            "/x/300.wav",
            participant_id="300",
            split="train",
            label=1,
            phq8_score=12.0,
            gender="F",
            corpus="daic_woz",
            duration=600.0,
            meta={"site": "A"},
        ),
        Interview("301", "/x/301.wav", split="test"),
    ]
    path = write_manifest(interviews, tmp_path / f"m{suffix}")
    assert read_manifest(path) == interviews


def test_manifest_duplicates_rejected_before_writing(tmp_path):
    with pytest.raises(ManifestError, match="duplicate interview id"):
        write_manifest([Interview("1", "a"), Interview("1", "b")], tmp_path / "m.jsonl")
    assert not (tmp_path / "m.jsonl").exists()


def test_missing_manifest_says_how_to_fix(tmp_path):
    with pytest.raises(ManifestError, match="prepare"):
        read_manifest(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_turns_table_round_trip(tmp_path, suffix):
    turns = _turns() + _turns("301", ((0.5, 0.5),))
    turns[0] = Turn(
        "300",
        "300_t000",
        0,
        1.0,
        2.0,
        text="hello, there",
        response_latency=0.8,
        n_pauses=2,
        pause_time=0.4,
        longest_pause=0.3,
        source="transcript",
    )
    path = write_turns(turns, tmp_path / f"turns{suffix}")
    back = read_turns(path)
    assert back["300"] == turns[:2] and back["301"] == turns[2:]
    assert not math.isnan(back["300"][0].response_latency)
