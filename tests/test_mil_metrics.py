"""Metrics against hand-computed values; threshold selection; aggregation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from interview_mil.errors import ConfigError
from interview_mil.mil.metrics import (
    binary_metrics,
    choose_threshold,
    localisation_auc,
    metrics_by_group,
    regression_metrics,
    roc_auc,
)
from interview_mil.mil.splits import summarize

Y = [1, 1, 1, 0, 0, 0, 0]
P = [0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.4]


def test_binary_metrics_match_hand_computed_values():
    # at 0.5: predictions 1,1,0,1,0,0,0 → tp=2 fn=1 fp=1 tn=3
    m = binary_metrics(Y, P, 0.5)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (2, 1, 1, 3)
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(3 / 4)
    assert m["f1_depressed"] == pytest.approx(2 / 3)  # 2·2 / (2·2 + 1 + 1)
    assert m["f1_control"] == pytest.approx(3 / 4)  # 2·3 / (2·3 + 1 + 1)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 3 / 4) / 2)
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 3 / 4) / 2)
    # AUC: pairs (pos > neg): 0.9 beats 4, 0.6 beats 3, 0.2 beats 1 → 8 / 12
    assert m["auc"] == pytest.approx(8 / 12)


def test_auc_handles_ties_and_agrees_with_sklearn():
    assert roc_auc([1, 0], [0.5, 0.5]) == 0.5
    assert math.isnan(roc_auc([1, 1], [0.2, 0.3]))
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    s = rng.integers(0, 5, 50) / 4  # many ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_per_gender_breakdown_skips_unknown():
    gender = ["f", "m", "f", "m", None, "f", float("nan")]
    by = metrics_by_group(Y, P, gender, 0.5)
    assert sorted(by) == ["f", "m"]
    assert by["f"]["n"] == 3 and by["m"]["n"] == 2
    assert by["f"]["tp"] == 1 and by["f"]["fn"] == 1 and by["f"]["tn"] == 1  # f: (1,.9) (1,.2) (0,.3)
    assert metrics_by_group(Y, P, None) == {}


def test_regression_metrics():
    r = regression_metrics([10, 0, np.nan, 4], [13, 1, 5, 4])
    assert r["n"] == 3
    assert r["rmse"] == pytest.approx(math.sqrt((9 + 1 + 0) / 3))
    assert r["mae"] == pytest.approx((3 + 1 + 0) / 3)


def test_threshold_maximising_f1():
    y, p = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    # best F1 (0.8) when 0.35, 0.4 and 0.8 are positive: between 0.1 and 0.35 → midpoint 0.225
    assert choose_threshold(y, p, "f1") == pytest.approx(0.225)


def test_threshold_for_a_target_sensitivity():
    y, p = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert choose_threshold(y, p, "sensitivity", 1.0) == pytest.approx(0.225)
    assert choose_threshold(y, p, "sensitivity", 0.5) == pytest.approx(0.6)  # only 0.8 above: sens 0.5
    t = choose_threshold(y, p, "sensitivity", 0.5)
    assert binary_metrics(y, p, t)["specificity"] == 1.0
    assert choose_threshold([1, 1], [0.3, 0.9]) == 0.5  # one class only: no information
    with pytest.raises(ConfigError):
        choose_threshold(y, p, "youden")


def test_summarize_mean_sd_and_standard_error():
    s = summarize([0.8, 0.9, 1.0, float("nan")])
    assert s["n"] == 3 and s["mean"] == pytest.approx(0.9)
    assert s["sd"] == pytest.approx(0.1) and s["se"] == pytest.approx(0.1 / math.sqrt(3))


def test_localisation_auc_pools_instances_of_positive_bags():
    scores = [[0.9, 0.1, 0.2], [0.3, 0.8], [5.0, 6.0]]
    truth = [[1, 0, 0], [0, 1], [0, 0]]
    assert localisation_auc(scores, truth, bag_labels=[1, 1, 0]) == 1.0  # negative bag ignored
    assert localisation_auc(scores, truth) == pytest.approx(
        roc_auc([1, 0, 0, 0, 1, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.8, 5.0, 6.0])
    )
