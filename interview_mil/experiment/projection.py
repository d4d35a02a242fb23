"""Optional PCA of the speech-model embedding columns, fitted on training turns only.

A 384–1024-d embedding next to ~40 prosody columns swamps a MIL model trained on a few dozen interviews.
``model.embedding_pcs: k`` keeps the prosody columns and replaces the ``emb_*`` columns by their first
``k`` principal components (centred with the training mean). The projection is part of the model: it is
fitted inside each training fold, saved in the bundle's metadata and applied by ``score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import FeatureError


@dataclass
class EmbeddingProjection:
    """``emb`` columns → ``components`` (k, d) after subtracting ``mean`` (d,); other columns kept."""

    input_names: list[str]
    mean: np.ndarray
    components: np.ndarray

    @property
    def emb_index(self) -> np.ndarray:
        return np.asarray([j for j, n in enumerate(self.input_names) if n.startswith("emb_")], dtype=int)

    @property
    def keep_index(self) -> np.ndarray:
        return np.asarray([j for j, n in enumerate(self.input_names) if not n.startswith("emb_")], dtype=int)

    @property
    def output_names(self) -> list[str]:
        return [self.input_names[j] for j in self.keep_index] + [f"emb_pc{k + 1:02d}" for k in range(len(self.components))]

    def apply(self, bag: np.ndarray) -> np.ndarray:
        """(n, len(input_names)) → (n, len(output_names)); NaN embedding rows stay NaN."""
        if bag.shape[1] != len(self.input_names):
            raise FeatureError(f"{bag.shape[1]} feature columns, the projection expects {len(self.input_names)}")
        emb = bag[:, self.emb_index].astype(np.float64) - self.mean
        pcs = emb @ self.components.T
        return np.hstack([bag[:, self.keep_index], pcs.astype(np.float32)]).astype(np.float32)

    def to_dict(self) -> dict:
        return {"input_names": list(self.input_names), "mean": self.mean.tolist(),
                "components": self.components.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "EmbeddingProjection":
        return cls(list(data["input_names"]), np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["components"], dtype=np.float64))


def fit_projection(bags: Sequence[np.ndarray], names: Sequence[str], k: int | None) -> EmbeddingProjection | None:
    """PCA of the embedding columns over all training turns; None when ``k`` is None or there are none."""
    emb = [j for j, n in enumerate(names) if n.startswith("emb_")]
    if not k or not emb:
        return None
    rows = np.concatenate([b[:, emb] for b in bags], axis=0).astype(np.float64)
    rows = rows[np.isfinite(rows).all(axis=1)]
    if len(rows) < 2:
        raise FeatureError("too few training turns with embeddings for model.embedding_pcs")
    mean = rows.mean(axis=0)
    _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
    return EmbeddingProjection(list(names), mean, vt[: min(k, len(vt))])


def project(bags: Sequence[np.ndarray], projection: EmbeddingProjection | None) -> list[np.ndarray]:
    return list(bags) if projection is None else [projection.apply(b) for b in bags]
