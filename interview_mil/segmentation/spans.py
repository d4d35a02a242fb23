"""Candidate turns before VAD refinement: ``Line`` (one transcript/RTTM/STM line with a role) and ``Span``
(one participant response turn in the making), and the two ways of building spans: from speaker-labelled
lines (transcripts, RTTM, STM) and from participant/interviewer speech regions (audio only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from .regions import Region

Role = Literal["participant", "interviewer", "boundary"]


@dataclass(frozen=True)
class Line:
    """One timed line of a speaker source. ``role``: participant, interviewer, or boundary (a stretch
    that must not be bridged, e.g. an interruption). ``lineno``: 1-based line in ``path``."""

    start: float
    end: float
    role: Role
    text: str | None = None
    lineno: int = 0


@dataclass(frozen=True)
class Span:
    """A participant turn in the making (seconds). ``prompt_end``: end of the interviewer speech that
    prompted it (None when unknown); the response latency is ``start - prompt_end`` once ``start`` is
    final. ``parts``: the (start, end, text) pieces it was built from, so a split piece keeps its text."""

    start: float
    end: float
    prompt_end: float | None = None
    parts: tuple[tuple[float, float, str | None], ...] = ()

    @property
    def text(self) -> str | None:
        words = [t for _, _, t in self.parts if t]
        return " ".join(words) if words else None


def spans_from_lines(lines: Sequence[Line], merge_gap: float) -> list[Span]:
    """Group participant lines into response turns.

    Lines are taken in order of start time. Consecutive participant lines join one turn when the gap
    between them is shorter than ``merge_gap`` s and no interviewer or boundary line reaches into that
    gap. A turn's prompt is the interviewer line that started last before the turn, provided it ends
    after the previous turn ended (otherwise the interviewer said nothing new: no latency).
    """
    ordered = sorted(lines, key=lambda line: (line.start, line.end))
    others = [other for other in ordered if other.role != "participant"]
    spans: list[Span] = []
    for line in ordered:
        if line.role != "participant":
            continue
        part = (line.start, line.end, line.text)
        if spans:
            last = spans[-1]
            gap_blocked = any(o.end > last.end and o.start < line.start for o in others)
            if line.start <= last.end or (line.start - last.end < merge_gap and not gap_blocked):
                spans[-1] = replace(last, end=max(last.end, line.end), parts=last.parts + (part,))
                continue
        prev_end = spans[-1].end if spans else float("-inf")
        prompt = None
        for o in others:
            if o.start >= line.start:
                break
            if o.role == "interviewer" and o.end > prev_end:
                prompt = o.end
            elif o.role == "boundary" and o.end > prev_end:
                prompt = None
        spans.append(Span(line.start, line.end, prompt_end=prompt, parts=(part,)))
    return spans


def spans_from_regions(
    participant: Sequence[Region], interviewer: Sequence[Region], split_pause: float, min_turn: float
) -> list[Span]:
    """Group participant speech regions into turns: a new turn after a pause longer than ``split_pause``
    s or after interviewer speech (which gives the turn its prompt); turns shorter than ``min_turn`` s are
    dropped. Regions are (start, end) seconds, each list ordered and non-overlapping."""
    spans: list[Span] = []
    k = 0  # next interviewer region to look at
    for start, end in participant:
        heard = None  # end of the last interviewer speech since the previous participant region
        while k < len(interviewer) and interviewer[k][0] < start:
            heard = interviewer[k][1]
            k += 1
        if spans and heard is None and start - spans[-1].end <= split_pause:
            spans[-1] = replace(spans[-1], end=end, parts=spans[-1].parts + ((start, end, None),))
            continue
        spans.append(Span(start, end, prompt_end=heard, parts=((start, end, None),)))
    return [s for s in spans if s.end - s.start >= min_turn]
