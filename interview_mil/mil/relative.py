"""Speaker-relative instances: each instance described against the other instances of its own bag.

In an interview every turn comes from one speaker, so a turn's absolute pitch, loudness or embedding says
as much about who speaks as about how. ``relative_bag`` centres each column on the bag's median and
divides by a robust spread (1.4826 × the median absolute deviation, which equals the standard deviation for
normal data), so the model sees which answers depart from the speaker's own baseline. The spread is never
below a quarter of the column's standard deviation in the bag (1 where that is zero): in a short interview
the MAD can be almost nothing — of three turns it is the smaller distance to the middle one, so two
near-equal turns made one embedding dimension's relative value −2,800 and a 1e-4 change of the audio path
moved it by 1,000 — while a marker turn far out in a longer interview still stands out (the floor binds
only where the MAD is under a quarter of the standard deviation). For self-supervised embeddings this
per-participant centring removes much of the speaker identity they carry (the speaker-leakage problem).
Modes: ``none``, ``replace`` (relative columns only) and ``append`` (raw columns, then ``<name>__rel``
columns). Nothing is fitted: the transform is per bag, the same at training and prediction time.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError

RELATIVE_MODES = ("none", "replace", "append")
MAD_TO_SD = 1.4826
SD_FLOOR = 0.25  # the spread is at least this share of the bag's standard deviation


def check_mode(mode: str) -> str:
    if mode not in RELATIVE_MODES:
        raise ConfigError(f"unknown speaker_relative mode {mode!r}", fix=f"use one of {list(RELATIVE_MODES)}")
    return mode


def relative_bag(bag: np.ndarray) -> np.ndarray:
    """(n, F) → (n, F): each column minus the bag's median over the robust spread; NaN stays NaN; a bag of
    one instance gives zeros (no contrast within the speaker)."""
    x = np.asarray(bag, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        med = np.nanmedian(x, axis=0)  # (F,)
        spread = MAD_TO_SD * np.nanmedian(np.abs(x - med), axis=0)  # (F,)
        sd = np.nanstd(x, axis=0)
    spread = np.maximum(spread, SD_FLOOR * sd)
    spread = np.where(spread > 1e-9, spread, 1.0)
    return ((x - med) / spread).astype(np.float32)


def relative_names(names: Sequence[str], mode: str) -> list[str]:
    """Column names after :func:`apply_relative` with ``mode``."""
    names = [str(n) for n in names]
    if mode == "none":
        return names
    rel = [f"{n}__rel" for n in names]
    return rel if mode == "replace" else names + rel


def apply_relative(bags: Sequence[np.ndarray], mode: str) -> list[np.ndarray]:
    """Every bag transformed by ``mode`` (``none`` returns the bags unchanged)."""
    check_mode(mode)
    if mode == "none":
        return list(bags)
    if mode == "replace":
        return [relative_bag(b) for b in bags]
    return [np.hstack([np.asarray(b, dtype=np.float32), relative_bag(b)]) for b in bags]
