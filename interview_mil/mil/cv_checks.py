"""Checks of the splits the cross-validation harness is given: positions in range, no bag on both sides,
no participant on both sides (the leakage that inflates speech-based depression figures most), and
ground-truth marker flags that match the bags."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError


def check_split(train: Sequence[int], test: Sequence[int], n_bags: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer position arrays of one split; raise :class:`InputError` on overlap, range or emptiness."""
    train, test = np.asarray(train, dtype=int).ravel(), np.asarray(test, dtype=int).ravel()
    if not len(train) or not len(test):
        raise InputError(
            f"seed {seed}: a split with {len(train)} training and {len(test)} test bags",
            fix="the splitter must give non-empty (train, test) position arrays",
        )
    if min(train.min(), test.min()) < 0 or max(train.max(), test.max()) >= n_bags:
        raise InputError(
            f"seed {seed}: split positions outside 0..{n_bags - 1}",
            fix="the splitter must return positions into the bags given to cross_validate",
        )
    if np.intersect1d(train, test).size:
        raise InputError(
            f"seed {seed}: {np.intersect1d(train, test).size} bag(s) on both sides of a split",
            fix="the splitter must never put a test bag in the training side",
        )
    return train, test


def check_participants(train: np.ndarray, test: np.ndarray, groups: np.ndarray | None, seed: int) -> None:
    """:class:`InputError` naming the participants with interviews on both sides of a split."""
    if groups is None:
        return
    shared = sorted({str(g) for g in groups[train]} & {str(g) for g in groups[test]})
    if shared:
        raise InputError(
            f"seed {seed}: participant(s) {shared[:10]} have interviews in both the training and the evaluation "
            f"side of a split ({len(shared)} in all): the model would be scored on people it was trained on",
            fix="assign every interview of a participant to one split (the manifest's group / split columns)",
        )


def check_truth(instance_truth: Sequence | None, bags: list[np.ndarray]) -> list[np.ndarray] | None:
    if instance_truth is None:
        return None
    truth = [np.asarray(t, dtype=int).ravel() for t in instance_truth]
    bad = [i for i, (t, b) in enumerate(zip(truth, bags)) if len(t) != len(b)]
    if len(truth) != len(bags) or bad:
        raise InputError(
            f"instance_truth: {len(truth)} entries for {len(bags)} bags; bags with a wrong length: {bad[:5]}",
            fix="give one 0/1 flag per instance of every bag",
        )
    return truth
