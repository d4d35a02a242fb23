"""Splits by group (participant) by construction: no group ever sits on both sides of a split.

``stratified_group_kfold`` keeps the class balance of each fold close to the whole set's; repeated CV
reshuffles with a different seed each repetition. Results are aggregated over all folds (mean, sd,
standard error), never by picking the best run.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ..errors import InputError


@dataclass(frozen=True)
class Fold:
    """One train/test split: ``repeat`` and ``fold`` numbers and the bag indices on each side."""

    repeat: int
    fold: int
    train: np.ndarray
    test: np.ndarray


def _groups(y: np.ndarray, groups: Sequence | None) -> np.ndarray:
    if groups is None:
        return np.arange(len(y))
    groups = np.asarray(groups)
    if groups.shape != y.shape:
        raise InputError(f"{len(groups)} group ids for {len(y)} bags", fix="give one group (participant) id per bag")
    return groups


def stratified_group_kfold(
    y: Sequence[int], groups: Sequence | None, n_splits: int, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` (train, test) index pairs; every group falls in exactly one test fold.

    ``groups=None`` treats every bag as its own group. Raises :class:`InputError` when there are fewer
    groups than folds or a class has fewer groups than folds cannot be honoured at all.
    """
    y = np.asarray(y)
    g = _groups(y, groups)
    n_groups = len(np.unique(g))
    if n_groups < 2:
        raise InputError(
            f"cannot make folds from {n_groups} group(s) (participants/bags)",
            fix="cross-validation needs at least 2 groups, and 2 of each class",
        )
    if n_splits < 2 or n_splits > n_groups:
        raise InputError(
            f"cannot make {n_splits} folds from {n_groups} groups (participants)",
            fix=f"use between 2 and {n_groups} folds",
        )
    per_class = _groups_per_class(y, g)
    if max(per_class.values()) < n_splits:  # scikit-learn cannot stratify at all
        raise InputError(
            f"cannot make {n_splits} stratified folds: {_counts(per_class)}",
            fix=f"use at most {max(per_class.values())} folds",
        )
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The least populated class")
        splits = [(np.sort(tr), np.sort(te)) for tr, te in splitter.split(np.zeros(len(y)), y, g)]
    for tr, te in splits:
        if np.intersect1d(g[tr], g[te]).size:  # by construction this never happens; guard against library changes
            raise RuntimeError("a group is on both sides of a split")
    return splits


def _groups_per_class(y: np.ndarray, g: np.ndarray) -> dict[int, int]:
    return {int(c): len(np.unique(g[y == c])) for c in np.unique(y)}


def _counts(per_class: dict[int, int]) -> str:
    return ", ".join(f"class {c} has {n} group(s)" for c, n in sorted(per_class.items()))


def check_folds(
    y: Sequence[int], groups: Sequence | None, n_splits: int, what: str = "bags", source: str | None = None
) -> None:
    """``InputError`` unless every one of the two classes has at least ``n_splits`` groups (``what``, e.g.
    bags or participants), so that every test fold holds both classes and its AUC is defined. ``source``:
    the file the bags come from, named in the message."""
    y = np.asarray(y)
    g = _groups(y, groups)
    per_class = {c: _groups_per_class(y, g).get(c, 0) for c in (0, 1)}
    smallest = min(per_class.values())
    counts = ", ".join(f"class {c}: {n} {what}" for c, n in per_class.items())
    if smallest < 2:
        raise InputError(
            f"{len(y)} bag(s) ({counts}): cross-validation needs at least 2 {what} of each class",
            path=source,
            fix=f"add {what} of the missing class, or check the label column",
        )
    if not 2 <= n_splits <= smallest:
        raise InputError(
            f"cannot make {n_splits} folds with both classes in every test fold ({counts})",
            path=source,
            fix=(f"use --folds {smallest}" if smallest == 2 else f"use --folds between 2 and {smallest}")
            + f" (at most the smaller class's number of {what}), or add {what}",
        )


def repeated_stratified_group_kfold(
    y: Sequence[int], groups: Sequence | None, n_splits: int = 10, n_repeats: int = 5, seed: int = 0
) -> list[Fold]:
    """``n_repeats`` × ``n_splits`` folds; repetition ``r`` shuffles with seed ``seed + r``."""
    folds = []
    for r in range(n_repeats):
        for k, (tr, te) in enumerate(stratified_group_kfold(y, groups, n_splits, seed + r)):
            folds.append(Fold(r, k, tr, te))
    return folds


def group_train_val_split(
    y: Sequence[int], groups: Sequence | None, val_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Carve a validation split out of training data by group, stratified by label.

    Returns (train_idx, val_idx); ``val_idx`` is empty when ``val_fraction`` is 0 or there are too few
    groups (fewer than 2 per class) to hold any out, in which case training runs without early stopping.
    ``InputError`` when ``val_fraction`` is outside [0, 1).
    """
    y = np.asarray(y)
    g = _groups(y, groups)
    if not 0 <= val_fraction < 1:
        raise InputError(
            f"val_fraction {val_fraction} is outside [0, 1)",
            fix="give the share of training groups held out for early stopping, e.g. 0.2 (0: no validation split)",
        )
    if val_fraction == 0:
        return np.arange(len(y)), np.zeros(0, dtype=int)
    n_splits = max(2, int(round(1.0 / val_fraction)))
    groups_per_class = [len(np.unique(g[y == c])) for c in np.unique(y)]
    if len(groups_per_class) < 2 or min(groups_per_class) < 2:
        return np.arange(len(y)), np.zeros(0, dtype=int)
    # tiny training sets: hold out one group per class rather than fail (fewer groups than folds)
    n_splits = min(n_splits, min(groups_per_class))
    tr, va = stratified_group_kfold(y, g, n_splits, seed)[0]
    return tr, va


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Mean, sample standard deviation, standard error of the mean and count, ignoring NaN."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    arr = arr[np.isfinite(arr)]
    n = arr.size
    mean = float(arr.mean()) if n else float("nan")
    sd = float(arr.std(ddof=1)) if n > 1 else float("nan")
    se = sd / np.sqrt(n) if n > 1 else float("nan")
    return {"mean": mean, "sd": sd, "se": float(se), "n": int(n)}
