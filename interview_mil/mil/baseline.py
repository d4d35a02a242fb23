"""Interview-mean baseline: logistic regression on bag-averaged features.

The same imputation and standardisation as the MIL models (training-split medians and statistics)
is applied to the instances first, then each bag is averaged into one vector. MIL should beat this
where the evidence sits in a minority of turns, since averaging dilutes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..errors import FeatureError
from .bags import check_bags, check_labels
from .preprocess import FeatureScaler


@dataclass
class MeanBaseline:
    """A fitted interview-mean baseline: ``scaler`` (instance statistics) and ``model`` (logistic regression)."""

    scaler: FeatureScaler
    model: LogisticRegression

    def bag_means(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        """(n_bags, F') matrix of per-bag means of the imputed, standardised instances."""
        bags = check_bags(bags, self.scaler.n_features_in)
        return np.stack([self.scaler.transform_bag(b).mean(axis=0) for b in bags])

    def predict_proba(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities (n_bags, 2); column 1 is the positive class."""
        return self.model.predict_proba(self.bag_means(bags))

    def predict(self, bags: Sequence[np.ndarray], threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(bags)[:, 1] >= threshold).astype(np.int64)


def interview_mean_baseline(
    bags: Sequence[np.ndarray],
    y: Sequence[int],
    C: float = 1.0,
    class_weight: str | None = "balanced",
    missing_indicators: bool = True,
    feature_names: Sequence[str] | None = None,
    seed: int = 0,
) -> MeanBaseline:
    """Fit the baseline on training bags (each (n_i, F)) and labels; returns a :class:`MeanBaseline`.

    ``C``: inverse L2 strength of the logistic regression; ``class_weight="balanced"`` mirrors the
    class weighting of the MIL training loop.
    """
    bags = check_bags(bags)
    y = check_labels(y, len(bags))
    if len(np.unique(y)) < 2:
        raise FeatureError("training bags hold only one class", fix="train with both positive and negative bags")
    scaler = FeatureScaler.fit(bags, feature_names, missing_indicators)
    means = np.stack([scaler.transform_bag(b).mean(axis=0) for b in bags])  # (n_bags, F')
    model = LogisticRegression(C=C, class_weight=class_weight, max_iter=5000, random_state=seed)
    model.fit(means, y)
    return MeanBaseline(scaler, model)
