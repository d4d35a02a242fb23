"""The two records everything else passes around: an ``Interview`` (one recording, one label) and a
``Turn`` (one response turn of the participant inside it). Times are seconds from the start of the
recording; ``end`` is derived from ``start + duration`` so the two can never disagree."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ManifestError

SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Turn:
    """One participant response turn (or a piece of a long one).

    ``response_latency``: seconds from the end of the interviewer's preceding line to this turn's start
    (None when there is no interviewer source). ``n_pauses``/``pause_time``/``longest_pause``: silent
    gaps inside the turn found by VAD (None until measured). ``parent_turn_id``: the turn a piece was
    split from (None for an unsplit turn). ``prompt_start``/``prompt_end``/``prompt_text``: the
    interviewer's speech before the turn (since the previous one), for the reader (None when unknown).
    """

    interview_id: str
    turn_id: str
    turn_index: int
    start: float
    duration: float
    speaker: str = "participant"
    text: str | None = None
    response_latency: float | None = None
    n_pauses: int | None = None
    pause_time: float | None = None
    longest_pause: float | None = None
    source: str = "unknown"
    parent_turn_id: str | None = None
    prompt_start: float | None = None
    prompt_end: float | None = None
    prompt_text: str | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration

    def to_dict(self) -> dict[str, Any]:
        """Flat row for the turns table (``end`` included)."""
        row = dataclasses.asdict(self)
        row["end"] = self.end
        return row

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Turn:
        """Build from a table row; ``end`` may stand in for ``duration``; unknown columns are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: _none_if_nan(v) for k, v in row.items() if k in names}
        if kwargs.get("duration") is None and _none_if_nan(row.get("end")) is not None:
            kwargs["duration"] = float(row["end"]) - float(kwargs["start"])
        for key in ("start", "duration"):
            if kwargs.get(key) is None:
                raise ManifestError(f"turn row {row.get('turn_id')!r} has no {key}")
            kwargs[key] = float(kwargs[key])
        kwargs["turn_index"] = int(kwargs["turn_index"])
        kwargs["interview_id"] = str(kwargs["interview_id"])
        kwargs["turn_id"] = str(kwargs["turn_id"])
        if kwargs.get("n_pauses") is not None:
            kwargs["n_pauses"] = int(kwargs["n_pauses"])
        return cls(**kwargs)


@dataclass(frozen=True)
class Interview:
    """One recorded interview: the bag. Labels are None when unknown (e.g. a test split).

    ``channel``: which channel holds the participant (None → mix all channels to mono).
    ``participant_speaker``: the participant's name in an RTTM/STM file.
    """

    interview_id: str
    audio_path: str
    participant_id: str | None = None
    split: str | None = None
    label: int | None = None
    phq8_score: float | None = None
    gender: str | None = None
    corpus: str = "unknown"
    transcript_path: str | None = None
    rttm_path: str | None = None
    participant_speaker: str | None = None
    channel: int | None = None
    duration: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        """The id splits are grouped by: the participant, or the interview when it is unknown."""
        return self.participant_id if self.participant_id is not None else self.interview_id

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> Interview:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(row) - names)
        kwargs = {k: _none_if_nan(v) for k, v in row.items() if k in names}
        if unknown:
            meta = dict(kwargs.get("meta") or {})
            meta.update({k: _none_if_nan(row[k]) for k in unknown})
            kwargs["meta"] = meta
        if kwargs.get("meta") is None:
            kwargs["meta"] = {}
        for key in ("interview_id", "participant_id"):
            if kwargs.get(key) is not None:
                kwargs[key] = str(kwargs[key])
        if kwargs.get("label") is not None:
            kwargs["label"] = int(kwargs["label"])
        if kwargs.get("channel") is not None:
            kwargs["channel"] = int(kwargs["channel"])
        for key in ("phq8_score", "duration"):
            if kwargs.get(key) is not None:
                kwargs[key] = float(kwargs[key])
        return cls(**kwargs)


def _none_if_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    try:  # pandas NA / numpy scalars
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return value
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def turn_problems(interview: Interview, turns: Sequence[Turn], tolerance: float = 0.05) -> list[str]:
    """Every reason ``turns`` are not valid for ``interview`` (empty list when they are).

    Checks: turns belong to this interview, unique turn ids, finite non-negative start, positive
    duration, inside the recording (when its duration is known, with ``tolerance`` seconds of slack),
    ordered by start, and turn_index matching that order.
    """
    problems: list[str] = []
    seen: set[str] = set()
    prev_start = -math.inf
    for pos, turn in enumerate(turns):
        label = f"turn {turn.turn_id!r}"
        if turn.interview_id != interview.interview_id:
            problems.append(f"{label} belongs to interview {turn.interview_id!r}")
        if turn.turn_id in seen:
            problems.append(f"duplicate turn id {turn.turn_id!r}")
        seen.add(turn.turn_id)
        if not (math.isfinite(turn.start) and math.isfinite(turn.duration)):
            problems.append(f"{label} has a non-finite start or duration")
            continue
        if turn.start < 0:
            problems.append(f"{label} starts before the recording ({turn.start:.3f} s)")
        if turn.duration <= 0:
            problems.append(f"{label} has a non-positive duration ({turn.duration:.3f} s)")
        if interview.duration is not None and turn.end > interview.duration + tolerance:
            problems.append(f"{label} ends at {turn.end:.3f} s, after the recording ({interview.duration:.3f} s)")
        if turn.start < prev_start:
            problems.append(f"{label} starts before the turn listed ahead of it")
        prev_start = turn.start
        if turn.turn_index != pos:
            problems.append(f"{label} has turn_index {turn.turn_index}, expected {pos}")
    return problems


def validate(interview: Interview, turns: Sequence[Turn] = ()) -> None:
    """Raise ``ManifestError`` naming the interview if the record or its turns are invalid."""
    problems = interview_problems(interview) + turn_problems(interview, turns)
    if problems:
        shown = "; ".join(problems[:8]) + (f"; and {len(problems) - 8} more" if len(problems) > 8 else "")
        raise ManifestError(f"interview {interview.interview_id!r} is invalid: {shown}", path=interview.audio_path)


def interview_problems(interview: Interview) -> list[str]:
    """Reasons a single interview record is invalid (label, score, split, duration, channel)."""
    problems = []
    if not interview.interview_id:
        problems.append("empty interview_id")
    if interview.label is not None and interview.label not in (0, 1):
        problems.append(f"label must be 0 or 1, got {interview.label!r}")
    if interview.phq8_score is not None and not (0 <= interview.phq8_score <= 24):
        problems.append(f"PHQ-8 score must lie in 0..24, got {interview.phq8_score!r}")
    if interview.split is not None and interview.split not in SPLITS:
        problems.append(f"split must be one of {SPLITS}, got {interview.split!r}")
    if interview.duration is not None and not (interview.duration > 0):
        problems.append(f"duration must be positive, got {interview.duration!r}")
    if interview.channel is not None and interview.channel < 0:
        problems.append(f"channel must be >= 0, got {interview.channel!r}")
    return problems


def validate_manifest(interviews: Iterable[Interview], source: str | None = None) -> None:
    """Raise ``ManifestError`` on duplicate interview ids, invalid records, or a participant in two splits."""
    problems: list[str] = []
    ids: set[str] = set()
    split_of: dict[str, str] = {}
    for interview in interviews:
        if interview.interview_id in ids:
            problems.append(f"duplicate interview id {interview.interview_id!r}")
        ids.add(interview.interview_id)
        problems += [f"{interview.interview_id}: {p}" for p in interview_problems(interview)]
        if interview.split is not None:
            other = split_of.setdefault(interview.group, interview.split)
            if other != interview.split:
                problems.append(
                    f"participant {interview.group!r} is in both the {other!r} and the {interview.split!r} split"
                )
    if problems:
        raise ManifestError("invalid manifest: " + "; ".join(problems[:10]), path=source)
