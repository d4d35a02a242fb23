"""``TurnFeatures``: the features of one interview's turns, as the MIL stage reads them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConfigError, FeatureError

PARTS = ("prosody", "embedding")


@dataclass
class TurnFeatures:
    """One interview (a bag): ``prosody`` rows and ``embeddings`` rows follow ``turn_ids``.

    ``prosody``: feature columns then boolean ``flag_*`` columns (no turn_id), NaN where not measurable.
    ``embeddings``: float32 (n_turns, dim), or (n_turns, n_layers, dim) when layers were kept side by side.
    """

    interview_id: str
    turn_ids: list[str]
    prosody: pd.DataFrame | None
    embeddings: np.ndarray | None

    @property
    def n_turns(self) -> int:
        return len(self.turn_ids)

    def prosody_columns(self) -> list[str]:
        """The numeric prosody feature columns (flags excluded)."""
        if self.prosody is None:
            return []
        return [c for c in self.prosody.columns if not str(c).startswith("flag_") and c != "turn_id"]

    def matrix(self, parts: Sequence[str] = PARTS) -> tuple[np.ndarray, list[str]]:
        """(n_turns, n_features) float32 with NaN kept, and the column names: prosody features by name,
        embedding dimensions as ``emb_0000``...; flags are excluded and kept layers are averaged."""
        unknown = [p for p in parts if p not in PARTS]
        if unknown:
            raise ConfigError(f"unknown feature part(s) {unknown}", fix=f"use any of {list(PARTS)}")
        blocks: list[np.ndarray] = []
        names: list[str] = []
        if "prosody" in parts and self.prosody is not None:
            columns = self.prosody_columns()
            blocks.append(self.prosody[columns].to_numpy(dtype=np.float32, na_value=np.nan))
            names += columns
        if "embedding" in parts and self.embeddings is not None:
            emb = np.asarray(self.embeddings, dtype=np.float32)
            if emb.ndim == 3:
                emb = emb.mean(axis=1)
            blocks.append(emb)
            names += [f"emb_{i:04d}" for i in range(emb.shape[1])]
        if not blocks:
            raise FeatureError(
                f"interview {self.interview_id!r}: none of the parts {list(parts)} were computed",
                fix="featurize with prosody and/or an encoder configured",
            )
        return np.concatenate(blocks, axis=1).reshape(self.n_turns, -1), names
