"""Subject-bootstrap confidence intervals: resample participants, not interviews, not folds.

A figure from a few dozen participants moves a lot with which participants happen to be in the data. The
subject bootstrap draws as many participants as there are, with replacement, takes every interview of each
drawn participant (a participant drawn twice counts twice) and recomputes the figure; the 2.5th and
97.5th percentiles of ``n_boot`` draws give the 95 % interval. Two configurations scored on the same
participants are compared on the same draws: ``win_rate`` is the share of draws in which the first does
better (ties count half): how often one would rank first on another sample of participants.

The statistics here read out-of-fold predictions of every seed at once: ``prob`` and ``pred`` are
(n_seeds, n_bags) arrays (NaN probability = the bag was not scored in that seed); a metric on a draw is
computed per seed on the drawn bags and averaged over seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .metrics import binary_metrics, brier_score, expected_calibration_error, regression_metrics, roc_auc

Stat = Callable[[np.ndarray], dict[str, float]]
N_BOOT = 1000
LEVEL = 0.95


def participant_draws(groups: Sequence | None, n_bags: int, n_boot: int = N_BOOT, seed: int = 0) -> list[np.ndarray]:
    """``n_boot`` arrays of bag positions, each the bags of as many participants as there are, drawn with
    replacement (``groups=None``: every bag is its own participant)."""
    g = np.arange(n_bags) if groups is None else np.asarray(groups, dtype=object)
    members: dict = {}
    for pos, who in enumerate(g.tolist()):
        members.setdefault(who, []).append(pos)
    blocks = [np.asarray(v, dtype=int) for v in members.values()]
    rng = np.random.default_rng([seed, 2718])
    return [np.concatenate([blocks[i] for i in rng.integers(0, len(blocks), len(blocks))]) for _ in range(n_boot)]


def bootstrap_ci(
    stat: Stat, groups: Sequence | None, n_bags: int, n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Per statistic name: ``estimate`` (on all bags), ``lo``/``hi`` (percentile interval at ``level`` over
    the participant draws, NaN draws left out) and ``n_boot`` (usable draws)."""
    full = stat(np.arange(n_bags))
    draws = [stat(idx) for idx in participant_draws(groups, n_bags, n_boot, seed)]
    tail = (1.0 - level) / 2 * 100
    out = {}
    for name, value in full.items():
        values = np.asarray([d.get(name, np.nan) for d in draws], dtype=float)
        values = values[np.isfinite(values)]
        lo, hi = np.percentile(values, [tail, 100 - tail]) if values.size else (np.nan, np.nan)
        out[name] = {"estimate": float(value), "lo": float(lo), "hi": float(hi), "n_boot": int(values.size)}
    return out


def win_rate(
    stat_a: Stat,
    stat_b: Stat,
    groups: Sequence | None,
    n_bags: int,
    n_boot: int = N_BOOT,
    seed: int = 0,
    lower_is_better: Sequence[str] = ("brier", "ece"),
) -> dict[str, float]:
    """Per statistic both give: the share of participant draws in which ``a`` does better than ``b`` (higher,
    or lower for names in ``lower_is_better``; ties count half; draws where either is NaN left out)."""
    wins: dict[str, list[float]] = {}
    for idx in participant_draws(groups, n_bags, n_boot, seed):
        a, b = stat_a(idx), stat_b(idx)
        for name in a.keys() & b.keys():
            x, y = float(a[name]), float(b[name])
            if np.isfinite(x) and np.isfinite(y):
                better = (x < y) if name in lower_is_better else (x > y)
                wins.setdefault(name, []).append(1.0 if better else 0.5 if x == y else 0.0)
    return {name: float(np.mean(v)) for name, v in sorted(wins.items())}


THRESHOLD_METRICS = ("balanced_accuracy", "f1_depressed", "f1_control", "macro_f1", "sensitivity", "specificity")


def oof_stat(
    y: np.ndarray,
    prob: np.ndarray,
    pred: np.ndarray | None = None,
    calibration: bool = True,
    names: Sequence[str] = THRESHOLD_METRICS,
) -> Stat:
    """The statistic of out-of-fold predictions on drawn bag positions: AUC, the threshold metrics of
    ``pred`` (0/1 decisions at each fold's threshold; left out when None) and, with ``calibration``, Brier
    score and ECE, each averaged over the seeds (rows of ``prob``/``pred``)."""
    y = np.asarray(y).astype(int)
    prob = np.atleast_2d(np.asarray(prob, dtype=float))
    pred = None if pred is None else np.atleast_2d(np.asarray(pred))

    def stat(idx: np.ndarray) -> dict[str, float]:
        rows: list[dict[str, float]] = []
        for s in range(prob.shape[0]):
            take = idx[np.isfinite(prob[s, idx])]
            yt, pt = y[take], prob[s, take]
            row = {"auc": roc_auc(yt, pt)}
            if pred is not None:
                m = binary_metrics(yt, pred[s, take].astype(float), 0.5)
                row.update({n: m[n] for n in names})
            if calibration:
                row.update(brier=brier_score(yt, pt), ece=expected_calibration_error(yt, pt))
            rows.append(row)
        return {
            k: float(np.nanmean([r[k] for r in rows])) if any(np.isfinite(r[k]) for r in rows) else np.nan
            for k in rows[0]
        }

    return stat


def group_gap_stat(
    y: np.ndarray,
    prob: np.ndarray,
    pred: np.ndarray,
    group: Sequence,
    names: Sequence[str] = ("auc", "sensitivity", "specificity"),
) -> Stat:
    """Per group value (e.g. gender) the ``oof_stat`` metrics ``names`` (``{name}_{value}``) and, for two
    values ``a`` < ``b`` (sorted), ``{name}_gap`` = value a minus value b; unknown values (None/"") left out."""
    g = np.asarray(["" if v is None else str(v) for v in group], dtype=object)
    values = sorted(v for v in set(g.tolist()) if v and v != "nan")
    per = {v: oof_stat(y, prob, pred, calibration=False) for v in values}

    def stat(idx: np.ndarray) -> dict[str, float]:
        out: dict[str, float] = {}
        for v in values:
            mine = idx[g[idx] == v]
            m = per[v](mine) if mine.size else {}
            out.update({f"{n}_{v}": float(m.get(n, np.nan)) for n in names})
        if len(values) == 2:
            out.update({f"{n}_gap": out[f"{n}_{values[0]}"] - out[f"{n}_{values[1]}"] for n in names})
        return out

    return stat


def phq_stat(true: np.ndarray, pred: np.ndarray) -> Stat:
    """PHQ-8 ``rmse``, ``mae`` and ``ccc`` of out-of-fold estimates ``pred`` (n_seeds, n_bags) against the
    known totals ``true`` (n_bags,; NaN = unknown) on drawn bag positions, averaged over seeds."""
    true = np.asarray(true, dtype=float)
    pred = np.atleast_2d(np.asarray(pred, dtype=float))

    def stat(idx: np.ndarray) -> dict[str, float]:
        rows = []
        for s in range(pred.shape[0]):
            take = idx[np.isfinite(pred[s, idx])]
            rows.append(regression_metrics(true[take], pred[s, take]))
        return {f"phq8_{k}": float(np.nanmean([r[k] for r in rows])) for k in ("rmse", "mae", "ccc")}

    return stat
