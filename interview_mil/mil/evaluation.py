"""Repeated stratified grouped cross-validation of :class:`InterviewClassifier` settings.

Every fold trains a fresh classifier on the training side (which carves its own validation split by
group for early stopping and the threshold) and is scored on the held-out side. Results are aggregated
over all folds (mean, sd, standard error) and per repetition (out-of-fold predictions pooled); the best
run is never picked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .bags import check_bags, check_labels
from .classifier import InterviewClassifier
from .metrics import binary_metrics, metrics_by_group, regression_metrics, roc_auc
from .splits import repeated_stratified_group_kfold, summarize

FOLD_METRICS = ("accuracy", "auc", "f1_depressed", "f1_control", "macro_f1", "balanced_accuracy",
                "sensitivity", "specificity")


@dataclass
class CVResult:
    """``folds``: one record per fold (metrics, threshold, best epoch, seconds); ``summary``: per metric
    ``{mean, sd, se, n}`` over folds, plus ``per_repeat`` pooled out-of-fold accuracy and AUC;
    ``settings``: everything needed to rerun."""

    folds: list[dict] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def flat_summary(self) -> dict[str, float]:
        """``{metric}_mean``, ``{metric}_sd``, ``{metric}_se`` for every fold metric."""
        out = {}
        for name in FOLD_METRICS:
            stats = self.summary.get(name, {})
            for key in ("mean", "sd", "se"):
                out[f"{name}_{key}"] = stats.get(key, float("nan"))
        return out


def cross_validate(bags: Sequence[np.ndarray], y: Sequence[int], groups: Sequence | None = None,
                   params: dict | None = None, folds: int = 10, repeats: int = 5, seed: int = 0,
                   gender: Sequence | None = None, phq: Sequence[float] | None = None,
                   feature_names: Sequence[str] | None = None,
                   on_fold: Callable[[dict], None] | None = None) -> CVResult:
    """Run ``repeats`` × ``folds`` grouped CV of ``InterviewClassifier(**params)``.

    Repetition ``r`` uses split seed ``seed + r`` and model seed ``params['seed'] + r``. ``gender`` adds
    per-gender metrics; ``phq`` trains the PHQ-8 head and adds RMSE/MAE. ``on_fold`` gets each fold record.
    """
    bags = check_bags(bags)
    y = check_labels(y, len(bags))
    params = dict(params or {})
    base_seed = int(params.pop("seed", 0))
    gender_arr = None if gender is None else np.asarray(gender, dtype=object)
    phq_arr = None if phq is None else np.asarray(phq, dtype=float)
    groups_arr = None if groups is None else np.asarray(groups)
    result = CVResult(settings={"params": {**params, "seed": base_seed}, "folds": folds, "repeats": repeats,
                                "seed": seed, "n_bags": len(bags), "n_positive": int(y.sum()),
                                "grouped": groups is not None})
    oof = np.full((repeats, len(bags)), np.nan)  # out-of-fold probabilities
    oof_pred = np.zeros((repeats, len(bags)), dtype=int)  # out-of-fold decisions at each fold's threshold
    for f in repeated_stratified_group_kfold(y, groups_arr, folds, repeats, seed):
        start = time.perf_counter()
        clf = InterviewClassifier(**params, seed=base_seed + f.repeat)
        clf.fit([bags[i] for i in f.train], y[f.train], None if groups_arr is None else groups_arr[f.train],
                None if phq_arr is None else phq_arr[f.train], feature_names)
        test_bags = [bags[i] for i in f.test]
        prob = clf.predict_proba(test_bags)[:, 1]
        oof[f.repeat, f.test] = prob
        oof_pred[f.repeat, f.test] = prob >= clf.threshold_
        record = {"repeat": f.repeat, "fold": f.fold, "n_train": len(f.train), "n_test": len(f.test),
                  "best_epoch": clf.best_epoch_, "threshold": clf.threshold_,
                  **{f"val_{k}": v for k, v in clf.validation_.items()},
                  **{k: v for k, v in binary_metrics(y[f.test], prob, clf.threshold_).items()}}
        if gender_arr is not None:
            record["by_gender"] = metrics_by_group(y[f.test], prob, gender_arr[f.test], clf.threshold_)
        if phq_arr is not None and clf.model_config_.phq_head:
            record["phq8"] = regression_metrics(phq_arr[f.test], clf.predict_phq8(test_bags))
        record["seconds"] = time.perf_counter() - start
        result.folds.append(record)
        if on_fold is not None:
            on_fold(record)
    result.summary = {name: summarize([r[name] for r in result.folds]) for name in FOLD_METRICS}
    if phq_arr is not None and any("phq8" in r for r in result.folds):
        result.summary["phq8_rmse"] = summarize([r["phq8"]["rmse"] for r in result.folds if "phq8" in r])
        result.summary["phq8_mae"] = summarize([r["phq8"]["mae"] for r in result.folds if "phq8" in r])
    result.summary["per_repeat"] = {
        "auc": summarize([roc_auc(y, oof[r]) for r in range(repeats)]),
        "accuracy": summarize([float(np.mean(oof_pred[r] == y)) for r in range(repeats)]),
    }
    result.summary["seconds_total"] = float(sum(r["seconds"] for r in result.folds))
    return result
