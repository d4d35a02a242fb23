"""Grouped splits never put one participant on both sides; folds cover every bag once per repetition."""

from __future__ import annotations

import numpy as np
import pytest

from interview_mil.errors import InputError
from interview_mil.mil.splits import (
    group_train_val_split,
    repeated_stratified_group_kfold,
    stratified_group_kfold,
)


def _data(seed=0, n_groups=30):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"P{g:03d}" for g in range(n_groups)], rng.integers(1, 5, n_groups))
    y = np.array([int(g[-1]) % 2 for g in groups])  # label constant within a participant
    return y, groups


def test_grouped_folds_never_share_a_participant_and_cover_each_bag_once():
    y, groups = _data()
    folds = repeated_stratified_group_kfold(y, groups, n_splits=5, n_repeats=3, seed=7)
    assert len(folds) == 15
    for r in range(3):
        seen = np.concatenate([f.test for f in folds if f.repeat == r])
        assert sorted(seen.tolist()) == list(range(len(y)))
    for f in folds:
        assert not set(groups[f.train]) & set(groups[f.test])
        assert set(f.train) | set(f.test) == set(range(len(y)))
        assert 0 < y[f.test].mean() < 1  # stratified: both classes in every test fold
    first = [f.test.tolist() for f in folds if f.repeat == 0]
    second = [f.test.tolist() for f in folds if f.repeat == 1]
    assert first != second  # repetitions reshuffle
    for f in folds:  # repetition r is exactly the folds of seed 7 + r (the harness runs one seed at a time)
        train, test = stratified_group_kfold(y, groups, 5, 7 + f.repeat)[f.fold]
        assert np.array_equal(f.train, train) and np.array_equal(f.test, test)


def test_validation_split_is_carved_by_group():
    y, groups = _data(1)
    tr, va = group_train_val_split(y, groups, 0.2, seed=3)
    assert len(va) > 0 and not set(groups[tr]) & set(groups[va])
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(len(y)))
    tr, va = group_train_val_split(np.array([0, 1, 1]), None, 0.2)
    assert len(va) == 0 and len(tr) == 3  # too few bags to hold any out


def test_too_many_folds_is_a_clear_error():
    y, groups = _data(2, n_groups=4)
    with pytest.raises(InputError, match="4 groups"):
        stratified_group_kfold(y, groups, n_splits=5)
