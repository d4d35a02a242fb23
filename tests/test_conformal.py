"""Split-conformal three-way screen: coverage at the chosen error rate, referrals, the saved screen."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from interview_mil.errors import ConfigError, InputError
from interview_mil.mil.conformal import (
    REFER,
    SCREEN_NEGATIVE,
    SCREEN_POSITIVE,
    ConformalScreen,
    coverage_report,
    cv_coverage,
    screen_of,
)


def scored(n: int, seed: int, strength: float = 2.5):
    """Calibrated probabilities of a model of moderate skill, with labels drawn from them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, strength, n)
    p = 1 / (1 + np.exp(-z))
    return p, (rng.random(n) < p).astype(int)


@pytest.mark.parametrize("alpha", [0.1, 0.2])
@pytest.mark.parametrize("class_conditional", [False, True])
def test_coverage_is_one_minus_alpha_on_new_interviews(alpha, class_conditional):
    p_cal, y_cal = scored(4000, 0)
    p_new, y_new = scored(20000, 1)
    screen = ConformalScreen.fit(p_cal, y_cal, alpha, class_conditional)
    report = coverage_report(screen, p_new, y_new)
    assert abs(report["coverage"] - (1 - alpha)) < 0.02
    assert 0 < report["referred"] < 1
    if class_conditional:  # the promise holds within the depressed and within the controls
        assert report["coverage_depressed"] > 1 - alpha - 0.025
        assert report["coverage_control"] > 1 - alpha - 0.025


def test_a_smaller_error_rate_refers_more_interviews():
    p_cal, y_cal = scored(2000, 2)  # a model that errs on about 18 % of interviews
    p_new, y_new = scored(5000, 3)
    referred = [coverage_report(ConformalScreen.fit(p_cal, y_cal, a), p_new, y_new) for a in (0.15, 0.1, 0.05)]
    assert all(r["empty"] == 0 for r in referred)  # below the model's error rate every set holds a class
    referred = [r["referred"] for r in referred]
    assert referred[0] < referred[1] < referred[2]


def test_decisions_read_the_prediction_set():
    p_cal, y_cal = scored(2000, 4)
    screen = ConformalScreen.fit(p_cal, y_cal, 0.1)
    assert screen.t_positive < 0.5 < screen.t_negative  # the uncertain middle holds both classes: referred
    assert screen.decide([0.01, 0.5, 0.99]) == [SCREEN_NEGATIVE, REFER, SCREEN_POSITIVE]


def test_too_few_calibration_interviews_refer_everyone():
    screen = ConformalScreen.fit([0.1, 0.9, 0.2, 0.8, 0.3], [0, 1, 0, 1, 0], alpha=0.1)
    assert screen.decide([0.0, 0.5, 1.0]) == [REFER, REFER, REFER]  # ⌈6 × 0.9⌉ = 6 > 5: no promise possible


def test_bad_alpha_and_bad_calibration_sets_are_clear_errors():
    with pytest.raises(ConfigError, match="alpha"):
        ConformalScreen.fit([0.2, 0.8], [0, 1], 1.5)
    with pytest.raises(InputError, match="0/1 labels"):
        ConformalScreen.fit([0.2, 0.8], [0, 2], 0.1)


def test_the_screen_round_trips_through_bundle_metadata_and_follows_a_new_alpha():
    p_cal, y_cal = scored(500, 5)
    saved = ConformalScreen.fit(p_cal, y_cal, 0.1)
    clf = SimpleNamespace(metadata_={"conformal": saved.to_dict()}, oof_proba_=p_cal, oof_y_=y_cal)
    assert screen_of(clf) == saved
    assert screen_of(clf, 0.3).alpha == 0.3 and screen_of(clf, 0.3).t_positive > saved.t_positive
    assert screen_of(SimpleNamespace(metadata_={})) is None


def test_cv_coverage_calibrates_each_fold_on_the_classifier_or_on_the_other_folds():
    p, y = scored(600, 6)
    folds = [(0, np.arange(k, 600, 3), None) for k in range(3)]
    prob = p[None, :]
    fallback = cv_coverage({"y": y, "prob": prob, "folds": folds}, 0.1)
    assert fallback["source"] == "other folds" and abs(fallback["coverage"] - 0.9) < 0.04
    own = [(0, t, scored(400, 7 + i)) for i, (_, t, _) in enumerate(folds)]
    mine = cv_coverage({"y": y, "prob": prob, "folds": own}, 0.2)
    assert mine["source"] == "classifier" and abs(mine["coverage"] - 0.8) < 0.05 and mine["n"] == 600


# --------------------------------------------------------------- intervals of one interview's probability
def _fitted(n_models: int):
    from interview_mil.mil import InterviewClassifier

    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    bags = []
    for label in y:  # depressed interviews: every turn shifted a little on feature 0
        bag = rng.normal(size=(int(rng.integers(6, 12)), 3))
        bag[:, 0] += 1.0 * label
        bags.append(bag)
    params = dict(pooling="mean", hidden=(8,), max_epochs=15, val_fraction=0.25, patience=15, n_models=n_models)
    return InterviewClassifier(**params).fit(bags, y, np.arange(40)), rng


def test_the_turn_bootstrap_interval_is_wider_for_an_interview_of_few_turns():
    from interview_mil.mil.uncertainty import probability_interval

    clf, rng = _fitted(n_models=1)
    long_bags = [rng.normal(size=(200, 3)) + [0.5, 0, 0] for _ in range(6)]
    short_bags = [b[:3] for b in long_bags]
    wide = probability_interval(clf, short_bags, n_boot=60)
    narrow = probability_interval(clf, long_bags, n_boot=60)
    assert np.all(wide[:, 0] <= wide[:, 1]) and np.all((0 <= wide) & (wide <= 1))
    assert np.median(wide[:, 1] - wide[:, 0]) > 2 * np.median(narrow[:, 1] - narrow[:, 0])
    p = clf.predict_proba(long_bags)[:, 1]
    assert np.all((narrow[:, 0] - 0.02 <= p) & (p <= narrow[:, 1] + 0.02))


def test_the_committee_interval_holds_the_calibrated_committee_probability():
    from interview_mil.errors import ConfigError
    from interview_mil.mil.uncertainty import probability_interval

    clf, rng = _fitted(n_models=3)
    bags = [rng.normal(size=(8, 3)) + [0.5 * k, 0, 0] for k in range(5)]
    spread = probability_interval(clf, bags, method="committee", level=0.999)
    p = clf.predict_proba(bags)[:, 1]  # calibrated, from the mean of the members' logits
    assert np.all((spread[:, 0] - 1e-6 <= p) & (p <= spread[:, 1] + 1e-6))
    assert np.any(spread[:, 1] - spread[:, 0] > 1e-4)  # members trained on different splits disagree
    single, _ = _fitted(n_models=1)
    with pytest.raises(ConfigError, match="n_models"):
        probability_interval(single, bags, method="committee")


# ------------------------------------------------------------------------- what a clinician is shown
def _item(screen, status="ok"):
    import pandas as pd

    from interview_mil.explain.records import ExplainedInterview, InterviewRow

    row = InterviewRow("s1", "/a/s1.wav", 0.62, 1, 0.5, 2, "t1", probability_low=0.41, probability_high=0.8)
    row.screen, row.alpha, row.status = screen, 0.1, status
    row.quality, row.quality_reason = "ok", "speech 40 s"
    turns = pd.DataFrame(
        {
            "turn_id": ["t0", "t1"],
            "turn_index": [0, 1],
            "start": [1.0, 5.0],
            "end": [3.0, 8.0],
            "text": ["hello", "fine"],
            "weight": [0.3, 0.7],
            "rank": [2, 1],
            "contribution": [0.01, 0.1],
        }
    )
    return ExplainedInterview(row, turns, [(0.0, 0.9)], 9.0)


def test_summary_and_report_show_the_interval_the_three_way_decision_and_the_disclaimer():
    from interview_mil import SCREENING_DISCLAIMER
    from interview_mil.explain.report import render_report

    item = _item(REFER)
    assert "0.620 [0.410–0.800] → REFER (conformal, alpha 0.10)" in item.summary()
    page = render_report([item, _item(SCREEN_NEGATIVE)], "t")
    assert "Calibrated probability 0.620</b> (interval 0.410–0.800)" in page
    assert "<b>refer</b>" in page and "screen negative" in page and "Input quality: ok" in page
    assert SCREENING_DISCLAIMER.split(".")[0] in page
    refused = render_report([_item(None, status="insufficient_audio")], "t")
    assert "Not scored" in refused and "Calibrated probability" not in refused
