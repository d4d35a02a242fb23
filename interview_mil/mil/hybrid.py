"""Local evidence and the interview's global statistics in one score.

Pooling over turns finds evidence that sits in a few turns; where every turn of a participant is a little
different (a global shift), an interview-level model of turn functionals sees it better, and on a few dozen
interviews a regularised linear model learns it from fewer examples than a network. ``InterviewHead``
stacks the two: the MIL network's bag logit and the logit of an interview-level L2 logistic regression on
turn functionals (``peers.FunctionalsBaseline``; its strength chosen by inner CV once, on all training
bags, and kept in the inner folds so that the logit has one scale), combined by a logistic regression
whose two weights are fitted on out-of-fold predictions of grouped inner folds of the training bags (never
on bags either model was trained on). Both weights must be positive: both scores point towards depression,
so a weight <= 0 is fitted noise and the stack falls back to the other component. The same out-of-fold
predictions then choose among the functionals model alone, the stacked score and the network alone
(``choice``) by the one-standard-error rule: the simplest whose AUC is within one standard error of the
best (``one_standard_error_choice``). Where the evidence is global the interview-level model is kept, where
it is local the network carries the score. The turn weights that explain a score always come from the
network. The functionals model reads the turn features, not the encoder's embedding columns
(``functionals_columns``). Everything is saved as plain JSON in the bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from ..errors import ConfigError
from .metrics import choose_threshold, regression_metrics, roc_auc
from .peers import FunctionalsBaseline, functionals
from .preprocess import FeatureScaler
from .splits import stratified_group_kfold

HEAD_RULES = ("one_se", "best", "stacked")
"""How the head chooses among its options on the inner out-of-fold predictions: ``one_se`` the simplest within
one standard error of the best AUC (functionals before stacked before network), ``best`` the highest AUC
(ties: the simpler), ``stacked`` always the stacked score (its weights fitted on those predictions)."""


def check_head_rule(rule: str) -> str:
    if rule not in HEAD_RULES:
        raise ConfigError(f"unknown head_rule {rule!r}", fix=f"use one of {list(HEAD_RULES)}")
    return rule


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
    choice: str = "stacked"
    candidates: dict | None = None  # every option's (w_mil, w_global, bias) and inner out-of-fold AUC
    columns: list[int] | None = None  # the columns the functionals model reads (None: all)
    reads: str = "raw"  # "raw": the raw turn columns; "model_inputs": the classifier's transform (projected)

    def _cols(self, bags: Sequence[np.ndarray]) -> list[np.ndarray]:
        return list(bags) if self.columns is None else [b[:, self.columns] for b in bags]

    def global_logit(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        X = np.stack([functionals(self.scaler.transform_bag(b)) for b in self._cols(bags)])  # (n_bags, 4F)
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
            "choice": self.choice,
            "candidates": self.candidates,
            "columns": self.columns,
            "reads": self.reads,
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
            str(d.get("choice", "stacked")),
            d.get("candidates"),
            d.get("columns"),
            str(d.get("reads", "raw")),
        )


def _take(bags: Sequence[np.ndarray], columns: list[int] | None) -> list[np.ndarray]:
    return list(bags) if columns is None else [b[:, columns] for b in bags]


def head_inputs(clf, bags: Sequence[np.ndarray]) -> list[np.ndarray]:
    """What the fitted classifier ``clf``'s head reads for raw ``bags``: the raw columns, or the classifier's
    own inputs before scaling (``clf.transform``: speaker-relative columns and the embedding's components)."""
    if getattr(clf.head_, "reads", "raw") == "model_inputs":
        return clf.transform(bags)
    return [np.asarray(b, dtype=float) for b in bags]


def model_input_columns(names) -> list[int] | None:
    """Of the classifier's input columns (after ``transform``), those the functionals model reads: all but the
    speaker-relative ``__rel`` ones (the functionals already describe the spread within the interview), the
    embedding's principal components included; None (all) where nothing would remain."""
    keep = [j for j, n in enumerate(names) if not str(n).endswith("__rel")]
    return keep if 0 < len(keep) < len(names) else None


def fit_interview_head(
    est, bags: list[np.ndarray], y: np.ndarray, groups, phq, names, inputs=None, input_names=None
) -> tuple[InterviewHead, np.ndarray]:
    """The head of a fitted classifier ``est`` (its network already trained on all ``bags``): functionals
    model on all bags (where ``inputs``, the classifier's transformed bags with ``input_names``, are given, it
    reads whichever has the best inner AUC at its chosen C: those inputs (the embedding as its principal
    components), every raw column (the embedding's dimensions included) or the raw columns without the
    embedding), stacker on out-of-fold logits of
    ``select_folds`` grouped inner folds. Where ``est``
    chooses its threshold (a method name), it is chosen again on the stacked out-of-fold
    probabilities, which are held-out predictions of the combined score (``est.validation_`` says so).
    Also returns the chosen score's out-of-fold logit per bag, (n_bags,) (NaN where there is none): the
    held-out predictions the classifier calibrates on."""
    groups_arr = None if groups is None else np.asarray(groups)
    columns = functionals_columns(names)
    options = [("raw", columns, bags)]
    if inputs is not None:  # the classifier's own inputs (embedding as components), or every raw column
        options = [("model_inputs", model_input_columns(input_names), inputs), ("raw", None, bags)]
        if columns is not None:  # the turn features without the embedding's dimensions
            options.append(("raw", columns, bags))
    fits = [(r, c, src, FunctionalsBaseline.fit(_take(src, c), y, groups_arr, est.seed)) for r, c, src in options]
    reads, columns, source, glob = max(fits, key=lambda f: np.nan_to_num(f[3].inner_auc, nan=-1.0))
    slim = _take(source, columns)
    per_class = min(int((y == 0).sum()), int((y == 1).sum()))
    k = min(int(est.select_folds), per_class)
    # the functionals model's strength is chosen once, on all training bags, and kept in the inner folds:
    # the stacker's weights then apply to logits of the same scale as those it was fitted on (a C chosen
    # afresh per fold moves the logit's scale by up to 100x and makes the stacked weights meaningless)
    oof = np.full((len(bags), 2), np.nan)
    oof_phq = np.full(len(bags), np.nan)  # the inner networks' PHQ-8 estimates of bags they never saw
    for train, test in stratified_group_kfold(y, groups_arr, k, est.seed) if k >= 2 else []:
        inner = clone(est).set_params(interview_head=False, select=None)
        g = None if groups_arr is None else groups_arr[train]
        inner.fit([bags[i] for i in train], y[train], g, None if phq is None else phq[train], names)
        test_bags = [bags[i] for i in test]
        oof[test, 0] = _logit(inner.predict_proba(test_bags)[:, 1])
        if phq is not None and inner.model_config_.phq_head:
            oof_phq[test] = inner.predict_phq8(test_bags)
        oof[test, 1] = _logit(
            FunctionalsBaseline.fit([slim[i] for i in train], y[train], g, est.seed, C=glob.C).predict_proba(
                [slim[i] for i in test]
            )[:, 1]
        )
    coef, intercept = glob.model.coef_[0].astype(np.float64), float(glob.model.intercept_[0])
    known = np.isfinite(oof).all(axis=1)
    choice, w_mil, w_global, bias = "stacked", 0.5, 0.5, 0.0  # too few bags for inner folds: equal weights
    held_out, candidates = np.full(len(bags), np.nan), None
    if known.sum() >= 4 and len(np.unique(y[known])) == 2:
        # the two logits live on different scales (a strongly penalised linear model gives small ones):
        # standardise them for the stacker, then fold the scaling back into its weights
        mu, sd = oof[known].mean(axis=0), oof[known].std(axis=0) + 1e-9
        stack = LogisticRegression(C=1.0, max_iter=1000).fit((oof[known] - mu) / sd, y[known])
        w, b0 = stack.coef_[0] / sd, float(stack.intercept_[0])
        if (w <= 0).any():  # both scores point towards depression: a weight <= 0 fits noise, so the
            w = np.where(w > 0, 1.0, 0.0) if (w > 0).any() else np.array([0.0, 1.0])  # stack is one model
            b0 = float(w @ mu)  # (bias then cancels below: no shift for a single model's logit)
        options = {  # name -> (w_mil, w_global, bias, out-of-fold logit); ties go to the earlier (simpler)
            "global": (0.0, 1.0, 0.0, oof[known, 1]),
            "stacked": (float(w[0]), float(w[1]), float(b0 - w @ mu), None),
            "mil": (1.0, 0.0, 0.0, oof[known, 0]),
        }
        options["stacked"] = options["stacked"][:3] + (oof[known] @ w + options["stacked"][2],)
        aucs = {name: roc_auc(y[known], o[3]) for name, o in options.items()}
        choice = choose_option(
            aucs, int(y[known].sum()), int((1 - y[known]).sum()), getattr(est, "head_rule", "one_se")
        )
        w_mil, w_global, bias, chosen = options[choice]
        candidates = {name: {"weights": list(o[:3]), "inner_auc": aucs[name]} for name, o in options.items()}
        held_out[known] = chosen
        if isinstance(est.threshold, str):
            prob = 1.0 / (1.0 + np.exp(-chosen))
            est.threshold_ = choose_threshold(y[known], prob, est.threshold, est.target_sensitivity)
            est.validation_ = {
                "n_bags": int(known.sum()),
                "source": f"interview head ({choice}), inner out-of-fold",
                "auc": aucs[choice],
                "inner_auc": aucs,
            }
    est.phq_error_ = phq_error(phq, oof_phq)
    head = InterviewHead(glob.scaler, coef, intercept, w_mil, w_global, bias, choice, candidates, columns, reads)
    return head, held_out


def choose_option(aucs: dict[str, float], n_pos: int, n_neg: int, rule: str) -> str:
    """The option ``rule`` (``HEAD_RULES``) picks from the inner AUCs of the options (simplest first)."""
    if rule == "stacked":
        return "stacked"
    if rule == "best":
        finite = {k: v for k, v in aucs.items() if np.isfinite(v)}
        return max(finite, key=lambda k: (finite[k], -list(aucs).index(k))) if finite else next(iter(aucs))
    return one_standard_error_choice(aucs, n_pos, n_neg)


def phq_error(phq: np.ndarray | None, oof: np.ndarray) -> dict | None:
    """Cross-validated error of the PHQ-8 head (points): RMSE, MAE and CCC of the inner folds' estimates of
    bags they never saw, next to the RMSE of always answering the mean; None without PHQ-8 scores."""
    if phq is None:
        return None
    known = np.isfinite(phq) & np.isfinite(oof)
    if known.sum() < 4:
        return None
    out = regression_metrics(phq[known], oof[known])
    out["rmse_training_mean"] = float(np.sqrt(np.mean((phq[known] - phq[known].mean()) ** 2)))
    return out


def auc_standard_error(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC from ``n_pos`` positive and ``n_neg`` negative bags (Hanley & McNeil 1982)."""
    auc = float(np.clip(auc, 1e-6, 1 - 1e-6))
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)
    return float(np.sqrt(max(var, 0.0) / max(n_pos * n_neg, 1)))


def one_standard_error_choice(aucs: dict[str, float], n_pos: int, n_neg: int) -> str:
    """The first (simplest) option whose inner AUC is within one standard error of the best one's: the
    one-standard-error rule of model selection (Breiman et al. 1984), so that on a few dozen bags a more
    complex score is kept only where its advantage is larger than the noise of the estimate."""
    finite = {k: v for k, v in aucs.items() if np.isfinite(v)}
    if not finite:
        return next(iter(aucs))
    best = max(finite.values())
    floor = best - auc_standard_error(best, n_pos, n_neg)
    return next(k for k, v in finite.items() if v >= floor)


def functionals_columns(names) -> list[int] | None:
    """The raw columns the interview-level model reads: every column but the encoder's ``emb_*`` ones when
    there are both (hundreds of embedding dimensions × 4 functionals on a few dozen interviews is a model
    of noise; the network sees the embedding through its projection); None (all) otherwise."""
    if names is None:
        return None
    keep = [j for j, n in enumerate(names) if not str(n).startswith("emb_")]
    return keep if 0 < len(keep) < len(names) else None
