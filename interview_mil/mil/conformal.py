"""Split-conformal screening: screen negative / refer / screen positive at a chosen error rate ``alpha``.

The nonconformity of a labelled interview is 1 − (the probability the model gave its true class). On a
calibration set of held-out predictions (the classifier's out-of-fold predictions of its own training
bags, never bags it was fitted on), ``q`` is the ⌈(n + 1)(1 − alpha)⌉-th smallest nonconformity. A new
interview's prediction set holds every class whose nonconformity is at most ``q``: "depressed" when
p ≥ 1 − q, "not depressed" when p ≤ q. When calibration and new interviews are exchangeable, the set
holds the true class with probability at least 1 − alpha (marginal coverage). ``class_conditional``
computes ``q`` per class (Mondrian conformal), so the coverage holds within the depressed and within the
controls: at most about ``alpha`` of depressed participants are screened negative.

The three-way decision reads the set: {depressed} → screen positive; {not depressed} → screen negative;
both classes (the model cannot tell at this error rate) or neither (an interview unlike the calibration
set) → refer to a clinician.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import ConfigError, InputError

SCREEN_NEGATIVE, REFER, SCREEN_POSITIVE = "screen negative", "refer", "screen positive"
DECISIONS = (SCREEN_NEGATIVE, REFER, SCREEN_POSITIVE)
METADATA_KEY = "conformal"


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in (0, 1), else a ``ConfigError``."""
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise ConfigError(f"alpha must be a number, got {alpha!r}", fix="e.g. --alpha 0.1") from None
    if not 0.0 < value < 1.0:
        raise ConfigError(f"alpha must lie strictly between 0 and 1, got {value}", fix="e.g. --alpha 0.1 or 0.2")
    return value


def _quantile(scores: np.ndarray, alpha: float) -> float:
    """The ⌈(n + 1)(1 − alpha)⌉-th smallest score; 1.0 (everything included) when that exceeds n."""
    n = len(scores)
    k = math.ceil((n + 1) * (1.0 - alpha) - 1e-12)
    return 1.0 if k > n or n == 0 else float(np.sort(scores)[k - 1])


@dataclass(frozen=True)
class ConformalScreen:
    """``q_negative``/``q_positive``: the nonconformity cut-offs of the two classes (equal unless
    ``class_conditional``); a new interview of probability p includes "not depressed" when p ≤ q_negative
    and "depressed" when p ≥ 1 − q_positive."""

    alpha: float
    q_negative: float
    q_positive: float
    n_calibration: int
    class_conditional: bool = False

    @classmethod
    def fit(
        cls, p_cal: Sequence[float], y_cal: Sequence[int], alpha: float, class_conditional: bool = False
    ) -> ConformalScreen:
        """Cut-offs from calibration probabilities ``p_cal`` (positive class) and their 0/1 labels ``y_cal``."""
        alpha = check_alpha(alpha)
        p, y = np.asarray(p_cal, dtype=float).ravel(), np.asarray(y_cal).ravel()
        known = np.isfinite(p)
        p, y = p[known], y[known].astype(int)
        if len(p) != int(known.sum()) or not len(p) or not set(np.unique(y)) <= {0, 1}:
            raise InputError(
                f"conformal calibration needs finite probabilities with 0/1 labels; got {len(p)} usable pairs",
                fix="calibrate on the held-out predictions of labelled interviews",
            )
        scores = np.where(y == 1, 1.0 - p, p)  # 1 − probability of the true class
        if class_conditional:
            q_neg, q_pos = _quantile(scores[y == 0], alpha), _quantile(scores[y == 1], alpha)
        else:
            q_neg = q_pos = _quantile(scores, alpha)
        return cls(alpha, q_neg, q_pos, int(len(p)), bool(class_conditional))

    @property
    def t_negative(self) -> float:
        """Probabilities at or below this include "not depressed"."""
        return self.q_negative

    @property
    def t_positive(self) -> float:
        """Probabilities at or above this include "depressed"."""
        return 1.0 - self.q_positive

    def prediction_sets(self, prob: Sequence[float]) -> np.ndarray:
        """(n, 2) bool: column 0 "not depressed" in the set, column 1 "depressed" in the set."""
        p = np.asarray(prob, dtype=float).ravel()
        return np.stack([p <= self.t_negative, p >= self.t_positive], axis=1)

    def decide(self, prob: Sequence[float]) -> list[str]:
        """The three-way decision per probability (see the module doc)."""
        sets = self.prediction_sets(prob)
        return [
            SCREEN_POSITIVE if pos and not neg else SCREEN_NEGATIVE if neg and not pos else REFER for neg, pos in sets
        ]

    def to_dict(self) -> dict:
        return {**asdict(self), "t_negative": self.t_negative, "t_positive": self.t_positive}

    @classmethod
    def from_dict(cls, d: dict | None) -> ConformalScreen | None:
        if not d:
            return None
        return cls(
            float(d["alpha"]),
            float(d["q_negative"]),
            float(d["q_positive"]),
            int(d["n_calibration"]),
            bool(d.get("class_conditional", False)),
        )


def coverage_report(screen: ConformalScreen, prob: Sequence[float], y: Sequence[int]) -> dict[str, float]:
    """How the screen did on labelled test interviews: ``coverage`` (share whose set holds the true class),
    per class, ``referred`` (share referred), ``empty`` (share with an empty set) and, among the interviews
    not referred, ``accuracy``."""
    y = np.asarray(y).astype(int).ravel()
    sets = screen.prediction_sets(prob)
    covered = sets[np.arange(len(y)), y]
    single = sets.sum(axis=1) == 1
    decided = sets[:, 1] & single

    def share(mask: np.ndarray) -> float:
        return float(mask.mean()) if mask.size else float("nan")

    return {
        "alpha": screen.alpha,
        "n": int(len(y)),
        "coverage": share(covered),
        "coverage_depressed": share(covered[y == 1]),
        "coverage_control": share(covered[y == 0]),
        "referred": share(~single),
        "empty": share(sets.sum(axis=1) == 0),
        "accuracy_decided": share((decided == (y == 1))[single]),
    }


def classifier_calibration(clf) -> tuple[np.ndarray, np.ndarray] | None:
    """The classifier's held-out calibration set ``(oof_proba_, oof_y_)`` (out-of-fold predictions of its
    training bags), or None when the classifier does not carry one."""
    p, y = getattr(clf, "oof_proba_", None), getattr(clf, "oof_y_", None)
    if p is None or y is None:
        return None
    p, y = np.asarray(p, dtype=float).ravel(), np.asarray(y).ravel()
    return (p, y) if len(p) and len(p) == len(y) else None


def screen_of(clf, alpha: float | None = None) -> ConformalScreen | None:
    """The screen of a fitted classifier: fitted at ``alpha`` on its own calibration set when given (and
    present), else the one saved in its bundle metadata; None when neither exists."""
    if alpha is not None:
        cal = classifier_calibration(clf)
        if cal is not None:
            saved = ConformalScreen.from_dict((getattr(clf, "metadata_", None) or {}).get(METADATA_KEY))
            return ConformalScreen.fit(*cal, alpha, bool(saved and saved.class_conditional))
    return ConformalScreen.from_dict((getattr(clf, "metadata_", None) or {}).get(METADATA_KEY))


def cv_coverage(predictions: dict, alpha: float, class_conditional: bool = False) -> dict:
    """Achieved coverage and referral share of the screen on cross-validation's out-of-fold predictions
    (``CVResult.predictions``), pooled over folds and seeds. Each fold's screen is fitted on the classifier's
    own calibration set (``source: classifier``: out-of-fold predictions of its training bags, as the saved
    model does); a classifier without one is calibrated on the other folds' out-of-fold predictions of the
    same seed (``source: other folds``); a fold with neither (one dev split) is left out."""
    y, prob = predictions["y"], predictions["prob"]
    covered, referred, empty, kinds = [], [], [], set()
    by_class: dict[int, list] = {0: [], 1: []}
    for r, test, cal in predictions["folds"]:
        if cal is None:
            others = np.isfinite(prob[r]) & ~np.isin(np.arange(len(y)), test)
            if not others.any():
                continue
            cal, kind = (prob[r, others], y[others]), "other folds"
        else:
            kind = "classifier"
        kinds.add(kind)
        screen = ConformalScreen.fit(*cal, alpha, class_conditional)
        sets = screen.prediction_sets(prob[r, test])
        hit = sets[np.arange(len(test)), y[test]]
        covered.append(hit)
        referred.append(sets.sum(axis=1) != 1)
        empty.append(sets.sum(axis=1) == 0)
        for c in (0, 1):
            by_class[c].append(hit[y[test] == c])
    if not covered:
        return {"alpha": alpha, "source": None, "note": "no calibration set for any fold"}
    cat = np.concatenate
    return {
        "alpha": alpha,
        "class_conditional": class_conditional,
        "source": " + ".join(sorted(kinds)),
        "n": int(sum(len(c) for c in covered)),
        "coverage": float(cat(covered).mean()),
        "target": 1.0 - alpha,
        "coverage_control": float(cat(by_class[0]).mean()) if cat(by_class[0]).size else float("nan"),
        "coverage_depressed": float(cat(by_class[1]).mean()) if cat(by_class[1]).size else float("nan"),
        "referred": float(cat(referred).mean()),
        "empty": float(cat(empty).mean()),
    }
