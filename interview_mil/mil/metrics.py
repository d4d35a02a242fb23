"""Screening metrics computed by hand (no hidden averaging conventions).

Class 1 is the positive (depressed) class. ``prob`` are positive-class probabilities; a bag is
predicted positive when ``prob >= threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from ..errors import ConfigError, FeatureError


def roc_auc(y: Sequence[int], score: Sequence[float]) -> float:
    """Area under the ROC curve (Mann–Whitney, ties count 1/2); NaN when only one class is present."""
    y = np.asarray(y).astype(bool)
    score = np.asarray(score, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _f1(tp: int, fp: int, fn: int) -> float:
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom else 0.0


def _ratio(a: int, b: int) -> float:
    return float(a / b) if b else float("nan")


def binary_metrics(y: Sequence[int], prob: Sequence[float], threshold: float = 0.5) -> dict[str, float]:
    """AUC, accuracy, F1 of each class, macro-F1, balanced accuracy, sensitivity, specificity, counts."""
    y = np.asarray(y).astype(int)
    prob = np.asarray(prob, dtype=float)
    pred = (prob >= threshold).astype(int)
    tp = int(((pred == 1) & (y == 1)).sum())
    tn = int(((pred == 0) & (y == 0)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    sens, spec = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    f1_pos, f1_neg = _f1(tp, fp, fn), _f1(tn, fn, fp)
    return {
        "auc": roc_auc(y, prob),
        "accuracy": _ratio(tp + tn, len(y)),
        "f1_depressed": f1_pos,
        "f1_control": f1_neg,
        "macro_f1": (f1_pos + f1_neg) / 2,
        "balanced_accuracy": float(np.nanmean([sens, spec])) if np.isfinite([sens, spec]).any() else float("nan"),
        "sensitivity": sens,
        "specificity": spec,
        "threshold": float(threshold),
        "n": int(len(y)),
        "n_positive": int(y.sum()),
        "tp": tp,
        "tn": tn,
        "fp": fp,
        "fn": fn,
    }


def metrics_by_group(
    y: Sequence[int], prob: Sequence[float], group: Sequence | None, threshold: float = 0.5
) -> dict[str, dict[str, float]]:
    """``binary_metrics`` per group value (e.g. gender), skipping unknown (None/NaN/"") entries."""
    if group is None:
        return {}
    y, prob = np.asarray(y), np.asarray(prob, dtype=float)
    labels = np.asarray(
        [None if (g is None or (isinstance(g, float) and np.isnan(g)) or g == "") else str(g) for g in group],
        dtype=object,
    )
    return {
        str(v): binary_metrics(y[labels == v], prob[labels == v], threshold)
        for v in sorted({v for v in labels if v is not None})
    }


def concordance_ccc(true: Sequence[float], pred: Sequence[float]) -> float:
    """Lin's concordance correlation coefficient (the AVEC 2019 depression metric): agreement of the values
    themselves, not only their ranking; NaN for fewer than two pairs or no variance in either."""
    t, p = np.asarray(true, dtype=float), np.asarray(pred, dtype=float)
    if len(t) < 2:
        return float("nan")
    denom = t.var() + p.var() + (t.mean() - p.mean()) ** 2
    return float(2 * np.mean((t - t.mean()) * (p - p.mean())) / denom) if denom > 0 else float("nan")


def regression_metrics(true: Sequence[float], pred: Sequence[float]) -> dict[str, float]:
    """RMSE, MAE (PHQ-8 points) and concordance CCC over pairs where the true value is known."""
    true, pred = np.asarray(true, dtype=float), np.asarray(pred, dtype=float)
    known = np.isfinite(true)
    if not known.any():
        return {"rmse": float("nan"), "mae": float("nan"), "ccc": float("nan"), "n": 0}
    err = pred[known] - true[known]
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "ccc": concordance_ccc(true[known], pred[known]),
        "n": int(known.sum()),
    }


THRESHOLD_METHODS = ("balanced", "f1", "sensitivity")


def choose_threshold(
    y: Sequence[int], prob: Sequence[float], method: str = "f1", target_sensitivity: float | None = None
) -> float:
    """Decision threshold from validation predictions.

    ``method="f1"``: the threshold maximising F1 of the positive class (ties: the one nearest 0.5); it
    over-calls where positives are the minority. ``method="balanced"``: the threshold maximising balanced
    accuracy (the mean of sensitivity and specificity, Youden's J; ties: the one nearest 0.5).
    ``method="sensitivity"``: the highest threshold whose sensitivity reaches ``target_sensitivity``
    (so specificity is as high as that allows). Candidate thresholds are midpoints between consecutive
    distinct scores (and just beyond the extremes), so they do not sit on a validation score.
    Returns 0.5 when the validation set lacks one of the classes.
    """
    y = np.asarray(y).astype(int)
    prob = np.asarray(prob, dtype=float)
    if y.size == 0 or y.min() == y.max():
        return 0.5
    levels = np.unique(prob)
    candidates = np.concatenate([[levels[0] - 1e-6], (levels[:-1] + levels[1:]) / 2, [levels[-1] + 1e-6]])
    if method in ("f1", "balanced"):
        key = "f1_depressed" if method == "f1" else "balanced_accuracy"
        scores = np.array([binary_metrics(y, prob, t)[key] for t in candidates])
        best = np.flatnonzero(scores >= scores.max() - 1e-12)
        return float(candidates[best[np.argmin(np.abs(candidates[best] - 0.5))]])
    if method == "sensitivity":
        if target_sensitivity is None or not 0 < target_sensitivity <= 1:
            raise ConfigError("threshold method 'sensitivity' needs target_sensitivity in (0, 1]")
        sens = np.array([binary_metrics(y, prob, t)["sensitivity"] for t in candidates])
        ok = np.flatnonzero(sens >= target_sensitivity - 1e-12)
        return float(candidates[ok].max())
    raise ConfigError(f"unknown threshold method {method!r}", fix=f"use one of {list(THRESHOLD_METHODS)}")


def localisation_auc(
    instance_scores: Sequence[Sequence[float]],
    instance_truth: Sequence[Sequence[int]],
    bag_labels: Sequence[int] | None = None,
) -> float:
    """Turn-localisation AUC: instance scores (or weights) against ground-truth marker instances.

    ``instance_scores`` and ``instance_truth`` hold one sequence per bag (same lengths); with
    ``bag_labels`` only the instances of positive bags count (where markers can exist). The AUC is
    pooled over all counted instances.
    """
    keep = range(len(instance_scores)) if bag_labels is None else [i for i, b in enumerate(bag_labels) if b == 1]
    scores = np.concatenate([np.asarray(instance_scores[i], dtype=float) for i in keep]) if keep else np.zeros(0)
    truth = np.concatenate([np.asarray(instance_truth[i], dtype=int) for i in keep]) if keep else np.zeros(0)
    if scores.shape != truth.shape:
        raise FeatureError(
            "instance scores and ground-truth marker flags differ in length",
            fix="give one score and one 0/1 marker flag per instance of every bag",
        )
    return roc_auc(truth, scores)


ECE_BINS = 10  # equal-width probability bins on [0, 1] for the expected calibration error


def brier_score(y: Sequence[int], prob: Sequence[float]) -> float:
    """Mean squared difference between the positive-class probability and the 0/1 outcome (0 is perfect,
    0.25 is a constant 0.5); NaN for no pairs."""
    y, prob = np.asarray(y, dtype=float), np.asarray(prob, dtype=float)
    return float(np.mean((prob - y) ** 2)) if len(y) else float("nan")


def reliability_bins(y: Sequence[int], prob: Sequence[float], n_bins: int = ECE_BINS) -> list[dict[str, float]]:
    """The reliability diagram's points: ``n_bins`` equal-width bins of the positive-class probability on
    [0, 1] (the last bin includes 1.0); per non-empty bin its edges, ``n``, the mean predicted probability
    and the observed share of positives."""
    y, prob = np.asarray(y, dtype=float), np.asarray(prob, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(prob, edges[1:-1], right=False), 0, n_bins - 1)  # bin index per prediction
    out = []
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            out.append(
                {
                    "lo": float(edges[b]),
                    "hi": float(edges[b + 1]),
                    "n": int(inside.sum()),
                    "mean_prob": float(prob[inside].mean()),
                    "observed": float(y[inside].mean()),
                }
            )
    return out


def expected_calibration_error(y: Sequence[int], prob: Sequence[float], n_bins: int = ECE_BINS) -> float:
    """ECE: over ``n_bins`` equal-width bins of the predicted probability, the mean of
    |observed share of positives − mean predicted probability|, weighted by the bin's share of predictions;
    NaN for no pairs."""
    bins = reliability_bins(y, prob, n_bins)
    n = sum(b["n"] for b in bins)
    return float(sum(b["n"] * abs(b["observed"] - b["mean_prob"]) for b in bins) / n) if n else float("nan")


def calibration_metrics(y: Sequence[int], prob: Sequence[float], n_bins: int = ECE_BINS) -> dict:
    """Brier score, ECE (``n_bins`` equal-width bins) and the reliability bins of the pairs with a known
    probability."""
    y, prob = np.asarray(y, dtype=float), np.asarray(prob, dtype=float)
    known = np.isfinite(prob) & np.isfinite(y)
    y, prob = y[known], prob[known]
    return {
        "brier": brier_score(y, prob),
        "ece": expected_calibration_error(y, prob, n_bins),
        "ece_bins": int(n_bins),
        "n": int(known.sum()),
        "bins": reliability_bins(y, prob, n_bins),
    }
