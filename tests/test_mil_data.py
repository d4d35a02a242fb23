"""Bag padding/mask collate and the training-split imputation + standardisation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from interview_mil.errors import FeatureError
from interview_mil.mil.bags import BagDataset, check_bags, check_labels, collate_bags, pad_bags
from interview_mil.mil.preprocess import FeatureScaler


def test_pad_bags_and_collate_build_masks():
    bags = [np.ones((2, 3)), 2 * np.ones((4, 3))]
    X, mask = pad_bags(bags)
    assert X.shape == (2, 4, 3) and mask.tolist() == [[True, True, False, False], [True] * 4]
    assert float(X[0, 2:].abs().sum()) == 0.0
    ds = BagDataset(bags, y=[0, 1], phq=[3.0, np.nan], weight=[1.0, 2.0])
    batch = collate_bags([ds[1], ds[0]])
    assert batch.X.shape == (2, 4, 3) and batch.mask.sum().item() == 6
    assert batch.y.tolist() == [1.0, 0.0] and torch.isnan(batch.phq[0]) and batch.weight.tolist() == [2.0, 1.0]
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=collate_bags)
    assert next(iter(loader)).mask.shape == (2, 4)


def test_labels_accept_01_bool_and_pm1_only():
    assert check_labels([True, False], 2).tolist() == [1, 0]
    assert check_labels([-1, 1, 1], 3).tolist() == [0, 1, 1]
    with pytest.raises(FeatureError, match="0/1"):
        check_labels([0, 2], 2)
    with pytest.raises(FeatureError):
        check_labels([0, 1], 3)


def test_check_bags_rejects_ragged_and_empty_bags():
    with pytest.raises(FeatureError, match="bag 1 has 2 features but bag 0 has 3"):
        check_bags([np.zeros((2, 3)), np.zeros((2, 2))])
    with pytest.raises(FeatureError, match="no bags"):
        check_bags([])


def test_scaler_learns_from_training_bags_only_and_round_trips_exactly():
    train = [np.array([[1.0, np.nan], [3.0, 10.0]]), np.array([[5.0, 20.0], [np.inf, 30.0]])]
    scaler = FeatureScaler.fit(train, ["a", "b"])
    assert scaler.medians.tolist() == [3.0, 20.0]  # NaN and inf are missing
    assert scaler.indicator_columns == [0, 1] and scaler.output_names == ["a", "b", "a__missing", "b__missing"]
    out = scaler.transform(train)
    stacked = np.concatenate(out)
    assert np.allclose(stacked.mean(0), 0, atol=1e-6) and np.allclose(stacked.std(0), 1, atol=1e-6)
    test = [np.array([[1000.0, np.nan]])]
    before = scaler.to_dict()
    scaler.transform(test)
    assert scaler.to_dict() == before  # scoring never updates the statistics
    again = FeatureScaler.from_dict(json.loads(json.dumps(scaler.to_dict())))
    assert np.array_equal(again.transform_bag(test[0]), scaler.transform_bag(test[0]))


def test_all_missing_training_column_is_a_feature_error_naming_it():
    with pytest.raises(FeatureError, match="pitch"):
        FeatureScaler.fit([np.array([[1.0, np.nan], [2.0, np.nan]])], ["loudness", "pitch"])
