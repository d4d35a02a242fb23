"""Checks of a model bundle read from disk, before a classifier is rebuilt from it.

``check_bundle(config, tensors, directory)`` raises one :class:`BundleError` per problem, naming the file
and the field: the JSON layout and value types of ``config.json``, the lengths of the fitted statistics
against the feature names they belong to (projection, scaler), and the names and shapes of the tensors in
``model.safetensors`` against the architecture ``state.model_config`` describes. A damaged or hand-edited
bundle is then a clear message, never a traceback at load time or a wrong answer for every recording later.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ..errors import BundleError, InterviewMilError
from .model import ModelConfig, build_model
from .relative import RELATIVE_MODES, relative_names
from .state import REQUIRED_STATE

DAMAGED_FIX = "the bundle is damaged or was edited by hand: retrain it (`interview-mil train`) or restore its files"


def _is_number(value: Any, allow_none: bool = False) -> bool:
    if value is None:
        return allow_none
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(value: Any, what: str, path: Path, length: int | None = None, allow_none: bool = True) -> list:
    """``value`` must be a list of numbers (JSON null stands for NaN), of ``length`` when given."""
    if not isinstance(value, list) or not all(_is_number(v, allow_none) for v in value):
        raise BundleError(f"{what} must be a list of numbers", path=path, fix=DAMAGED_FIX)
    if length is not None and len(value) != length:
        raise BundleError(f"{what} has {len(value)} values for {length} columns", path=path, fix=DAMAGED_FIX)
    return value


def _names(value: Any, what: str, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BundleError(f"{what} must be a list of column names", path=path, fix=DAMAGED_FIX)
    return value


def _check_projection(projection: Any, n_in: int, path: Path) -> int:
    """Checks ``state.projection`` against the ``n_in`` columns it takes; returns its output width."""
    if projection is None:
        return n_in
    if not isinstance(projection, dict):
        raise BundleError("state.projection must be an object or null", path=path, fix=DAMAGED_FIX)
    names = _names(projection.get("input_names"), "state.projection.input_names", path)
    if len(names) != n_in:
        raise BundleError(
            f"state.projection.input_names has {len(names)} names for the model's {n_in} input columns",
            path=path,
            fix=DAMAGED_FIX,
        )
    prefix = projection.get("prefix", "emb_")
    d = sum(1 for n in names if str(n).startswith(str(prefix)))
    _numbers(projection.get("mean"), "state.projection.mean", path, d, allow_none=False)
    components = projection.get("components")
    if not isinstance(components, list):
        raise BundleError("state.projection.components must be a list of rows", path=path, fix=DAMAGED_FIX)
    for k, row in enumerate(components):
        _numbers(row, f"state.projection.components[{k}]", path, d, allow_none=False)
    return n_in - d + len(components)


def _check_scaler(scaler: Any, n_in: int, path: Path) -> int:
    """Checks ``state.scaler`` against the ``n_in`` columns it standardises; returns its output width."""
    if not isinstance(scaler, dict):
        raise BundleError("state.scaler must be an object", path=path, fix=DAMAGED_FIX)
    names = _names(scaler.get("feature_names"), "state.scaler.feature_names", path)
    if len(names) != n_in:
        raise BundleError(
            f"state.scaler.feature_names has {len(names)} names, but the model's inputs have {n_in} columns",
            path=path,
            fix=DAMAGED_FIX,
        )
    _numbers(scaler.get("medians"), "state.scaler.medians", path, len(names))
    indicators = scaler.get("indicator_columns")
    if not isinstance(indicators, list) or not all(isinstance(j, int) and 0 <= j < len(names) for j in indicators):
        raise BundleError(
            f"state.scaler.indicator_columns must be a list of column positions in 0..{len(names) - 1}",
            path=path,
            fix=DAMAGED_FIX,
        )
    n_out = len(names) + len(indicators)
    _numbers(scaler.get("mean"), "state.scaler.mean", path, n_out, allow_none=False)
    _numbers(scaler.get("std"), "state.scaler.std", path, n_out, allow_none=False)
    return n_out


def _check_state(state: dict, path: Path) -> int:
    """The fitted state's layout, types and lengths; returns the network's input width."""
    missing = [name[:-1] for name in REQUIRED_STATE if name[:-1] not in state]
    if missing:
        raise BundleError(f"state lacks {missing}", path=path, fix=DAMAGED_FIX)
    n_features = state["n_features_in"]
    if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
        raise BundleError(
            f"state.n_features_in must be a positive integer, not {n_features!r}", path=path, fix=DAMAGED_FIX
        )
    names = _names(state["feature_names_in"], "state.feature_names_in", path)
    if len(names) != n_features:
        raise BundleError(
            f"state.feature_names_in has {len(names)} names for n_features_in = {n_features}",
            path=path,
            fix=DAMAGED_FIX,
        )
    threshold = state["threshold"]
    if not _is_number(threshold) or not math.isfinite(threshold) or not 0 <= threshold <= 1:
        raise BundleError(f"state.threshold must be a number in [0, 1], not {threshold!r}", path=path, fix=DAMAGED_FIX)
    relative = state.get("relative") or "none"
    if relative not in RELATIVE_MODES:
        raise BundleError(
            f"state.relative {relative!r} is not one of {list(RELATIVE_MODES)}", path=path, fix=DAMAGED_FIX
        )
    n_in = len(relative_names(names, relative))
    return _check_scaler(state["scaler"], _check_projection(state["projection"], n_in, path), path)


def _expected_tensors(config: dict, n_inputs: int, path: Path) -> dict[str, tuple[int, ...]]:
    """Name → shape of every tensor the architecture in ``state.model_config`` has."""
    raw = config["state"]["model_config"]
    if not isinstance(raw, dict):
        raise BundleError("state.model_config must be an object", path=path, fix=DAMAGED_FIX)
    try:
        model_config = ModelConfig.from_dict(raw)
    except (TypeError, ValueError) as exc:
        raise BundleError(
            f"state.model_config is not a valid architecture ({exc})", path=path, fix=DAMAGED_FIX
        ) from None
    if model_config.n_features != n_inputs:
        raise BundleError(
            f"state.model_config.n_features is {model_config.n_features}, but the scaler gives {n_inputs} columns",
            path=path,
            fix=DAMAGED_FIX,
        )
    n_models = config["params"].get("n_models", 1)
    if not isinstance(n_models, int) or isinstance(n_models, bool) or n_models < 1:
        raise BundleError(f"params.n_models must be a positive integer, not {n_models!r}", path=path, fix=DAMAGED_FIX)
    try:
        with torch.device("meta"):  # shapes only: nothing is allocated
            model = build_model(model_config, n_models)
    except (InterviewMilError, ValueError, TypeError, RuntimeError) as exc:  # unknown pooling, bad widths
        raise BundleError(f"state.model_config cannot be built ({exc})", path=path, fix=DAMAGED_FIX) from None
    return {name: tuple(t.shape) for name, t in model.state_dict().items()}


def check_bundle(config: Any, tensors: dict[str, torch.Tensor], directory: str | Path) -> None:
    """Raise a :class:`BundleError` naming the file and field of the first problem of the bundle in
    ``directory`` (``config``: parsed ``config.json``, version-2 layout; ``tensors``: its weights)."""
    directory = Path(directory)
    config_path, weights_path = directory / "config.json", directory / "model.safetensors"
    for key in ("params", "state"):
        if not isinstance(config.get(key), dict):
            raise BundleError(f"{key} must be a JSON object", path=config_path, fix=DAMAGED_FIX)
    if not isinstance(config.get("metadata", {}), dict):
        raise BundleError("metadata must be a JSON object", path=config_path, fix=DAMAGED_FIX)
    expected = _expected_tensors(config, _check_state(config["state"], config_path), config_path)
    found = {name: tuple(t.shape) for name, t in tensors.items()}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = [
        f"{n} {list(found[n])} (expected {list(expected[n])})"
        for n in expected
        if n in found and found[n] != expected[n]
    ]
    for problem, items in (
        ("lacks tensors", missing),
        ("has unexpected tensors", extra),
        ("has tensors of the wrong shape", wrong),
    ):
        if items:
            raise BundleError(
                f"the weights file {problem} for the architecture in config.json: {items[:5]}"
                + (f" and {len(items) - 5} more" if len(items) > 5 else ""),
                path=weights_path,
                fix="config.json and model.safetensors come from different models: " + DAMAGED_FIX,
            )
    bad = [name for name, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        raise BundleError(f"the weights hold NaN or infinite values in {bad[:5]}", path=weights_path, fix=DAMAGED_FIX)
