"""Calibration metrics (Brier, ECE, reliability bins), the reliability plot, and subject-bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest

from interview_mil.explain.report import write_reliability_png
from interview_mil.mil.bootstrap import bootstrap_ci, group_gap_stat, oof_stat, participant_draws, win_rate
from interview_mil.mil.metrics import brier_score, calibration_metrics, expected_calibration_error, reliability_bins


def calibrated_sample(n: int, seed: int = 0, sharpen: float = 1.0):
    """Labels drawn from probabilities p; the reported probabilities are p pushed away from 0.5 by
    ``sharpen`` on the logit scale (1.0 = honest)."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 1.2, n)
    y = (rng.random(n) < p).astype(int)
    z = np.log(p / (1 - p)) * sharpen
    return y, 1 / (1 + np.exp(-z))


def test_brier_is_zero_for_certain_correct_answers_and_a_quarter_for_a_coin():
    y = np.array([0, 1, 1, 0])
    assert brier_score(y, y.astype(float)) == 0.0
    assert brier_score(y, np.full(4, 0.5)) == pytest.approx(0.25)


def test_ece_is_small_for_honest_probabilities_and_large_for_overconfident_ones():
    y, honest = calibrated_sample(20000)
    _, overconfident = calibrated_sample(20000, sharpen=4.0)
    assert expected_calibration_error(y, honest) < 0.02
    assert expected_calibration_error(y, overconfident) > 0.1
    assert brier_score(y, honest) < brier_score(y, overconfident)


def test_reliability_bins_cover_every_prediction_and_put_one_in_the_last_bin():
    prob = np.array([0.0, 0.05, 0.1, 0.55, 0.99, 1.0])
    y = np.array([0, 0, 1, 1, 1, 1])
    bins = reliability_bins(y, prob, 10)
    assert sum(b["n"] for b in bins) == len(prob)
    last = bins[-1]
    assert (last["lo"], last["hi"], last["n"]) == (0.9, 1.0, 2)
    summary = calibration_metrics(np.r_[y, 1], np.r_[prob, np.nan])  # unknown probabilities are left out
    assert summary["n"] == 6 and summary["ece_bins"] == 10


def test_reliability_png_is_written(tmp_path):
    y, p = calibrated_sample(500)
    _, bad = calibrated_sample(500, sharpen=3.0)
    path = write_reliability_png(calibration_metrics(y, p), tmp_path / "reliability.png", calibration_metrics(y, bad))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_participant_draws_keep_a_participants_interviews_together():
    groups = np.array(["a", "a", "b", "c", "c", "c"])
    for idx in participant_draws(groups, len(groups), n_boot=50, seed=1):
        drawn = groups[idx]
        assert len(set(drawn.tolist()) & {"a"}) == 0 or list(drawn).count("a") % 2 == 0
        assert list(drawn).count("c") % 3 == 0
        assert len(idx) >= 3  # three participants drawn, each with all their interviews


def test_bootstrap_interval_covers_the_population_auc_and_narrows_with_more_participants():
    def sample(n, seed):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, n)
        return y, 0.25 * (2 * y - 1) + rng.normal(0, 0.5, n)

    def interval(n, seed):
        y, score = sample(n, seed)
        return bootstrap_ci(oof_stat(y, score[None]), np.arange(n), n, n_boot=300, seed=seed)["auc"]

    small, large = interval(40, 0), interval(400, 0)
    assert small["lo"] < small["estimate"] < small["hi"]
    assert (large["hi"] - large["lo"]) < 0.6 * (small["hi"] - small["lo"])
    population = oof_stat(*(lambda y, s: (y, s[None]))(*sample(100_000, 9)), calibration=False)(np.arange(100_000))
    assert large["lo"] - 0.01 < population["auc"] < large["hi"] + 0.01


def test_win_rate_says_how_often_the_better_model_ranks_first():
    rng = np.random.default_rng(3)
    n = 120
    y = rng.integers(0, 2, n)
    good = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.25, n), 0, 1)
    coin = rng.random(n)
    groups = np.arange(n)
    wins = win_rate(oof_stat(y, good[None]), oof_stat(y, coin[None]), groups, n, n_boot=200)
    assert wins["auc"] > 0.95 and wins["brier"] > 0.95
    same = win_rate(oof_stat(y, good[None]), oof_stat(y, good[None]), groups, n, n_boot=50)
    assert same["auc"] == 0.5


def test_gender_gap_interval_excludes_zero_only_when_one_gender_is_scored_worse():
    rng = np.random.default_rng(5)
    n = 300
    y, gender = rng.integers(0, 2, n), np.where(rng.random(n) < 0.5, "F", "M")
    noise = np.where(gender == "F", 0.15, 0.6)  # the model is much worse for M
    prob = np.clip(0.5 + 0.25 * (2 * y - 1) + rng.normal(0, 1, n) * noise, 0, 1)
    gap = bootstrap_ci(group_gap_stat(y, prob[None], (prob >= 0.5)[None], gender), np.arange(n), n, 300)
    assert gap["auc_gap"]["lo"] > 0
    fair = np.clip(0.5 + 0.25 * (2 * y - 1) + rng.normal(0, 0.3, n), 0, 1)
    gap = bootstrap_ci(group_gap_stat(y, fair[None], (fair >= 0.5)[None], gender), np.arange(n), n, 300)
    assert gap["auc_gap"]["lo"] < 0 < gap["auc_gap"]["hi"]
