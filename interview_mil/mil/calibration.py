"""Calibrated probabilities: Platt scaling of the interview logit, fitted on held-out predictions.

A network trained on a few dozen bags, or a committee of them, gives logits whose sigmoid is not a
frequency: positives at 0.99 and negatives at 0.01 where the model is right only four times in five.
``fit_platt`` fits ``logit' = a · logit + b`` by logistic regression on predictions of bags the scoring model
never trained on — the interview head's inner out-of-fold logits, or the committee's validation
predictions — and ``calibrate`` attaches it to a fitted classifier: ``calibration_`` (applied inside
``predict_proba``), ``oof_proba_``/``oof_y_`` (the calibrated held-out probabilities and their labels, the
calibration set that split-conformal prediction uses) and a threshold chosen on the data moved to the
calibrated scale (the same decisions). With fewer than 4 held-out bags of both classes it is the identity
(``method == "none"``), and says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..errors import ConfigError

MIN_BAGS = 4


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


@dataclass
class Calibration:
    """``logit' = a · logit + b``; ``method``: "platt" or "none"; ``n_bags``: held-out bags it was fitted
    on; ``source``: which predictions those were."""

    a: float = 1.0
    b: float = 0.0
    method: str = "none"
    n_bags: int = 0
    source: str = ""

    def apply(self, z: np.ndarray) -> np.ndarray:
        return self.a * np.asarray(z, dtype=np.float64) + self.b

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> Calibration | None:
        return None if not d else cls(**{k: d[k] for k in ("a", "b", "method", "n_bags", "source") if k in d})


def fit_platt(z: np.ndarray, y: np.ndarray, source: str) -> Calibration:
    """Platt scaling of held-out logits ``z`` (n,) against labels ``y`` (n,); the identity when there are
    too few bags, one class only, or the fitted slope is not positive (the ranking would flip)."""
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.int64)
    keep = np.isfinite(z)
    z, y = z[keep], y[keep]
    if len(z) < MIN_BAGS or len(np.unique(y)) < 2:
        return Calibration(n_bags=len(z), source=f"{source} (too few held-out bags to calibrate)")
    # mild L2 (C=10 on the standardised logit) keeps the slope finite where held-out logits separate
    mu, sd = float(z.mean()), float(z.std()) + 1e-9
    fit = LogisticRegression(C=10.0, max_iter=1000).fit(((z - mu) / sd)[:, None], y)
    a = float(fit.coef_[0, 0]) / sd
    b = float(fit.intercept_[0]) - a * mu
    if not a > 0:
        return Calibration(n_bags=len(z), source=f"{source} (no positive slope: left uncalibrated)")
    return Calibration(a, b, "platt", len(z), source)


METHODS = ("platt", "none")


def calibrate(est, z: np.ndarray, y: np.ndarray, source: str, method: str = "platt") -> None:
    """Fit and attach the calibration (``method``: "platt" or "none") of a fitted classifier ``est`` from its
    held-out logits ``z`` and labels ``y``; a threshold chosen on the data (``est.threshold`` a string) moves
    to the calibrated scale, so decisions stay the same."""
    if method not in METHODS:
        raise ConfigError(f"unknown calibration {method!r}", fix=f"use one of {list(METHODS)}")
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.int64)
    cal = fit_platt(z, y, source) if method == "platt" else Calibration(n_bags=0, source="not asked for")
    keep = np.isfinite(z)
    est.calibration_ = cal
    est.oof_proba_ = sigmoid(cal.apply(z[keep]))
    est.oof_y_ = y[keep]
    if isinstance(est.threshold, str) and cal.method != "none":
        est.threshold_ = float(sigmoid(cal.apply(logit(np.array([est.threshold_]))))[0])
