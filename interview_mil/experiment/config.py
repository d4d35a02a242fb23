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
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import apply_overrides, from_dict, load_yaml, to_dict
from ..corpora import PREPARERS
from ..errors import ConfigError
from ..features import PARTS, FeatureConfig
from ..features.sets import FEATURE_SETS
from ..mil.metrics import THRESHOLD_METHODS
from ..segmentation import SegmentationConfig

EVAL_MODES = ("dev", "cv")


@dataclass(frozen=True)
class CorpusSection:
    """Which corpus and where. ``name``: a corpus registered in ``interview_mil.corpora.PREPARERS``;
    ``labels``: the labels CSV (``folder`` corpora only); ``options``: extra keyword arguments of the
    corpus's ``prepare_<name>`` function (``folder``: id_column, label_column, score_column, ...);
    ``synth``: SynthConfig (``synthetic``) or RealVoiceConfig (``realvoice``) fields, used to generate the
    corpus when ``root`` holds none yet."""

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
        if self.name in ("synthetic", "realvoice"):
            from ..corpora.realvoice import RealVoiceConfig
            from ..corpora.synthetic import SynthConfig

            try:
                synth = from_dict(SynthConfig if self.name == "synthetic" else RealVoiceConfig, dict(self.synth))
            except (ConfigError, ValueError) as exc:
                reason, fix = getattr(exc, "reason", exc), getattr(exc, "fix", None)
                raise ConfigError(f"corpus.synth: {reason}", fix=fix) from None
            if self.name == "synthetic":
                _check_synth_fractions(synth)


# Ranges of the numeric ``model.params`` (the classifier checks its names and types; these its values).
_AT_LEAST_ONE = ("max_epochs", "batch_size", "attention_dim", "n_models", "select_folds", "n_threads")
_NOT_NEGATIVE = ("weight_decay", "patience", "phq_weight")
_FRACTIONS = {"dropout": "[0, 1)", "input_dropout": "[0, 1)", "val_fraction": "[0, 1) (0: no validation split)"}


def _param_range_problem(name: str, value: Any) -> str | None:
    """What is wrong with the value of ``model.params.<name>`` (None when it is in range)."""
    if value is None or isinstance(value, (bool, str, dict)):
        if name == "threshold" and isinstance(value, str) and value not in THRESHOLD_METHODS:
            return "must be 'balanced', 'f1', 'sensitivity' or a number in [0, 1]"
        return None
    if name == "hidden":
        return None if all(int(h) >= 1 for h in value) else "every layer width must be >= 1"
    if name == "lr" and not value > 0:
        return "must be > 0"
    if name == "threshold" and not 0 <= value <= 1:
        return "must be 'balanced', 'f1', 'sensitivity' or a number in [0, 1]"
    if name == "target_sensitivity" and not 0 < value <= 1:
        return "must lie in (0, 1]"
    if name in _AT_LEAST_ONE and value < 1:
        return "must be >= 1"
    if name in _NOT_NEGATIVE and value < 0:
        return "must be >= 0"
    if name in _FRACTIONS and not 0 <= value < 1:
        return f"must lie in {_FRACTIONS[name]}"
    return None


def check_model_params(params: dict[str, Any], pooling: str) -> None:
    """``ConfigError`` naming ``model.params.<key>`` for a value of the wrong type (against the type hints
    of ``InterviewClassifier.__init__``) or out of range, then the classifier's own checks (threshold
    mode, speaker-relative mode, ...): everything ``fit`` would reject, found before any stage runs."""
    from ..config import convert_value
    from ..mil import InterviewClassifier

    hints = typing.get_type_hints(InterviewClassifier.__init__)
    signature = inspect.signature(InterviewClassifier.__init__)
    for name, value in params.items():
        where = f"model.params.{name}"
        if name in hints:
            try:
                convert_value(hints[name], value, where)
            except ConfigError as exc:
                default = signature.parameters[name].default
                raise ConfigError(exc.reason, fix=f"give {where} a value like its default, {default!r}") from None
        problem = _param_range_problem(name, value)
        if problem:
            raise ConfigError(f"{where}: {value!r} {problem}", fix=f"set {where} to a valid value")
    check = getattr(InterviewClassifier(pooling=pooling, **params), "_check_params", None)
    if check is not None:
        try:
            check()
        except ConfigError as exc:
            raise ConfigError(f"model.params: {exc.reason}", fix=exc.fix) from None


def _check_synth_fractions(synth: Any) -> None:
    """The shares of a synthetic corpus that its own config does not check (they would only fail, or
    silently misbehave, after minutes of generating audio)."""
    problems = [
        f"{name} {getattr(synth, name)} is outside [0, 1]"
        for name in ("depressed_fraction", "control_marker_prob")
        if not 0 <= getattr(synth, name) <= 1
    ]
    splits = synth.split_fractions
    if len(splits) != 3 or any(not 0 <= f <= 1 for f in splits) or abs(sum(splits) - 1) > 1e-6:
        problems.append(f"split_fractions {list(splits)} must be three shares (train, dev, test) summing to 1")
    if synth.target_duration_s <= 0:
        problems.append(f"target_duration_s {synth.target_duration_s} must be > 0")
    if problems:
        raise ConfigError(
            f"corpus.synth: {'; '.join(problems)}", fix="e.g. depressed_fraction: 0.4, split_fractions: [0.6, 0.2, 0.2]"
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
    the classifier on its training turns and saved with it (``mil.projection``). ``feature_set``: which
    prosody columns form the turn vector (``features.sets``: ``full`` or the clinically motivated ``core``);
    the trained model keeps its columns, so ``score`` selects the same ones. ``preset``: a named model of
    ``mil.presets`` (``interview``, the default interview model) whose values fill every key the section does
    not give itself (resolved when the config is loaded; the resolved config holds every value)."""

    preset: str | None = None
    pooling: str = "attention"
    parts: tuple[str, ...] = ("prosody",)
    params: dict[str, Any] = field(default_factory=dict)
    embedding_pcs: int | None = None  # PCA of the embedding columns (fitted on training turns); None = raw
    feature_set: str = "full"

    def __post_init__(self) -> None:
        from ..mil import POOLINGS
        from ..mil.presets import get_preset

        if self.preset is not None:
            get_preset(self.preset)
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
        check_model_params(self.params, self.pooling)
        if self.feature_set not in FEATURE_SETS:
            raise ConfigError(
                f"model.feature_set {self.feature_set!r} is unknown", fix=f"use one of {list(FEATURE_SETS)}"
            )
        if self.embedding_pcs is not None and self.embedding_pcs < 1:
            raise ConfigError(
                f"model.embedding_pcs must be >= 1 or null, got {self.embedding_pcs}",
                fix="null keeps the raw embedding columns",
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

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.n_random < 0:
            raise ConfigError(
                f"explain.top_k must be >= 1 and explain.n_random >= 0, got {self.top_k} and {self.n_random}",
                fix="the defaults are top_k: 3, n_random: 20",
            )


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


_NEEDS = (
    "an experiment config needs at least a corpus section, e.g.\n"
    "    corpus: {name: synthetic, root: data/synthetic}\n"
    "  and usually model and evaluation sections (start from a file in recipes/*/conf/)"
)


def load_experiment_config(path: str | Path | None, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read ``path`` (None: all defaults, for Python use), apply dotted ``overrides``, build the
    dataclasses. Every value is checked here, before any stage runs. A file that is empty or names no
    corpus is an error (the defaults would silently generate and train on a synthetic corpus)."""
    if not path:
        return from_dict(ExperimentConfig, _with_preset(apply_overrides({}, list(overrides))))
    data = load_yaml(path)
    if not data:
        raise ConfigError("the config file is empty", path=path, fix=_NEEDS)
    data = _with_preset(apply_overrides(data, list(overrides)))
    config = from_dict(ExperimentConfig, data, source=path)
    if not isinstance(data.get("corpus"), dict) or "name" not in data["corpus"]:
        raise ConfigError("the config names no corpus (corpus.name)", path=path, fix=_NEEDS)
    return config


def _with_preset(data: dict) -> dict:
    """``model.preset`` expanded into the model section's values (``mil.presets.expand_model_section``)."""
    from ..mil.presets import expand_model_section

    model = data.get("model")
    if not isinstance(model, dict) or not model.get("preset"):
        return data
    return {**data, "model": expand_model_section(model)}


def config_dict(config: ExperimentConfig) -> dict:
    """Plain mapping of the resolved config (what ``config.yaml`` in the experiment folder holds)."""
    return to_dict(config)
