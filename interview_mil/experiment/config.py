"""The experiment config: one YAML file → frozen dataclasses, one section per pipeline stage.

    name: prosody_attention
    corpus:       {name: synthetic, root: data/synthetic, synth: {n_interviews: 20, seed: 1}}
    segmentation: {...}   # SegmentationConfig fields (interview_mil.segmentation)
    features:     {prosody: {...}, encoder: null}          # FeatureConfig fields (interview_mil.features)
    model:        {pooling: attention, parts: [prosody], params: {max_epochs: 100}}
    evaluation:   {mode: dev, seeds: [0, 1, 2]}
    explain:      {top_k: 3}

Unknown keys are errors at every level; ``a.b=value`` overrides apply before the dataclasses are built.
Relative paths (``corpus.root``, ``corpus.labels``) are taken from the working directory the command is
run in (recipes run from their own folder).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import apply_overrides, from_dict, load_yaml, to_dict
from ..corpora import PREPARERS
from ..errors import ConfigError
from ..features import PARTS, FeatureConfig
from ..segmentation import SegmentationConfig

EVAL_MODES = ("dev", "cv")


@dataclass(frozen=True)
class CorpusSection:
    """Which corpus and where. ``name``: a corpus registered in ``interview_mil.corpora.PREPARERS``;
    ``labels``: the labels CSV (``folder`` corpora only); ``options``: extra keyword arguments of the
    corpus's ``prepare_<name>`` function (``folder``: id_column, label_column, score_column, ...);
    ``synth``: SynthConfig fields, used to generate the synthetic corpus when ``root`` does not exist."""

    name: str = "synthetic"
    root: str = "data/synthetic"
    labels: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    synth: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in PREPARERS:
            raise ConfigError(f"corpus.name {self.name!r} is unknown", fix=f"use one of {PREPARERS.names()}")
        if self.name == "folder" and not self.labels:
            raise ConfigError(
                "corpus.labels is required for a folder corpus",
                fix="give the CSV with an id column and a label or score column",
            )


def classifier_param_names() -> set[str]:
    """Keywords ``model.params`` may set: those ``InterviewClassifier`` accepts, less ``pooling``,
    ``embedding_pcs`` (their own keys of the model section) and ``seed`` (from ``evaluation.seeds``)."""
    from ..mil import InterviewClassifier

    names = set(inspect.signature(InterviewClassifier.__init__).parameters) - {"self"}
    return names - {"pooling", "seed", "embedding_pcs"}


@dataclass(frozen=True)
class ModelSection:
    """The MIL model: ``pooling`` (attention, gated_attention, noisy_or, mean, max), which feature
    ``parts`` form the turn vector, and any other ``InterviewClassifier`` keyword in ``params``.
    ``embedding_pcs``: replace the embedding columns by their first k principal components, fitted by
    the classifier on its training turns and saved with it (``mil.projection``)."""

    pooling: str = "attention"
    parts: tuple[str, ...] = ("prosody",)
    params: dict[str, Any] = field(default_factory=dict)
    embedding_pcs: int | None = None  # PCA of the embedding columns (fitted on training turns); None = raw

    def __post_init__(self) -> None:
        from ..mil import POOLINGS

        POOLINGS.get(self.pooling)
        bad = [p for p in self.parts if p not in PARTS]
        if bad or not self.parts:
            raise ConfigError(f"model.parts {list(self.parts)} is invalid", fix=f"choose from {list(PARTS)}")
        unknown = sorted(set(self.params) - classifier_param_names())
        if unknown:
            raise ConfigError(
                f"unknown key(s) {['model.params.' + k for k in unknown]}",
                fix=f"valid keys: {sorted(classifier_param_names())}",
            )


@dataclass(frozen=True)
class EvaluationSection:
    """``mode: dev``: for each seed, train on ``train_splits`` and score ``eval_split``; ``mode: cv``:
    stratified grouped ``folds``-fold CV over the labelled interviews of ``cv_splits``, repeated per
    seed. Results are mean ± sd over seeds, never the best run. ``baseline``: also fit the
    interview-mean logistic regression on the same splits."""

    mode: str = "dev"
    seeds: tuple[int, ...] = (0, 1, 2)
    folds: int = 5
    train_splits: tuple[str, ...] = ("train",)
    eval_split: str = "dev"
    cv_splits: tuple[str, ...] = ("train", "dev")
    baseline: bool = True

    def __post_init__(self) -> None:
        if self.mode not in EVAL_MODES:
            raise ConfigError(f"evaluation.mode {self.mode!r} is unknown", fix=f"use one of {list(EVAL_MODES)}")
        if not self.seeds:
            raise ConfigError("evaluation.seeds is empty", fix="give at least one seed, e.g. [0, 1, 2]")
        if self.folds < 2:
            raise ConfigError("evaluation.folds must be at least 2")


@dataclass(frozen=True)
class ExplainSection:
    """``top_k`` turns listed per interview and used for the faithfulness check (against
    ``n_random`` random removals)."""

    top_k: int = 3
    n_random: int = 20


@dataclass(frozen=True)
class ExperimentConfig:
    name: str = "experiment"
    corpus: CorpusSection = field(default_factory=CorpusSection)
    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelSection = field(default_factory=ModelSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    explain: ExplainSection = field(default_factory=ExplainSection)

    def __post_init__(self) -> None:
        if "embedding" in self.model.parts and self.features.encoder is None:
            raise ConfigError(
                "model.parts uses 'embedding' but features.encoder is not set",
                fix="set features.encoder (backend, model) or use model.parts: [prosody]",
            )
        if "prosody" in self.model.parts and self.features.prosody is None:
            raise ConfigError("model.parts uses 'prosody' but features.prosody is null")


def load_experiment_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read ``path`` (None: all defaults), apply dotted ``overrides``, build the dataclasses."""
    data = load_yaml(path) if path else {}
    return from_dict(ExperimentConfig, apply_overrides(data, list(overrides)), source=path)


def config_dict(config: ExperimentConfig) -> dict:
    """Plain mapping of the resolved config (what ``config.yaml`` in the experiment folder holds)."""
    return to_dict(config)
