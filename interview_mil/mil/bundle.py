"""Model bundle files: ``model.safetensors`` (tensors) + ``config.json`` (everything else, plain JSON).

Pure file I/O: this module knows the file layout and its versions, not the classifier (which builds
the JSON with :meth:`InterviewClassifier.save` and rebuilds itself in :meth:`InterviewClassifier.load`).
Reading uses safetensors and json only: nothing is unpickled, so a bundle cannot run code.

``config.json`` (version 2)::

    {"format": "interview_mil.mil.bundle", "format_version": 2, "package_version": "...",
     "sha256": {"model.safetensors": "<hex>"},      # checked at load (bundles before it have none)
     "params": {...hyper-parameters...},
     "state": {"n_features_in": ..., "feature_names_in": [...], "projection": {...} | null,
               "scaler": {...}, "model_config": {...}, "threshold": ..., "validation": {...}, ...},
     "metadata": {...free JSON given to save()...}}

Version 1 bundles (no projection; fitted values at the top level and under ``training``) are read
and returned in the version-2 layout.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .. import __version__
from ..errors import BundleError, ModelNotFoundError
from ..fileio import atomic_path, write_json
from .bundle_check import DAMAGED_FIX, check_bundle

BUNDLE_FORMAT = "interview_mil.mil.bundle"
BUNDLE_VERSION = 2
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
_FIX = "point to a directory written by InterviewClassifier.save or `interview-mil train`"


def write_bundle(directory: str | Path, config: dict, tensors: dict[str, torch.Tensor]) -> Path:
    """Write ``tensors`` and ``config`` (plus format, version, package version) atomically; returns the folder.

    The weights are written first, so a ``config.json`` never points at missing weights.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    header = {"format": BUNDLE_FORMAT, "format_version": BUNDLE_VERSION, "package_version": __version__}
    state = {k: v.detach().contiguous().clone() for k, v in tensors.items()}
    with atomic_path(directory / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": BUNDLE_FORMAT, "package_version": __version__})
    header["sha256"] = {WEIGHTS_FILE: file_sha256(directory / WEIGHTS_FILE)}
    write_json(directory / CONFIG_FILE, {**header, **config})
    return directory


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_bundle(
    directory: str | Path, param_names: Sequence[str] | None = None
) -> tuple[dict, dict[str, torch.Tensor]]:
    """(config in the version-2 layout, tensors) of a bundle; raises :class:`ModelNotFoundError` naming the
    file when a file is missing, not a bundle, or newer than this package reads, and its subclass
    :class:`BundleError` when a file is damaged or inconsistent (``bundle_check``), or when ``params``
    holds a name outside ``param_names`` (the estimator's hyper-parameters)."""
    directory = Path(directory)
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    if directory.is_file():
        raise ModelNotFoundError(
            "this is a file; a model bundle is a folder",
            path=directory,
            fix=f"point to the folder holding {directory.name}",
        )
    if not directory.exists():
        raise ModelNotFoundError("model bundle folder not found", path=directory, fix=_FIX)
    for path in (config_path, weights_path):
        if not path.is_file():
            raise ModelNotFoundError(
                f"model bundle file not found (the folder holds {sorted(p.name for p in directory.iterdir())[:8]})",
                path=path,
                fix=_FIX,
            )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"not valid JSON ({exc})", path=config_path, fix=DAMAGED_FIX) from None
    if not isinstance(config, dict):
        raise BundleError(
            f"holds a JSON {type(config).__name__}; a bundle's config.json is an object with format, params, "
            "state and metadata",
            path=config_path,
            fix=DAMAGED_FIX,
        )
    if config.get("format") != BUNDLE_FORMAT:
        raise ModelNotFoundError("not an interview_mil MIL model bundle", path=config_path, fix=_FIX)
    version = config.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleError(f"format_version must be an integer, not {version!r}", path=config_path, fix=DAMAGED_FIX)
    if version > BUNDLE_VERSION:
        raise ModelNotFoundError(
            f"bundle format {version} is newer than this package reads ({BUNDLE_VERSION})",
            path=config_path,
            fix="upgrade interview-mil",
        )
    if config.get("package_version") != __version__:
        warnings.warn(
            f"{config_path}: written by interview-mil {config.get('package_version')}, read by {__version__}",
            stacklevel=3,
        )
    if version < 2:
        try:
            config = _upgrade_v1(config)
        except (KeyError, TypeError, AttributeError) as exc:
            raise BundleError(f"a version-1 bundle config lacks {exc}", path=config_path, fix=DAMAGED_FIX) from None
    missing = [k for k in ("params", "state") if k not in config]
    if missing:
        raise BundleError(f"bundle config lacks {missing}", path=config_path, fix=DAMAGED_FIX)
    try:
        tensors = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:  # truncated, corrupt or unreadable weights file
        raise BundleError(
            f"cannot read the weights, the file is damaged or not a safetensors file ({type(exc).__name__}: {exc})",
            path=weights_path,
            fix=DAMAGED_FIX,
        ) from None
    recorded = (config.get("sha256") or {}).get(WEIGHTS_FILE)
    if recorded is not None and file_sha256(weights_path) != recorded:
        raise BundleError(
            f"{WEIGHTS_FILE} is not the file this bundle was written with (its SHA-256 differs from the one in "
            f"{CONFIG_FILE}): the weights were changed or replaced",
            path=weights_path,
            fix="copy the whole bundle folder again from where it was trained, or retrain",
        )
    check_bundle(config, tensors, directory)
    unknown = sorted(set(config["params"]) - set(param_names or config["params"]))
    if unknown:
        raise BundleError(
            f"params holds {unknown}, which this version's classifier does not take",
            path=config_path,
            fix="load it with the interview-mil version that wrote it, or retrain",
        )
    return config, tensors


def _upgrade_v1(config: dict) -> dict:
    """Version 1 kept the fitted values at the top level and under ``training``; it had no projection."""
    training = config.get("training", {})
    scaler = config["scaler"]
    state = {
        "n_features_in": len(scaler["medians"]),
        "feature_names_in": list(scaler["feature_names"]),
        "classes": config.get("classes", [0, 1]),
        "projection": None,
        "scaler": scaler,
        "model_config": config["model_config"],
        "threshold": config["threshold"],
        "best_epoch": training.get("best_epoch", 0),
        "n_train_bags": training.get("n_train_bags", 0),
        "n_val_bags": training.get("n_val_bags", 0),
        "history": training.get("history", []),
        "validation": training.get("validation", {}),
        "members": training.get("members", []),
    }
    keep = ("format", "format_version", "package_version", "params", "metadata")
    return {**{k: config[k] for k in keep if k in config}, "state": state}
