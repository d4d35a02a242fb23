"""Explanation tables, faithfulness, the HTML report (rendered in headless Chromium when installed)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from interview_mil.data.records import Interview, Turn
from interview_mil.explain import (
    INTERVIEW_COLUMNS,
    TURN_COLUMNS,
    ExplainedInterview,
    InterviewRow,
    explain_bag,
    explain_bags,
    precision_at_k,
    precision_ceiling,
    write_tables,
)
from interview_mil.features import Bag
from interview_mil.mil import InterviewClassifier


def planted_bags(n_bags=40, n_turns=8, dim=4, seed=0):
    """Positive bags carry one or two 'marker' instances (feature 0 shifted by +3); negatives carry none."""
    rng = np.random.default_rng(seed)
    bags, y, markers = [], [], []
    for b in range(n_bags):
        x = rng.normal(size=(n_turns, dim)).astype(np.float32)
        mark = np.zeros(n_turns, dtype=int)
        if b % 2:
            idx = rng.choice(n_turns, size=rng.integers(1, 3), replace=False)
            x[idx, 0] += 3.0
            mark[idx] = 1
        bags.append(x)
        y.append(b % 2)
        markers.append(mark)
    return bags, np.asarray(y), markers


@pytest.fixture(scope="module")
def fitted():
    bags, y, markers = planted_bags()
    clf = InterviewClassifier(
        pooling="attention", hidden=(16,), max_epochs=60, patience=60, lr=3e-3, seed=0, refit=False
    ).fit(bags, y)
    return clf, bags, y, markers


def _turns(iid, n):
    return [Turn(iid, f"{iid}_t{k:03d}", k, 10.0 * k + 2.0, 5.0, text=f"answer {k}") for k in range(n)]


def _bag(iid, X, prosody=None, duration=None, label=None):
    names = [f"f{j}" for j in range(X.shape[1])]
    interview = Interview(str(iid), f"/audio/{iid}.wav", label=label, duration=duration)
    return Bag(interview, _turns(str(iid), len(X)), X, names, prosody)


def test_turn_and_interview_tables(fitted):
    clf, bags, y, markers = fitted
    prosody = pd.DataFrame(
        {"f0_range_st": np.arange(8.0), "pause_ratio": np.linspace(0, 0.7, 8)}, index=[f"7_t{k:03d}" for k in range(8)]
    )
    item = explain_bag(clf, _bag(7, bags[7], prosody), top_k=3)
    row, table = item.row, item.turns
    assert list(table.columns[: len(TURN_COLUMNS)]) == TURN_COLUMNS
    assert (table["audio_path"] == "/audio/7.wav").all() and row.audio_path == "/audio/7.wav"
    assert np.isclose(table["weight"].sum(), 1.0, atol=1e-5)
    assert sorted(table["rank"]) == list(range(1, 9))
    assert table.loc[table["rank"] == 1, "weight"].item() == table["weight"].max()
    assert np.isfinite(table["contribution"]).all()
    assert {"f0_range_st", "f0_range_st_z", "pause_ratio_z"} <= set(table.columns)
    assert abs(table["f0_range_st_z"].mean()) < 1e-9 and np.isclose(table["f0_range_st_z"].std(ddof=0), 1.0)
    assert row.top_turn_ids.split(";") == table.sort_values("rank")["turn_id"].head(3).tolist()
    # the interview probability is the model's own: explaining changes nothing
    assert row.probability == pytest.approx(clf.predict_proba([bags[7]])[0, 1], abs=1e-6)


def test_planted_turns_rank_first_and_removal_is_faithful(fitted):
    clf, bags, y, markers = fitted
    positives = [k for k in range(len(bags)) if y[k] == 1]
    items = explain_bags(
        clf, [_bag(k, bags[k], label=1) for k in positives], top_k=1, markers=[markers[k] for k in positives]
    )
    assert all(i.row.label == 1 for i in items)
    # every positive bag has at least one marker turn: the top-ranked turn should be one of them
    assert precision_at_k(items, 1) >= 0.8
    faithful = [i.row.faithful for i in items]
    assert np.mean(faithful) >= 0.8
    drops = np.array([i.row.prob_drop_top_k - i.row.prob_drop_random_k for i in items])
    assert np.median(drops) > 0


def test_write_tables_and_report(fitted, tmp_path):
    clf, bags, y, markers = fitted
    spans = {"1": [(0.0, 1.5), (12.0, 12.5)]}
    items = explain_bags(clf, [_bag(k, bags[k], duration=90.0) for k in (1, 2)], spans)
    assert items[0].interviewer == spans["1"] and items[1].interviewer == []
    paths = write_tables(items, tmp_path / "out", html=True, title="test report")
    for name in ("interviews_csv", "interviews_parquet", "turns_csv", "turns_parquet", "report"):
        assert paths[name].exists(), name
    turns = pd.read_parquet(paths["turns_parquet"])
    assert len(turns) == 16 and list(turns.columns[: len(TURN_COLUMNS)]) == TURN_COLUMNS
    inter = pd.read_csv(paths["interviews_csv"])
    assert list(inter.columns[: len(INTERVIEW_COLUMNS)]) == INTERVIEW_COLUMNS and len(inter) == 2
    html = paths["report"].read_text()
    assert "<svg" in html and "not a diagnostic device" in html and "<script" not in html
    import re  # self-contained: nothing loaded from elsewhere (XML namespace URIs are names, not loads)

    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", html) and "<link" not in html


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium/Chrome installed to render the report")
def test_report_renders_in_headless_chromium(fitted, tmp_path):
    clf, bags, y, markers = fitted
    items = explain_bags(clf, [_bag(1, bags[1], duration=90.0)])
    paths = write_tables(items, tmp_path, html=True)
    shot = tmp_path / "shot.png"
    dom = subprocess.run(
        [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", paths["report"].as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Most influential turns" in dom.stdout and "<svg" in dom.stdout
    subprocess.run(
        [
            _browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            paths["report"].as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 5  # something was drawn, not a blank page


def test_precision_at_k_and_its_ceiling_on_known_rankings():
    def item(marks, ranks):
        row = InterviewRow("x", "/x.wav", 0.5, 1, 0.5, len(marks), "")
        return ExplainedInterview(row, pd.DataFrame({"marker_truth": marks, "rank": ranks}))

    one_marker = item([False, True, False, False, False], [2, 1, 3, 4, 5])  # marker ranked first
    two_markers = item([True, False, True, False], [4, 1, 2, 3])  # markers ranked 2nd and 4th
    control = item([False, False, False], [1, 2, 3])  # no marker: left out
    items = [one_marker, two_markers, control]
    assert precision_at_k(items, 3) == pytest.approx(2 / 6)
    assert precision_ceiling(items, 3) == pytest.approx(3 / 6)  # 1 of 3 + 2 of 3 at best
    assert precision_at_k(items, 1) == pytest.approx(1 / 2)
    assert precision_ceiling(items, 1) == 1.0
    assert np.isnan(precision_at_k([control], 3)) and np.isnan(precision_ceiling([control], 3))


def test_additive_pooling_contributions_in_the_turn_table_sum_to_the_logit():
    bags, y, _ = planted_bags()
    clf = InterviewClassifier(pooling="additive", hidden=(16,), max_epochs=30, patience=30, lr=3e-3, seed=0)
    clf.fit(bags, y)
    item = explain_bag(clf, _bag(3, bags[3]))
    assert (item.turns["contribution_kind"] == "logit_share").all()
    logit = np.log(item.probability / (1 - item.probability))
    cal = clf.calibration_  # the shares are of the calibrated logit: a · (network logit) + b
    bias = cal.a * float(clf.model_.pool.bag_bias.detach()) + cal.b
    assert item.turns["contribution"].sum() + bias == pytest.approx(logit, abs=5e-4)  # float32 network
    other = explain_bag(InterviewClassifier(pooling="mean", hidden=(8,), max_epochs=3).fit(bags, y), _bag(3, bags[3]))
    assert (other.turns["contribution_kind"] == "leave_one_out").all()


def test_transcript_text_cannot_run_as_a_spreadsheet_formula(fitted, tmp_path):
    """A clinician opens turns.csv in a spreadsheet: an answer transcribed as "=HYPERLINK(...)" or "-2 days
    a week" must show as text, not run; the Parquet table keeps the words as said."""
    clf, bags, y, markers = fitted
    item = explain_bag(clf, _bag(3, bags[3]), top_k=1)
    said = ['=HYPERLINK("http://x","y")', "+1 more", "-2 days a week", "@home", "plain answer"]
    item.turns["text"] = said + ["fine"] * (len(item.turns) - len(said))
    paths = write_tables([item], tmp_path)
    cells = pd.read_csv(paths["turns_csv"])["text"].tolist()[: len(said)]
    assert cells == ["'" + t for t in said[:4]] + ["plain answer"]
    assert pd.read_parquet(paths["turns_parquet"])["text"].tolist()[: len(said)] == said
    assert pd.read_csv(paths["turns_csv"])["weight"].dtype.kind == "f"  # numbers stay numbers


def test_the_printed_probability_lies_inside_its_printed_interval(fitted):
    """The terminal once showed "0.064 [0.03–0.06]": a point outside its own interval. Every interview's
    probability lies inside its interval, in the table and as printed (same rounding)."""
    import re

    clf, bags, y, markers = fitted
    for k in range(12):
        item = explain_bag(clf, _bag(k, bags[k]), top_k=1, interval="bootstrap")
        row = item.row
        assert row.probability_low <= row.probability <= row.probability_high, k
        p, lo, hi = map(float, re.search(r"probability (\S+) \[(\S+)–(\S+)\]", item.summary(1)).groups())
        assert lo <= p <= hi, item.summary(1)


def test_the_phq8_estimate_comes_with_its_cross_validated_error(tmp_path):
    """The report once showed "PHQ-8 estimate 10.2" beside "probability 0.121, screen negative" from a head
    whose cross-validated CCC was 0.27 (RMSE 7.2): an answer far less certain than it looked. The estimate
    now carries the head's cross-validated RMSE and, where its agreement is weak, says so."""
    from interview_mil.explain.report import render_report

    bags, y, _ = planted_bags(n_bags=32, seed=4)
    rng = np.random.default_rng(4)
    phq = np.where(y == 1, 15.0, 5.0) + rng.normal(0, 6, len(y))  # a noisy score: a weak head
    clf = InterviewClassifier(
        hidden=(8,), max_epochs=15, val_fraction=0, n_models=1, interview_head=True, phq_head=True, seed=0
    ).fit(bags, y, groups=list(range(len(y))), phq=np.clip(phq, 0, 24))
    err = clf.phq_error_
    assert err["n"] == len(y) and err["rmse"] > 0 and "rmse_training_mean" in err
    loaded = InterviewClassifier.load(clf.save(tmp_path / "m"))
    assert loaded.phq_error_ == pytest.approx(err)
    item = explain_bag(loaded, _bag(1, bags[1]), top_k=1, interval=None)
    assert item.row.phq8_rmse == pytest.approx(round(err["rmse"], 2))
    text = item.summary(1)
    assert f"± {err['rmse']:.1f} points (cross-validated RMSE" in text
    if err["ccc"] < 0.5:
        assert "weak, read the probability instead" in text
    assert f"± {err['rmse']:.1f} points" in render_report([item], "t")
