"""The cross-validation harness: the figures of ``bags-cv`` stay what they were, a custom splitter never
leaks a test bag into training, per-seed summaries, the baseline and turn localisation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from interview_mil.cli.main import main
from interview_mil.errors import ConfigError, InputError
from interview_mil.mil import InterviewClassifier, cross_validate, evaluation, stratified_group_kfold

PARAMS = dict(
    hidden=(16,),
    layer_norm=False,
    attention_dim=8,
    dropout=0.0,
    input_dropout=0.0,
    max_epochs=40,
    patience=15,
    batch_size=16,
    lr=5e-3,
    val_fraction=0.0,
    threshold=0.5,
)


def planted_bags(n_bags: int, seed: int, shift: float = 4.0, n_features: int = 4):
    """Positive bags (odd positions) hold one instance with feature 0 shifted; two bags per participant.
    Returns (bags, y, groups, planted index per bag or -1)."""
    rng = np.random.default_rng(seed)
    bags, planted = [], []
    y = np.arange(n_bags) % 2
    for label in y:
        bag = rng.normal(size=(int(rng.integers(5, 11)), n_features))
        k = int(rng.integers(len(bag))) if label else -1
        if label:
            bag[k, 0] += shift
        bags.append(bag)
        planted.append(k)
    return bags, y, np.arange(n_bags) // 2, np.array(planted)


def _planted_table(path, seed: int = 0, n_bags: int = 36) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_bags):
        label = b % 2
        n = int(rng.integers(3, 7))
        k = int(rng.integers(n))
        for i in range(n):
            rows.append(
                {
                    "bag_id": f"b{b}",
                    "bag_label": label,
                    "subject": f"s{b // 2}",
                    "f1": rng.normal() + (5.0 if label and i == k else 0.0),
                    "f2": rng.normal(),
                    "f3": rng.normal(),
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)


# Recorded with the code before the harness was rewritten (``repeats`` and ``seed`` arguments, repetition r
# with split seed and model seed seed + r): (repeat, fold, n_train, best_epoch, accuracy, AUC) per fold.
BEFORE_FOLDS = [
    (0, 0, 24, 28, 0.75, 0.5833333333333334),
    (0, 1, 24, 30, 0.8333333333333334, 0.9444444444444444),
    (0, 2, 24, 21, 0.3333333333333333, 0.4444444444444444),
    (1, 0, 24, 30, 0.5833333333333334, 0.8333333333333334),
    (1, 1, 24, 20, 0.4166666666666667, 0.4722222222222222),
    (1, 2, 24, 30, 0.5833333333333334, 0.5833333333333334),
]
BEFORE_SUMMARY = {"accuracy_mean": 0.5833333333333334, "auc_mean": 0.6435185185185185}
BEFORE_PER_REPEAT = {"auc": 0.6604938271604939, "accuracy": 0.5833333333333333}


def test_bags_cv_figures_are_those_of_the_code_before_the_harness(tmp_path, capsys):
    table, out = tmp_path / "planted.csv", tmp_path / "result.json"
    _planted_table(table)
    code = main(
        [
            "bags-cv",
            str(table),
            "--group-col",
            "subject",
            "--folds",
            "3",
            "--repeats",
            "2",
            "--seed",
            "3",
            "--hidden",
            "16",
            "--max-epochs",
            "30",
            "--batch-size",
            "16",
            "--lr",
            "0.005",
            "--val-fraction",  # the classifier's own validation split and single network, as then
            "0.2",
            "--n-models",
            "1",
            "--calibration",  # the probabilities as they were then (Platt scaling came later)
            "none",
            "--quiet",
            "--out",
            str(out),
        ]
    )
    assert code == 0 and "bag accuracy 0.583" in capsys.readouterr().out
    result = json.loads(out.read_text())
    got = [(f["repeat"], f["fold"], f["n_train"], f["best_epoch"], f["accuracy"], f["auc"]) for f in result["folds"]]
    assert got == [pytest.approx(row, abs=1e-12) for row in BEFORE_FOLDS]
    assert [f["seed"] for f in result["folds"]] == [3, 3, 3, 4, 4, 4]
    for key, value in BEFORE_SUMMARY.items():
        assert result[key] == pytest.approx(value, abs=1e-12)
    for key, value in BEFORE_PER_REPEAT.items():
        assert result["per_repeat"][key]["mean"] == pytest.approx(value, abs=1e-12)
    settings = result["settings"]
    assert settings["seeds"] == [3, 4] and settings["seed"] == 3 and settings["repeats"] == 2
    assert settings["params"]["seed"] == 3


def test_a_custom_splitter_never_trains_on_test_bags_and_the_planted_signal_is_learned(monkeypatch):
    bags, y, groups, _ = planted_bags(48, seed=1)
    where = {b.tobytes(): i for i, b in enumerate(bags)}
    seen: dict[str, list[set[int]]] = {"fit": [], "scored": []}

    class Recording(InterviewClassifier):
        def fit(self, bags, y, *args, **kwargs):
            seen["fit"].append({where[np.asarray(b).tobytes()] for b in bags})
            return super().fit(bags, y, *args, **kwargs)

        def predict_proba(self, bags, calibrated=True):
            if calibrated:  # the harness also reads the uncalibrated score of the same test bags
                seen["scored"].append({where[np.asarray(b).tobytes()] for b in bags})
            return super().predict_proba(bags, calibrated=calibrated)

    monkeypatch.setattr(evaluation, "InterviewClassifier", Recording)
    pool = np.arange(40)  # CV over a subset: the last 8 bags are never used

    def splitter(seed):
        for train, test in stratified_group_kfold(y[pool], groups[pool], 4, seed):
            yield pool[train], pool[test]

    res = cross_validate(bags, y, groups, PARAMS, seeds=[0, 1], splitter=splitter)
    expected = [split for seed in (0, 1) for split in splitter(seed)]
    assert len(res.folds) == len(seen["fit"]) == len(expected) == 8
    for record, fitted, scored, (train, test) in zip(res.folds, seen["fit"], seen["scored"], expected):
        assert fitted == set(train.tolist()) and scored == set(test.tolist()) and not fitted & scored
        assert (record["n_train"], record["n_test"]) == (len(train), len(test))
    assert not set().union(*seen["fit"], *seen["scored"]) & set(range(40, 48))
    assert res.summary["auc"]["mean"] > 0.9 and res.summary["per_repeat"]["auc"]["n"] == 2
    assert res.settings["splits"] == "custom" and res.settings["seeds"] == [0, 1]


def test_a_leaking_splitter_or_a_seed_in_params_is_refused():
    bags, y, groups, _ = planted_bags(12, seed=2)
    with pytest.raises(InputError, match="both sides"):
        cross_validate(bags, y, groups, PARAMS, seeds=[0], splitter=lambda s: [(np.arange(8), np.arange(6, 12))])
    with pytest.raises(InputError, match="outside"):
        cross_validate(bags, y, groups, PARAMS, seeds=[0], splitter=lambda s: [(np.arange(6), np.arange(6, 13))])
    with pytest.raises(ConfigError, match="seed"):
        cross_validate(bags, y, groups, {**PARAMS, "seed": 1}, folds=2, seeds=[0])


def test_per_seed_summaries_localisation_baseline_and_gender():
    bags, y, groups, planted = planted_bags(40, seed=3)
    truth = [(np.arange(len(b)) == k).astype(int) for b, k in zip(bags, planted)]
    gender = np.where(np.arange(40) % 4 < 2, "f", "m")
    params = {**PARAMS, "pooling": "attention"}
    res = cross_validate(
        bags, y, groups, params, folds=4, seeds=[5, 6], gender=gender, instance_truth=truth, baseline=True
    )
    assert [s["seed"] for s in res.per_seed] == [5, 6] and [f["seed"] for f in res.folds] == [5] * 4 + [6] * 4
    assert res.seed_summary["auc"]["n"] == 2 and res.seed_summary["localisation_auc"]["mean"] > 0.9
    assert res.baseline_seed_summary is not None and set(res.per_seed[0]["baseline"]) >= {"auc", "accuracy"}
    # one strongly planted turn in 5-10: the strong peer's 90th-percentile functional finds it too
    assert res.seed_summary["auc"]["mean"] > 0.9 and res.baseline_seed_summary["auc"]["mean"] > 0.8
    assert set().union(*(f["by_gender"] for f in res.folds)) == {"f", "m"}
    assert all(sum(g["n"] for g in f["by_gender"].values()) == f["n_test"] for f in res.folds)
    alone = cross_validate(
        bags, y, groups, params, folds=4, seeds=[6], gender=gender, instance_truth=truth, baseline=True
    )

    def same(records):  # NaN-safe comparison of fold records, without timings and repetition numbers
        return json.dumps([{k: v for k, v in f.items() if k not in ("seconds", "repeat")} for f in records])

    assert same(alone.folds) == same(res.folds[4:])  # a seed's folds do not depend on the other seeds run


def test_peers_see_the_raw_turn_features_whatever_the_model_makes_of_them():
    """A whole-interview shift: the speaker-relative model cannot see it, the interview-level peer (on the
    same raw turn features) can; and worker processes give the same fold records as one process."""
    rng = np.random.default_rng(4)
    y = np.arange(30) % 2
    bags = [rng.normal(size=(6, 3)) + np.r_[1.2 * label, 0.0, 0.0] for label in y]
    params = {**PARAMS, "speaker_relative": "replace"}
    res = cross_validate(bags, y, None, params, folds=3, seeds=[0], baseline=True)
    assert res.baseline_seed_summary["auc"]["mean"] > 0.8 and res.seed_summary["auc"]["mean"] < 0.75
    two = cross_validate(bags, y, None, params, folds=3, seeds=[0], baseline=True, n_jobs=2)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    assert json.dumps(strip(two.folds)) == json.dumps(strip(res.folds))


def test_the_baseline_is_tuned_like_the_model_and_may_leave_the_embedding_out():
    """With 384 embedding dimensions beside a few turn features on a few dozen interviews, functionals of
    everything drown the signal: the strong baseline chooses, on its inner folds, whether to read them."""
    from interview_mil.mil.metrics import roc_auc
    from interview_mil.mil.peers import FunctionalsBaseline

    names = ["pitch_sd", "pause_ratio"] + [f"emb_{k:03d}" for k in range(384)]

    def bags(n, seed):
        r = np.random.default_rng(seed)
        y = np.arange(n) % 2
        out = [r.normal(size=(6, len(names))) + np.r_[0.8 * y[i], 0.0, np.zeros(384)] for i in range(n)]
        return out, y

    train, y = bags(40, 1)
    test, y_test = bags(200, 2)
    best = FunctionalsBaseline.fit_best(train, y, None, 0, names)
    full = FunctionalsBaseline.fit(train, y, None, 0)
    assert best.columns == [0, 1]
    assert roc_auc(y_test, best.predict_proba(test)[:, 1]) > roc_auc(y_test, full.predict_proba(test)[:, 1]) + 0.1
