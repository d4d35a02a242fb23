"""Peers every MIL figure is compared with, fitted on the same training bags as the MIL model.

``FunctionalsBaseline`` (the strong interview-level baseline): per interview, functionals (mean, standard
deviation, 10th and 90th percentile) of the imputed, standardised turn features, then an L2 logistic
regression whose strength ``C`` is chosen by grouped inner cross-validation on the training bags only.
``TopKTurns`` (single-instance learning): a turn-level L2 logistic regression with every turn labelled
with its interview's label; an interview's score is the mean of its ``k`` highest turn probabilities, and
the turn probabilities localise. Both are deliberately fair: the same inputs, the same training bags,
their one hyper-parameter tuned honestly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from .bags import check_bags, check_labels
from .metrics import roc_auc
from .preprocess import FeatureScaler
from .splits import stratified_group_kfold

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def functionals(scaled_bag: np.ndarray) -> np.ndarray:
    """(n, F) standardised turns → (4F,) mean, sd, 10th and 90th percentile of each column."""
    return np.concatenate([scaled_bag.mean(0), scaled_bag.std(0), *np.percentile(scaled_bag, [10, 90], axis=0)])


def _inner_splits(y: np.ndarray, groups, seed: int, folds: int = 5):
    """Grouped stratified inner folds (fewer when a class is small); [] when no split is possible."""
    per_class = min(int((y == 0).sum()), int((y == 1).sum()))
    k = min(folds, per_class)
    return [] if k < 2 else list(stratified_group_kfold(y, groups, k, seed))


def _choose_c(score_fold, y: np.ndarray, groups, seed: int) -> float:
    """The ``C`` of ``C_GRID`` with the best mean inner-fold AUC (ties: the smaller C, stronger penalty)."""
    return _best_c(score_fold, y, groups, seed)[0]


def _best_c(score_fold, y: np.ndarray, groups, seed: int) -> tuple[float, float]:
    """(``C``, its mean inner-fold AUC) of :func:`_choose_c` (AUC NaN where no inner split is possible)."""
    splits = _inner_splits(y, groups, seed)
    if not splits:
        return 1.0, float("nan")
    means = [np.nanmean([score_fold(c, tr, te) for tr, te in splits]) for c in C_GRID]
    if not np.isfinite(means).any():
        return 1.0, float("nan")
    k = int(np.nanargmax(means))
    return C_GRID[k], float(means[k])


@dataclass
class FunctionalsBaseline:
    """Fitted: ``scaler`` (turn statistics), ``model`` (logistic regression), ``C`` (chosen strength)."""

    scaler: FeatureScaler
    model: LogisticRegression
    C: float
    inner_auc: float = float("nan")  # the chosen C's mean inner-fold AUC (NaN when C was given)
    columns: list[int] | None = None  # the turn columns it reads (None: all)

    def features(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        bags = check_bags(bags)
        if self.columns is not None:
            bags = [b[:, self.columns] for b in bags]
        return np.stack([functionals(self.scaler.transform_bag(b)) for b in bags])

    def predict_proba(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        return self.model.predict_proba(self.features(bags))

    @classmethod
    def fit(
        cls, bags: Sequence[np.ndarray], y: Sequence[int], groups=None, seed: int = 0, C: float | None = None
    ) -> FunctionalsBaseline:
        """Fit on ``bags``; ``C`` chosen by grouped inner CV unless given."""
        bags, y = check_bags(bags), check_labels(y, len(bags))
        scaler = FeatureScaler.fit(bags, None, True)
        X = np.stack([functionals(scaler.transform_bag(b)) for b in bags])  # (n_bags, 4F')

        def lr(c: float) -> LogisticRegression:
            return LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)

        def score(c, tr, te):
            return roc_auc(y[te], lr(c).fit(X[tr], y[tr]).predict_proba(X[te])[:, 1])

        c, inner = _best_c(score, y, groups, seed) if C is None else (float(C), float("nan"))
        return cls(scaler, lr(c).fit(X, y), c, inner)

    @classmethod
    def fit_best(
        cls, bags: Sequence[np.ndarray], y: Sequence[int], groups=None, seed: int = 0, names=None
    ) -> FunctionalsBaseline:
        """The stronger of two baselines by their inner AUC: on every turn column, and (where there are
        ``emb_*`` columns beside others) on the turn features without the embedding, whose hundreds of
        dimensions can swamp functionals on a few dozen interviews (a fair baseline is tuned like the model)."""
        full = cls.fit(bags, y, groups, seed)
        keep = [j for j, n in enumerate(names or []) if not str(n).startswith("emb_")]
        if not names or not 0 < len(keep) < len(names):
            return full
        slim = cls.fit([np.asarray(b)[:, keep] for b in bags], y, groups, seed)
        slim.columns = keep
        return slim if np.nan_to_num(slim.inner_auc, nan=-1) > np.nan_to_num(full.inner_auc, nan=-1) else full


@dataclass
class TopKTurns:
    """Fitted single-instance learner: ``scaler``, turn-level ``model``, ``k`` top turns averaged, ``C``."""

    scaler: FeatureScaler
    model: LogisticRegression
    k: int
    C: float

    def turn_probabilities(self, bags: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [self.model.predict_proba(self.scaler.transform_bag(b))[:, 1] for b in check_bags(bags)]

    def predict_proba(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        p = np.array([np.sort(t)[::-1][: self.k].mean() for t in self.turn_probabilities(bags)])
        return np.stack([1 - p, p], axis=1)

    @classmethod
    def fit(cls, bags: Sequence[np.ndarray], y: Sequence[int], groups=None, seed: int = 0, k: int = 3) -> TopKTurns:
        bags, y = check_bags(bags), check_labels(y, len(bags))
        scaler = FeatureScaler.fit(bags, None, True)
        scaled = [scaler.transform_bag(b) for b in bags]

        def lr(c: float) -> LogisticRegression:
            return LogisticRegression(C=c, class_weight="balanced", max_iter=5000, random_state=seed)

        def fit_on(c: float, idx) -> LogisticRegression:
            X = np.concatenate([scaled[i] for i in idx])
            return lr(c).fit(X, np.concatenate([np.full(len(scaled[i]), y[i]) for i in idx]))

        def score(c, tr, te):
            model = fit_on(c, tr)
            top = [np.sort(model.predict_proba(scaled[i])[:, 1])[::-1][:k].mean() for i in te]
            return roc_auc(y[te], top)

        c = _choose_c(score, y, groups, seed)
        return cls(scaler, fit_on(c, range(len(bags))), k, c)
