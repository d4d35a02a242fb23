"""The cross-validation harness of :class:`InterviewClassifier` settings (``bags-cv``, the experiment's
``evaluate`` and the benchmarks all run this one loop).

For each seed ``s`` (repetition ``r`` = its position in ``seeds``) the bags are split by
``stratified_group_kfold(y, groups, folds, s)``, or by ``splitter(s)`` when given; every split trains a
fresh ``InterviewClassifier(**params, seed=s)`` on the training side (which carves its own validation
split by group for early stopping and the threshold, and fits its own embedding projection) and scores
it on the held-out side. Results are aggregated over all folds (mean, sd, standard error), per
repetition (out-of-fold predictions pooled) and over seeds (mean ± sd of the per-seed means); the best
run is never picked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from .bags import check_bags, check_labels
from .classifier import InterviewClassifier
from .conformal import classifier_calibration
from .cv_checks import check_participants, check_split, check_truth
from .metrics import (
    binary_metrics,
    calibration_metrics,
    localisation_auc,
    metrics_by_group,
    regression_metrics,
    roc_auc,
)
from .peers import FunctionalsBaseline, TopKTurns
from .splits import stratified_group_kfold, summarize

FOLD_METRICS = (
    "accuracy",
    "auc",
    "f1_depressed",
    "f1_control",
    "macro_f1",
    "balanced_accuracy",
    "sensitivity",
    "specificity",
)
Splitter = Callable[[int], Iterable[tuple[Sequence[int], Sequence[int]]]]


@dataclass
class CVResult:
    """``folds``: one record per fold (metrics, threshold, best epoch, seconds, ...); ``summary``: per
    metric ``{mean, sd, se, n}`` over all folds, plus ``per_repeat`` pooled out-of-fold accuracy and AUC,
    ``seconds_total`` and PHQ-8 RMSE/MAE when predicted; ``settings``: everything needed to rerun;
    ``per_seed``: one dict per seed (``seed``, each metric's mean over that seed's folds, and
    ``localisation_auc`` / ``baseline`` means when run); ``seed_summary``: per metric ``summarize`` of the
    per-seed means (mean ± sd over seeds); ``baseline_seed_summary``: the same for the baseline, or None.
    ``predictions`` (arrays, not JSON): ``y``, ``groups``, out-of-fold ``prob`` / ``pred`` (decision at the
    fold's threshold) / ``uncalibrated`` / ``baseline`` as (n_seeds, n_bags) arrays (NaN: not scored), and
    ``folds``: per fold (repeat, test positions, the classifier's own calibration set or None)."""

    folds: list[dict] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    per_seed: list[dict] = field(default_factory=list)
    seed_summary: dict[str, dict] = field(default_factory=dict)
    baseline_seed_summary: dict[str, dict] | None = None
    sil_seed_summary: dict[str, dict] | None = None
    predictions: dict[str, Any] = field(default_factory=dict)

    def flat_summary(self) -> dict[str, float]:
        """``{metric}_mean``, ``{metric}_sd``, ``{metric}_se`` for every fold metric."""
        out = {}
        for name in FOLD_METRICS:
            stats = self.summary.get(name, {})
            for key in ("mean", "sd", "se"):
                out[f"{name}_{key}"] = stats.get(key, float("nan"))
        return out


def _seed_means(records: list[dict], names: Sequence[str], key: str | None = None) -> dict[str, float]:
    pick = (lambda r: r) if key is None else (lambda r: r.get(key, {}))
    return {n: summarize([pick(r).get(n, np.nan) for r in records])["mean"] for n in names}


def cross_validate(
    bags: Sequence[np.ndarray],
    y: Sequence[int],
    groups: Sequence | None = None,
    params: dict | None = None,
    *,
    folds: int = 10,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    splitter: Splitter | None = None,
    phq: Sequence[float] | None = None,
    gender: Sequence | None = None,
    feature_names: Sequence[str] | None = None,
    instance_truth: Sequence[Sequence[int]] | None = None,
    baseline: bool = False,
    sil: bool = False,
    on_fold: Callable[[dict], None] | None = None,
    n_jobs: int = 1,
) -> CVResult:
    """Cross-validate ``InterviewClassifier(**params, seed=s)`` once per seed ``s`` in ``seeds``.

    ``bags``: raw (n_i, F) arrays (the classifier fits its own projection and scaling per fold);
    ``groups``: participant id per bag; ``params``: classifier keywords — a ``seed`` key is an error
    (the seeds come from ``seeds``). ``splitter(s)``: (train, test) position arrays for seed ``s``
    instead of grouped k-fold (e.g. one dev split, or CV over a subset). ``phq`` trains the PHQ-8 head
    and adds RMSE/MAE; ``gender`` adds per-gender metrics; ``instance_truth``: one 0/1 array per bag
    (true positive instances) adds the turn-localisation AUC (weight × n_instances against the truth,
    positive test bags); ``baseline`` also scores the strong interview-level peer (functionals of the turn
    features, L2 logistic regression tuned by inner CV: ``mil.peers.FunctionalsBaseline``) and ``sil`` the
    single-instance peer (``mil.peers.TopKTurns``), both on the same raw turn features, at threshold 0.5.
    ``on_fold`` gets each fold record as it is made; ``n_jobs`` > 1 runs the folds in that many worker
    processes (the same records, in the same order).
    """
    bags = check_bags(bags)
    y = check_labels(y, len(bags))
    params = dict(params or {})
    if "seed" in params:
        raise ConfigError(
            "params holds 'seed': cross_validate seeds the model with each of `seeds`",
            fix="drop 'seed' from params and pass seeds=[...]",
        )
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ConfigError("cross_validate needs at least one seed", fix="pass seeds=[0] or more")
    gender_arr = None if gender is None else np.asarray(gender, dtype=object)
    phq_arr = None if phq is None else np.asarray(phq, dtype=float)
    groups_arr = None if groups is None else np.asarray(groups)
    truth = check_truth(instance_truth, bags)
    result = CVResult(
        settings={
            "params": params,
            "folds": folds if splitter is None else None,
            "splits": "stratified_group_kfold" if splitter is None else "custom",
            "seeds": seeds,
            "repeats": len(seeds),
            "n_bags": len(bags),
            "n_positive": int(y.sum()),
            "grouped": groups is not None,
            "baseline": baseline,
            "sil": sil,
        }
    )
    oof = np.full((len(seeds), len(bags)), np.nan)  # out-of-fold probabilities
    oof_pred = np.zeros((len(seeds), len(bags)), dtype=int)  # out-of-fold decisions at each fold's threshold
    tasks = []
    for r, seed in enumerate(seeds):
        splits = stratified_group_kfold(y, groups_arr, folds, seed) if splitter is None else splitter(seed)
        for k, split in enumerate(splits):
            train, test = check_split(*split, len(bags), seed)
            check_participants(train, test, groups_arr, seed)
            tasks.append((r, seed, k, train, test))
    shared = (bags, y, groups_arr, phq_arr, gender_arr, truth, params, feature_names, baseline, sil)
    if n_jobs == 1:
        outcomes = (_run_fold(shared, *task) for task in tasks)
    else:  # folds are independent: run them in worker processes, results in task order
        from joblib import Parallel, delayed

        outcomes = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(_run_fold)(shared, *t) for t in tasks)
    extra = {k: np.full((len(seeds), len(bags)), np.nan) for k in ("uncalibrated", "baseline", "phq")}
    fold_sets = []
    for (r, _, _, _, test), (prob, threshold, record, more) in zip(tasks, outcomes):
        oof[r, test] = prob
        oof_pred[r, test] = prob >= threshold
        for key in extra:
            extra[key][r, test] = more[key]
        fold_sets.append((r, test, more["calibration"]))
        result.folds.append(record)
        if on_fold is not None:
            on_fold(record)
    _summarise(result, y, oof, oof_pred, truth is not None, baseline, sil)
    scored = np.isfinite(oof)
    result.predictions = {
        "y": y,
        "groups": groups_arr,
        "prob": oof,
        "pred": np.where(scored, oof_pred, 0),
        "folds": fold_sets,
        "phq_true": phq_arr,
    }
    result.predictions.update({k: v if np.isfinite(v).any() else None for k, v in extra.items()})
    pooled = lambda p: calibration_metrics(np.broadcast_to(y, p.shape)[scored], p[scored])  # noqa: E731
    result.summary["calibration"] = pooled(oof)
    if result.predictions["uncalibrated"] is not None:
        result.summary["calibration_uncalibrated"] = pooled(extra["uncalibrated"])
    return result


def _run_fold(shared: tuple, r: int, seed: int, k: int, train: np.ndarray, test: np.ndarray):
    """Fit and score one outer fold: (test probabilities, threshold, fold record)."""
    bags, y, groups_arr, phq_arr, gender_arr, truth, params, feature_names, baseline, sil = shared
    start = time.perf_counter()
    clf = InterviewClassifier(**params, seed=seed)
    train_bags, test_bags = [bags[i] for i in train], [bags[i] for i in test]
    g_train = None if groups_arr is None else groups_arr[train]
    clf.fit(train_bags, y[train], g_train, None if phq_arr is None else phq_arr[train], feature_names)
    prob = clf.predict_proba(test_bags)[:, 1]
    raw = getattr(clf, "predict_proba_uncalibrated", None)
    more = {
        "uncalibrated": np.nan if raw is None else raw(test_bags)[:, 1],
        "calibration": classifier_calibration(clf),
        "baseline": np.nan,
        "phq": np.nan,
    }
    record = {
        "repeat": r,
        "seed": seed,
        "fold": k,
        "n_train": len(train),
        "n_test": len(test),
        "best_epoch": clf.best_epoch_,
        "threshold": clf.threshold_,
        **{f"val_{key}": v for key, v in clf.validation_.items()},
        **binary_metrics(y[test], prob, clf.threshold_),
    }
    if clf.selected_:
        record["selected"] = clf.selected_
    if truth is not None:
        scores = [e.weights * len(e.weights) for e in clf.explain(test_bags)]
        record["localisation_auc"] = localisation_auc(scores, [truth[i] for i in test], y[test])
    if baseline or sil:
        test_truth = None if truth is None else [truth[i] for i in test]
        peers = _peers(
            train_bags, y[train], g_train, test_bags, y[test], seed, baseline, sil, test_truth, feature_names
        )
        more["baseline"] = peers.pop("baseline_prob", np.nan)
        record.update(peers)
    if gender_arr is not None:
        record["by_gender"] = metrics_by_group(y[test], prob, gender_arr[test], clf.threshold_)
    if phq_arr is not None and clf.model_config_.phq_head:
        more["phq"] = clf.predict_phq8(test_bags)
        record["phq8"] = regression_metrics(phq_arr[test], more["phq"])
        trivial = np.full(len(test), np.nanmean(phq_arr[train]))  # the training mean, same folds
        record["phq8_trivial"] = regression_metrics(phq_arr[test], trivial)
    record["seconds"] = time.perf_counter() - start
    return prob, clf.threshold_, record, more


def _peers(tr, y_train, g_train, te, y_test, seed, baseline, sil, truth, names=None) -> dict:
    """Fold records of the peers, fitted on the same training bags and the same raw turn features (the
    baseline on all of them or without the embedding, whichever its inner folds prefer)."""
    out = {}
    if baseline:
        base = FunctionalsBaseline.fit_best(tr, y_train, g_train, seed, names)
        out["baseline_prob"] = base.predict_proba(te)[:, 1]
        out["baseline"] = {**binary_metrics(y_test, out["baseline_prob"], 0.5), "C": base.C}
    if sil:
        peer = TopKTurns.fit(tr, y_train, g_train, seed)
        out["sil"] = {**binary_metrics(y_test, peer.predict_proba(te)[:, 1], 0.5), "C": peer.C}
        if truth is not None:
            out["sil"]["localisation_auc"] = localisation_auc(peer.turn_probabilities(te), truth, y_test)
    return out


def _summarise(
    result: CVResult,
    y: np.ndarray,
    oof: np.ndarray,
    oof_pred: np.ndarray,
    localised: bool,
    baseline: bool,
    sil: bool = False,
) -> None:
    """Fill ``summary``, ``per_seed``, ``seed_summary`` and ``baseline_seed_summary`` from ``folds``."""
    names = FOLD_METRICS + (("localisation_auc",) if localised else ())
    folds = result.folds
    result.summary = {name: summarize([r.get(name, np.nan) for r in folds]) for name in names}
    phq_folds = [r["phq8"] for r in folds if "phq8" in r]
    for key in ("phq8", "phq8_trivial") if phq_folds else ():
        for m in ("rmse", "mae", "ccc"):
            result.summary[f"{key}_{m}"] = summarize([r[key][m] for r in folds if key in r])
    tested = np.isfinite(oof)  # (repeats, n_bags): bags scored in each repetition
    result.summary["per_repeat"] = {
        "auc": summarize([roc_auc(y[t], p[t]) for t, p in zip(tested, oof)]),
        "accuracy": summarize([float(np.mean(d[t] == y[t])) if t.any() else np.nan for t, d in zip(tested, oof_pred)]),
    }
    result.summary["seconds_total"] = float(sum(r["seconds"] for r in folds))
    for r, seed in enumerate(result.settings["seeds"]):
        mine = [f for f in folds if f["repeat"] == r]
        record = {"seed": seed, "n_folds": len(mine), **_seed_means(mine, names)}
        for key in ("phq8", "phq8_trivial") if any("phq8" in f for f in mine) else ():
            for m in ("rmse", "mae", "ccc"):
                record[f"{key}_{m}"] = summarize([f[key][m] for f in mine if key in f])["mean"]
        if baseline:
            record["baseline"] = _seed_means(mine, FOLD_METRICS, "baseline")
        if sil:
            record["sil"] = _seed_means(mine, FOLD_METRICS + (("localisation_auc",) if localised else ()), "sil")
        result.per_seed.append(record)
    phq_names = [f"{k}_{m}" for k in ("phq8", "phq8_trivial") for m in ("rmse", "mae", "ccc")]
    extra = tuple(n for n in phq_names if any(n in s for s in result.per_seed))
    result.seed_summary = {n: summarize([s.get(n, np.nan) for s in result.per_seed]) for n in names + extra}
    if baseline:
        result.baseline_seed_summary = {n: summarize([s["baseline"][n] for s in result.per_seed]) for n in FOLD_METRICS}
    if sil:
        names_sil = list(result.per_seed[0]["sil"]) if result.per_seed else []
        result.sil_seed_summary = {n: summarize([s["sil"][n] for s in result.per_seed]) for n in names_sil}
