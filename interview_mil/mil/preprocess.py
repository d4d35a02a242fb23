"""Imputation and standardisation learned on the training split only, saved with the model.

Missing values (NaN, ±inf) are imputed with the training-split median of the column; a column that
had missing values in training also gets a 0/1 missingness indicator (appended after the features).
Every column is then standardised with the training mean and standard deviation (over instances).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import FeatureError


@dataclass
class FeatureScaler:
    """Fitted statistics. ``medians`` (F,); ``indicator_columns`` indices of columns with a missingness
    indicator; ``mean``/``std`` (F + n_indicators,) of the imputed (and indicator-extended) instances."""

    feature_names: list[str]
    medians: np.ndarray
    indicator_columns: list[int]
    mean: np.ndarray
    std: np.ndarray

    @property
    def n_features_in(self) -> int:
        return len(self.medians)

    @property
    def n_features_out(self) -> int:
        return len(self.mean)

    @property
    def output_names(self) -> list[str]:
        return self.feature_names + [f"{self.feature_names[j]}__missing" for j in self.indicator_columns]

    @classmethod
    def fit(
        cls,
        bags: Sequence[np.ndarray],
        feature_names: Sequence[str] | None = None,
        indicators: bool = True,
        source: str | None = None,
    ) -> FeatureScaler:
        """Learn the statistics from training bags (each (n_i, F)); raise on all-missing columns."""
        X = np.concatenate([np.asarray(b, dtype=np.float64) for b in bags], axis=0)  # (n_instances, F)
        names = list(feature_names) if feature_names is not None else [f"f{j}" for j in range(X.shape[1])]
        if len(names) != X.shape[1]:
            raise FeatureError(
                f"{len(names)} feature names for {X.shape[1]} feature columns",
                path=source,
                fix="give one name per feature column",
            )
        missing = ~np.isfinite(X)  # (n_instances, F)
        all_missing = np.flatnonzero(missing.all(axis=0))
        if all_missing.size:
            shown = [names[j] for j in all_missing[:10]]
            raise FeatureError(
                f"feature column(s) {shown}{' ...' if all_missing.size > 10 else ''} "
                f"({all_missing.size} in all) are entirely missing (NaN) in the training data",
                path=source,
                fix="drop these columns (e.g. --exclude-cols) or fix the feature extraction that produced them",
            )
        clean = np.where(missing, np.nan, X)
        medians = np.nanmedian(clean, axis=0)  # (F,)
        indicator_columns = np.flatnonzero(missing.any(axis=0)).tolist() if indicators else []
        scaler = cls(names, medians, indicator_columns, np.zeros(0), np.ones(0))
        imputed = scaler._impute(X)  # (n_instances, F + n_ind)
        scaler.mean = imputed.mean(axis=0)
        std = imputed.std(axis=0)
        scaler.std = np.where(std > 1e-12, std, 1.0)  # constant columns pass through centred
        return scaler

    def _impute(self, X: np.ndarray) -> np.ndarray:
        """(n, F) → (n, F + n_indicators) with missing values replaced by the training medians."""
        missing = ~np.isfinite(X)
        filled = np.where(missing, self.medians[None, :], X)
        if self.indicator_columns:
            filled = np.concatenate([filled, missing[:, self.indicator_columns].astype(np.float64)], axis=1)
        return filled

    def transform_bag(self, bag: np.ndarray) -> np.ndarray:
        """One bag (n, F) → float32 (n, F + n_indicators), imputed and standardised."""
        X = np.asarray(bag, dtype=np.float64)
        return ((self._impute(X) - self.mean) / self.std).astype(np.float32)

    def transform(self, bags: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [self.transform_bag(b) for b in bags]

    def to_dict(self) -> dict:
        return {
            "feature_names": list(self.feature_names),
            "medians": [float(v) for v in self.medians],
            "indicator_columns": [int(j) for j in self.indicator_columns],
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureScaler:
        return cls(
            list(data["feature_names"]),
            np.asarray(data["medians"], dtype=np.float64),
            [int(j) for j in data["indicator_columns"]],
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["std"], dtype=np.float64),
        )
