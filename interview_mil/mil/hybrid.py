"""Local evidence and the interview's global statistics in one score.

Pooling over turns finds evidence that sits in a few turns; where every turn of a participant is a little
different (a global shift), an interview-level model of turn functionals sees it better, and on a few dozen
interviews a regularised linear model learns it from fewer examples than a network. ``InterviewHead``
stacks the two: the MIL network's bag logit and the logit of an interview-level L2 logistic regression on
turn functionals (``peers.FunctionalsBaseline``, its strength tuned by inner CV), combined by a logistic
regression whose two weights are fitted on out-of-fold predictions of grouped inner folds of the training
bags (never on bags either model was trained on). Where the evidence is local the stacker leans on the
network; where it is global, on the functionals; the turn weights that explain a score still come from
the network. Everything is saved as plain JSON in the bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from .peers import FunctionalsBaseline, functionals
from .preprocess import FeatureScaler
from .splits import stratified_group_kfold


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class InterviewHead:
    """``scaler``/``coef``/``intercept``: the functionals model; ``w_mil``, ``w_global``, ``bias``: the
    stacker (combined logit = w_mil · MIL logit + w_global · functionals logit + bias)."""

    scaler: FeatureScaler
    coef: np.ndarray
    intercept: float
    w_mil: float
    w_global: float
    bias: float

    def global_logit(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        X = np.stack([functionals(self.scaler.transform_bag(b)) for b in bags])  # (n_bags, 4F)
        return X @ self.coef + self.intercept

    def combine(self, mil_logit: np.ndarray, bags: Sequence[np.ndarray]) -> np.ndarray:
        """(n_bags,) combined logit from the network's ``mil_logit`` and the raw ``bags``."""
        return (
            self.w_mil * np.asarray(mil_logit, dtype=np.float64) + self.w_global * self.global_logit(bags) + self.bias
        )

    def to_dict(self) -> dict:
        return {
            "scaler": self.scaler.to_dict(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "w_mil": self.w_mil,
            "w_global": self.w_global,
            "bias": self.bias,
        }

    @classmethod
    def from_dict(cls, d: dict | None) -> InterviewHead | None:
        if not d:
            return None
        return cls(
            FeatureScaler.from_dict(d["scaler"]),
            np.asarray(d["coef"], dtype=np.float64),
            float(d["intercept"]),
            float(d["w_mil"]),
            float(d["w_global"]),
            float(d["bias"]),
        )


def fit_interview_head(est, bags: list[np.ndarray], y: np.ndarray, groups, phq, names) -> InterviewHead:
    """The head of a fitted classifier ``est`` (its network already trained on all ``bags``): functionals
    model on all bags, stacker on out-of-fold logits of ``select_folds`` grouped inner folds."""
    groups_arr = None if groups is None else np.asarray(groups)
    per_class = min(int((y == 0).sum()), int((y == 1).sum()))
    k = min(int(est.select_folds), per_class)
    oof = np.full((len(bags), 2), np.nan)
    for train, test in stratified_group_kfold(y, groups_arr, k, est.seed) if k >= 2 else []:
        inner = clone(est).set_params(interview_head=False, select=None)
        g = None if groups_arr is None else groups_arr[train]
        inner.fit([bags[i] for i in train], y[train], g, None if phq is None else phq[train], names)
        test_bags = [bags[i] for i in test]
        oof[test, 0] = _logit(inner.predict_proba(test_bags)[:, 1])
        oof[test, 1] = _logit(
            FunctionalsBaseline.fit([bags[i] for i in train], y[train], g, est.seed).predict_proba(test_bags)[:, 1]
        )
    glob = FunctionalsBaseline.fit(bags, y, groups_arr, est.seed)
    coef, intercept = glob.model.coef_[0].astype(np.float64), float(glob.model.intercept_[0])
    known = np.isfinite(oof).all(axis=1)
    if known.sum() >= 4 and len(np.unique(y[known])) == 2:
        stack = LogisticRegression(C=1.0, max_iter=1000).fit(oof[known], y[known])
        w_mil, w_global, bias = float(stack.coef_[0, 0]), float(stack.coef_[0, 1]), float(stack.intercept_[0])
    else:  # too few bags for inner folds: equal weights
        w_mil, w_global, bias = 0.5, 0.5, 0.0
    return InterviewHead(glob.scaler, coef, intercept, w_mil, w_global, bias)
