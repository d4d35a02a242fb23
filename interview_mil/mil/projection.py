"""PCA of a block of columns (by default the speech-model embedding ``emb_*``), fitted on training instances.

A 384–1024-d embedding next to ~40 prosody columns swamps a MIL model trained on a few dozen
interviews. :class:`EmbeddingProjection` keeps every other column and replaces the columns whose names
start with ``prefix`` by their first ``k`` principal components, centred with the training mean. It is
fitted inside :meth:`InterviewClassifier.fit` (``embedding_pcs=k``) and saved in the model bundle, so
prediction always takes the raw columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import FeatureError

DEFAULT_PREFIX = "emb_"


@dataclass
class EmbeddingProjection:
    """``input_names`` (F,) raw columns; ``mean`` (d,) and ``components`` (k, d) of the d columns whose
    names start with ``prefix``. Output: the other F − d columns in their order, then k components."""

    input_names: list[str]
    mean: np.ndarray
    components: np.ndarray
    prefix: str = DEFAULT_PREFIX

    @property
    def projected_index(self) -> np.ndarray:
        """Positions of the projected columns, (d,) int."""
        return np.asarray([j for j, n in enumerate(self.input_names) if n.startswith(self.prefix)], dtype=int)

    @property
    def keep_index(self) -> np.ndarray:
        """Positions of the columns passed through, (F − d,) int."""
        return np.asarray([j for j, n in enumerate(self.input_names) if not n.startswith(self.prefix)], dtype=int)

    @property
    def output_names(self) -> list[str]:
        """Kept names, then ``{prefix}pc01`` … ``{prefix}pc{k}``."""
        kept = [self.input_names[j] for j in self.keep_index]
        return kept + [f"{self.prefix}pc{k + 1:02d}" for k in range(len(self.components))]

    def apply(self, bag: np.ndarray) -> np.ndarray:
        """(n, F) → float32 (n, F − d + k); a row with a missing (NaN) projected value gets NaN components."""
        bag = np.asarray(bag)
        if bag.ndim != 2 or bag.shape[1] != len(self.input_names):
            raise FeatureError(
                f"bag of shape {bag.shape}: the projection expects {len(self.input_names)} columns",
                fix="give the raw feature columns the model was trained with",
            )
        centred = bag[:, self.projected_index].astype(np.float64) - self.mean  # (n, d)
        pcs = centred @ self.components.T  # (n, k)
        return np.hstack([bag[:, self.keep_index], pcs.astype(np.float32)]).astype(np.float32)

    def transform(self, bags: Sequence[np.ndarray]) -> list[np.ndarray]:
        """:meth:`apply` on every bag."""
        return [self.apply(b) for b in bags]

    def to_dict(self) -> dict:
        """Plain JSON lists (saved in the model bundle)."""
        return {
            "input_names": list(self.input_names),
            "prefix": self.prefix,
            "mean": self.mean.tolist(),
            "components": self.components.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> EmbeddingProjection:
        d = len(data["mean"])
        return cls(
            list(data["input_names"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["components"], dtype=np.float64).reshape(-1, d),
            data.get("prefix", DEFAULT_PREFIX),
        )

    @classmethod
    def fit(
        cls, bags: Sequence[np.ndarray], names: Sequence[str], n_components: int | None, prefix: str = DEFAULT_PREFIX
    ) -> EmbeddingProjection | None:
        """PCA over all training instances (rows) whose ``prefix`` columns are all finite.

        ``bags``: (n_i, F) arrays; ``names``: (F,). Returns None when ``n_components`` is None/0 or no
        name starts with ``prefix``. Keeps min(k, rows, d) components.
        """
        index = [j for j, n in enumerate(names) if str(n).startswith(prefix)]
        if not n_components or not index:
            return None
        if int(n_components) < 1:
            raise FeatureError(f"embedding_pcs={n_components}: the number of components must be at least 1")
        rows = np.concatenate([np.asarray(b)[:, index] for b in bags], axis=0).astype(np.float64)  # (n, d)
        rows = rows[np.isfinite(rows).all(axis=1)]
        if len(rows) < 2:
            raise FeatureError(
                f"{len(rows)} training instance(s) with all {prefix}* columns present: too few "
                "for a PCA of the embedding",
                fix="train without embedding_pcs, or on more turns",
            )
        mean = rows.mean(axis=0)  # (d,)
        _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)  # (min(n, d), d)
        return cls([str(n) for n in names], mean, vt[: min(int(n_components), len(vt))], prefix)
