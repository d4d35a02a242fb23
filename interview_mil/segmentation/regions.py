"""Speech masks on a fixed 10 ms grid and the regions (start, end in seconds) they describe.

A mask is a bool array of shape ``(n_cells,)``; cell ``i`` covers ``[i * CELL, (i + 1) * CELL)`` s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .config import CELL

Region = tuple[float, float]


def n_cells(seconds: float) -> int:
    """Number of whole-or-partial cells covering ``seconds`` of audio."""
    return int(math.ceil(round(seconds / CELL, 6)))


def to_cells(seconds: float) -> int:
    """A duration in seconds as a whole number of cells (rounded)."""
    return int(round(seconds / CELL))


def mask_to_regions(mask: np.ndarray, limit: float | None = None) -> list[Region]:
    """Runs of True in ``mask`` (shape ``(n,)``) as ``(start, end)`` seconds, end clipped to ``limit``."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = []
    for s, e in zip(starts, ends):
        end = e * CELL if limit is None else min(e * CELL, limit)
        if end > s * CELL:
            out.append((round(float(s) * CELL, 6), round(float(end), 6)))
    return out


def regions_to_mask(regions: Iterable[Region], size: int) -> np.ndarray:
    """Bool mask of ``size`` cells, True where any region covers (rounded to the nearest cell)."""
    mask = np.zeros(size, dtype=bool)
    for start, end in regions:
        a, b = max(0, int(round(start / CELL))), min(size, int(round(end / CELL)))
        if b > a:
            mask[a:b] = True
    return mask


def _runs(mask: np.ndarray, value: bool) -> list[tuple[int, int]]:
    """(start, stop) cell indices of each run equal to ``value``."""
    m = (mask == value).astype(np.int8)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def fill_gaps(mask: np.ndarray, max_gap_cells: int) -> np.ndarray:
    """Set to True every interior False run of at most ``max_gap_cells`` (runs touching an edge stay)."""
    out = mask.copy()
    if max_gap_cells <= 0:
        return out
    for a, b in _runs(mask, False):
        if a > 0 and b < len(mask) and b - a <= max_gap_cells:
            out[a:b] = True
    return out


def drop_short(mask: np.ndarray, min_cells: int) -> np.ndarray:
    """Set to False every True run shorter than ``min_cells``."""
    out = mask.copy()
    if min_cells <= 1:
        return out
    for a, b in _runs(mask, True):
        if b - a < min_cells:
            out[a:b] = False
    return out


def extend_runs(mask: np.ndarray, cells: int) -> np.ndarray:
    """Extend each True run by ``cells`` after its end (the hangover)."""
    out = mask.copy()
    if cells <= 0:
        return out
    for _, b in _runs(mask, True):
        out[b : b + cells] = True
    return out


def smooth(mask: np.ndarray, hangover: float, min_silence: float, min_speech: float) -> np.ndarray:
    """Frame decisions → speech regions: hangover, then bridge short gaps, then drop short bursts."""
    out = extend_runs(mask, to_cells(hangover))
    out = fill_gaps(out, to_cells(min_silence))
    return drop_short(out, to_cells(min_speech))


def gaps_inside(regions: Sequence[Region], start: float, end: float) -> list[Region]:
    """Silent gaps between consecutive ``regions`` that lie inside ``[start, end]``."""
    inside = clip_regions(regions, start, end)
    return [(a[1], b[0]) for a, b in zip(inside, inside[1:]) if b[0] > a[1]]


def clip_regions(regions: Sequence[Region], start: float, end: float) -> list[Region]:
    """``regions`` intersected with ``[start, end]`` (empty intersections dropped)."""
    out = []
    for a, b in regions:
        a2, b2 = max(a, start), min(b, end)
        if b2 > a2:
            out.append((a2, b2))
    return out


def frame_agreement(hyp: np.ndarray, ref: np.ndarray) -> float:
    """Fraction of cells where two masks agree (speech/non-speech accuracy), over the longer mask."""
    n = max(len(hyp), len(ref))
    a, b = np.zeros(n, bool), np.zeros(n, bool)
    a[: len(hyp)], b[: len(ref)] = hyp, ref
    return float((a == b).mean()) if n else 1.0
