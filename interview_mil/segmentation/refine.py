"""VAD refinement shared by every turn source, splitting of long turns, and numbering into ``Turn`` records.

* ``refine_spans``: trim each span's leading/trailing silence (never extending it) to the speech regions
  inside it; spans with no detected speech are kept as they are.
* ``pauses_in``: silent gaps of at least ``min_pause`` s between speech regions inside a turn → count,
  total and longest (s).
* ``split_long``: a span longer than ``max_length`` s is cut into pieces no longer than that, at the
  longest pause near each cut when there is one (hard cut otherwise).
* ``make_turns``: spans → ``Turn`` records with ids ``{interview}_{index:04d}`` (pieces
  ``{parent}.{k}``), ``turn_index`` = position, pause statistics and response latency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..data.records import Turn
from .config import RefineConfig
from .regions import Region, clip_regions, gaps_inside
from .spans import Span


@dataclass(frozen=True)
class Pauses:
    """Silent gaps inside one turn: how many, their total and the longest, in seconds."""

    count: int
    total: float
    longest: float


def pauses_in(speech: Sequence[Region], start: float, end: float, min_pause: float) -> Pauses | None:
    """Pauses between the ``speech`` regions inside ``[start, end]``; None when no speech is inside."""
    if not clip_regions(speech, start, end):
        return None
    gaps = [b - a for a, b in gaps_inside(speech, start, end) if b - a >= min_pause - 1e-9]
    return Pauses(len(gaps), round(sum(gaps), 4), round(max(gaps), 4) if gaps else 0.0)


def refine_spans(spans: Sequence[Span], speech: Sequence[Region], config: RefineConfig) -> list[Span]:
    """Trim each span to the speech inside it (plus ``config.padding``, never beyond the span)."""
    if not (config.enabled and config.trim):
        return list(spans)
    out = []
    for span in spans:
        inside = clip_regions(speech, span.start, span.end)
        if not inside:
            out.append(span)
            continue
        start = max(span.start, inside[0][0] - config.padding)
        end = min(span.end, inside[-1][1] + config.padding)
        out.append(replace(span, start=round(start, 6), end=round(end, 6)))
    return out


def _cut_points(span: Span, speech: Sequence[Region], max_length: float) -> list[tuple[float, float]]:
    """(piece_end, next_start) pairs cutting ``span`` into pieces of at most ``max_length`` s."""
    gaps = gaps_inside(speech, span.start, span.end)
    cuts = []
    start = span.start
    while span.end - start > max_length + 1e-9:
        n = math.ceil((span.end - start) / max_length - 1e-9)
        target = start + (span.end - start) / n
        low = start + 0.5 * (target - start)
        candidates = [g for g in gaps if g[0] > low and g[1] <= start + max_length and g[0] > start]
        if candidates:
            best = max(candidates, key=lambda g: (round(g[1] - g[0], 3), -abs((g[0] + g[1]) / 2 - target)))
            cuts.append(best)
            start = best[1]
        else:
            cuts.append((target, target))
            start = target
    return cuts


def split_long(span: Span, speech: Sequence[Region], max_length: float | None) -> list[Span]:
    """``span`` as pieces of at most ``max_length`` s (one piece when short enough or no limit)."""
    if max_length is None or span.end - span.start <= max_length + 1e-9:
        return [span]
    pieces = []
    start = span.start
    for piece_end, next_start in _cut_points(span, speech, max_length) + [(span.end, span.end)]:
        parts = tuple(p for p in span.parts if start <= (p[0] + p[1]) / 2 < piece_end) or ((start, piece_end, None),)
        pieces.append(
            Span(round(start, 6), round(piece_end, 6), prompt_end=span.prompt_end if not pieces else None, parts=parts)
        )
        start = next_start
    return [p for p in pieces if p.end > p.start]


def _duration(start: float, end: float) -> float:
    """``end - start`` chosen so that ``start + duration`` gives back ``end`` exactly when possible (the
    turns table derives ``end`` from them)."""
    exact = end - start
    return exact if start + exact == end else round(exact, 4)


def make_turns(
    interview_id: str,
    spans: Sequence[Span],
    speech: Sequence[Region] | None,
    config: RefineConfig,
    max_length: float | None,
    source: str,
    speaker: str = "participant",
) -> list[Turn]:
    """Number ``spans`` (ordered) into ``Turn`` records, splitting long ones and measuring pauses.

    ``speech``: the speech regions pauses are measured against (None: no audio, pauses unmeasured).
    """
    turns: list[Turn] = []
    for k, span in enumerate(sorted(spans, key=lambda s: s.start)):
        parent_id = f"{interview_id}_{k:04d}"
        pieces = split_long(span, speech or (), max_length)
        for j, piece in enumerate(pieces):
            pauses = (
                pauses_in(speech, piece.start, piece.end, config.min_pause)
                if speech is not None and config.enabled
                else None
            )
            # an answer that starts while the prompt is still being spoken (overlapping speakers in the
            # transcript) came at once: latency 0, not a negative time the features were never trained on
            latency = None if piece.prompt_end is None else round(max(0.0, float(piece.start - piece.prompt_end)), 4)
            start, end = round(float(piece.start), 4), round(float(piece.end), 4)
            turns.append(
                Turn(
                    interview_id=interview_id,
                    turn_id=parent_id if len(pieces) == 1 else f"{parent_id}.{j}",
                    turn_index=len(turns),
                    start=start,
                    duration=_duration(start, end),
                    speaker=speaker,
                    text=piece.text,
                    response_latency=latency,
                    n_pauses=None if pauses is None else pauses.count,
                    pause_time=None if pauses is None else pauses.total,
                    longest_pause=None if pauses is None else pauses.longest,
                    source=source,
                    parent_turn_id=parent_id if len(pieces) > 1 else None,
                )
            )
    return turns
