"""``Bag``: one interview ready for the MIL stage — its record, its turns and their feature rows, in turn
order — and ``bag_from_features``, which builds it from a ``TurnFeatures`` (store or fresh features)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.records import Interview, Turn
from ..errors import FeatureError
from .turn_features import TurnFeatures


@dataclass
class Bag:
    """``X``: (n_turns, n_features) float32 with NaN kept, rows following ``turns``; ``feature_names``: one
    per column; ``prosody``: the turns' prosody table indexed by turn_id (for readable explanations), or
    None when prosody was not computed."""

    interview: Interview
    turns: list[Turn]
    X: np.ndarray
    feature_names: list[str]
    prosody: pd.DataFrame | None = None

    @property
    def interview_id(self) -> str:
        return self.interview.interview_id

    def select(self, keep: Sequence[int]) -> Bag:
        """The same bag with only the feature columns at positions ``keep``."""
        keep = list(keep)
        return Bag(
            self.interview,
            self.turns,
            np.ascontiguousarray(self.X[:, keep]),
            [self.feature_names[j] for j in keep],
            self.prosody,
        )


def bag_from_features(
    interview: Interview,
    turns: Sequence[Turn],
    features: TurnFeatures,
    parts: Sequence[str],
    columns: Sequence[str] | None = None,
) -> Bag:
    """The ``Bag`` of ``interview``: feature rows of ``features`` in the order of ``turns``.

    ``parts``: which features form the turn vector (``prosody``, ``embedding``); ``columns``: keep exactly
    these feature columns, in this order (a trained model's inputs). ``FeatureError`` naming the interview
    when a turn has no features or a needed column is absent.
    """
    matrix, names = features.matrix(tuple(parts))
    if columns is not None:
        where = {n: j for j, n in enumerate(names)}
        absent = [c for c in columns if c not in where]
        if absent:
            raise FeatureError(
                f"interview {features.interview_id}: the model needs feature columns the features lack: {absent[:5]}",
                path=interview.audio_path,
                fix="use the feature settings and interview-mil version the model was trained with",
            )
        matrix, names = matrix[:, [where[c] for c in columns]], list(columns)
    position = {tid: k for k, tid in enumerate(features.turn_ids)}
    missing = [t.turn_id for t in turns if t.turn_id not in position]
    if missing:
        raise FeatureError(
            f"interview {features.interview_id}: no features for turns {missing[:5]}",
            path=interview.audio_path,
            fix="features are older than the turns table: rerun featurize",
        )
    order = [position[t.turn_id] for t in turns]
    prosody = None
    if features.prosody is not None:
        prosody = features.prosody.iloc[order].copy()
        prosody.index = [t.turn_id for t in turns]
    return Bag(interview, list(turns), np.ascontiguousarray(matrix[order], dtype=np.float32), list(names), prosody)
