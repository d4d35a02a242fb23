"""Honest inner selection inside ``InterviewClassifier.fit``: choose among a small declared set of
settings by grouped inner cross-validation on the training bags only.

``select`` maps parameter names to candidate values, e.g. ``{"pooling": ["attention", "mean"],
"speaker_relative": ["none", "append"]}``; every combination is a candidate (keep the grid small: the cost is
candidates × ``select_folds`` fits, then one final fit). Each candidate is scored by the mean AUC over
``select_folds`` stratified grouped inner folds of the training bags (participants never straddle a fold);
the best mean wins, ties going to the earlier candidate in grid order (list the simpler setting first). The
classifier is then fitted on all training bags with the winner, and keeps ``selected_`` (the winner) and
``selection_`` (every candidate's inner AUC and cost) in its bundle. Whoever calls ``fit`` inside an outer
fold therefore selects afresh in every fold: no test bag ever influences a choice.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
from sklearn.base import clone

from ..errors import ConfigError
from .metrics import roc_auc
from .splits import stratified_group_kfold

SELECTABLE = (
    "pooling",
    "speaker_relative",
    "embedding_pcs",
    "hidden",
    "dropout",
    "input_dropout",
    "weight_decay",
    "lr",
    "max_epochs",
    "attention_dim",
    "n_models",
)


def candidates(select: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the grid, in grid order; ``ConfigError`` for keys that cannot be selected."""
    unknown = [k for k in select if k not in SELECTABLE]
    if unknown:
        raise ConfigError(f"select: cannot choose {unknown} by inner CV", fix=f"select among {list(SELECTABLE)}")
    keys = list(select)
    values = [list(v) if isinstance(v, (list, tuple)) else [v] for v in select.values()]
    if any(not v for v in values):
        raise ConfigError("select: every key needs at least one candidate value")
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


def _inner_folds(y: np.ndarray, groups, n_folds: int, seed: int):
    per_class = min(int((y == 0).sum()), int((y == 1).sum()))
    k = min(n_folds, per_class, len(np.unique(groups)) if groups is not None else len(y))
    return [] if k < 2 else stratified_group_kfold(y, groups, k, seed)


def fit_selected(est, bags: list[np.ndarray], y: np.ndarray, groups, phq, names):
    """Select ``est.select``'s best candidate on inner folds of (``bags``, ``y``), fit ``est`` with it on
    all of them, and record the choice; returns ``est``."""
    grid = candidates(est.select)
    groups_arr = None if groups is None else np.asarray(groups)
    folds = _inner_folds(y, groups_arr, int(est.select_folds), est.seed)
    report = []
    for setting in grid:
        start, aucs = time.perf_counter(), []
        for train, test in folds if len(grid) > 1 else []:
            inner = clone(est).set_params(select=None, **setting)
            inner.fit(
                [bags[i] for i in train],
                y[train],
                None if groups_arr is None else groups_arr[train],
                None if phq is None else phq[train],
                names,
            )
            aucs.append(roc_auc(y[test], inner.predict_proba([bags[i] for i in test])[:, 1]))
        mean = float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")
        report.append({"setting": setting, "inner_auc": mean, "seconds": round(time.perf_counter() - start, 3)})
    scores = np.array([r["inner_auc"] for r in report])
    best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
    final = clone(est).set_params(select=None, **grid[best])
    final.fit(bags, y, groups, phq, names)
    for key, value in vars(final).items():
        if key.endswith("_"):
            setattr(est, key, value)
    est.selected_, est.selection_ = dict(grid[best]), report
    return est
