"""Named model presets: the one place where the default interview model and the MIL benchmark setting live.

A preset is the model section of an experiment (pooling, prosody feature set, embedding projection and the
``InterviewClassifier`` keywords). The recipes' ``conf/default.yaml`` name ``model: {preset: interview}``, the
demo builds its model from it, ``bags-cv`` starts from ``bags-benchmark``; a key given beside ``preset:`` in
a config (or as a dotted override) replaces the preset's value, and the resolved config written into the
experiment folder holds every value. How each was chosen (development cells only) is in ``docs/benchmarks.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError


@dataclass(frozen=True)
class ModelPreset:
    """``pooling``; ``feature_set`` (``features.sets``); ``embedding_pcs`` (PCA of the embedding columns, used
    when the turn vector has them); ``params``: further ``InterviewClassifier`` keywords."""

    name: str
    summary: str
    pooling: str = "attention"
    feature_set: str = "full"
    embedding_pcs: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def model_section(self) -> dict[str, Any]:
        """The preset as the keys of an experiment's ``model:`` section."""
        return {
            "pooling": self.pooling,
            "feature_set": self.feature_set,
            "embedding_pcs": self.embedding_pcs,
            "params": dict(self.params),
        }

    def classifier_params(self) -> dict[str, Any]:
        """The preset as ``InterviewClassifier`` keywords."""
        return {"pooling": self.pooling, "embedding_pcs": self.embedding_pcs, **self.params}


INTERVIEW = ModelPreset(
    name="interview",
    summary=(
        "the default interview model: the clinically motivated core prosody set (plus the encoder's embedding, "
        "8 principal components, where the recipe has one), each turn described both as measured and relative "
        "to the same speaker's other turns, attention pooling, a committee of five networks trained 40 epochs on "
        "all training interviews, stacked with an interview-level model of turn functionals (weights from inner "
        "folds; the network always keeps its share); the decision threshold for balanced accuracy; Platt "
        "calibration kept only where it helps held-out predictions"
    ),
    pooling="attention",
    feature_set="core",
    embedding_pcs=8,
    params={
        "speaker_relative": "append",
        "val_fraction": 0.0,
        "max_epochs": 40,
        "n_models": 5,
        "interview_head": True,
        "head_rule": "stacked",
        "threshold": "balanced",
        "calibration": "auto",
    },
)

BAGS_BENCHMARK = ModelPreset(
    name="bags-benchmark",
    summary=(
        "the MIL engine's setting on generic bags (bags-cv): a committee of five attention networks trained 25 "
        "epochs on all training bags (chosen on inner holdouts of the classic MIL sets)"
    ),
    pooling="attention",
    feature_set="full",
    embedding_pcs=None,
    params={"val_fraction": 0.0, "max_epochs": 25, "n_models": 5},
)

PRESETS: dict[str, ModelPreset] = {p.name: p for p in (INTERVIEW, BAGS_BENCHMARK)}
DEFAULT_PRESET = INTERVIEW.name


def get_preset(name: str) -> ModelPreset:
    if name not in PRESETS:
        raise ConfigError(f"unknown model preset {name!r}", fix=f"use one of {sorted(PRESETS)}")
    return PRESETS[name]


def expand_model_section(model: Mapping[str, Any]) -> dict[str, Any]:
    """A config's ``model:`` mapping with its ``preset`` filled in: the preset's values first, then every key
    the mapping gives itself (``params`` merged key by key). Without ``preset`` the mapping is returned as is."""
    model = dict(model)
    name = model.get("preset")
    if not name:
        return model
    base = get_preset(str(name)).model_section()
    params = {**base.pop("params"), **dict(model.pop("params", None) or {})}
    return {**base, **model, "params": params}
