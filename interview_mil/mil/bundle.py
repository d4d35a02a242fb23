"""Model bundle: ``model.safetensors`` (weights) + ``config.json`` (everything else, plain JSON).

The JSON holds the hyper-parameters, the architecture, feature names, imputation and standardisation
statistics, the decision threshold, training facts and the package version. Loading reads tensors with
safetensors and numbers with json: nothing is unpickled, so a bundle cannot run code.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from safetensors.torch import load_file, save_file

from .. import __version__
from ..errors import ModelNotFoundError
from ..fileio import atomic_path, write_json
from .classifier import InterviewClassifier
from .model import ModelConfig, build_model
from .preprocess import FeatureScaler

BUNDLE_FORMAT = "interview_mil.mil.bundle"
BUNDLE_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def save_classifier(clf: InterviewClassifier, directory: str | Path, metadata: dict | None = None) -> Path:
    """Write a fitted classifier to ``directory`` (created if needed); returns the directory.

    ``metadata``: extra JSON-able facts to keep with the model (segmentation and feature settings,
    corpus, git commit); merged over any metadata the classifier already carries.
    """
    clf._check_fitted()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    params = clf.get_params(deep=False)
    params["hidden"] = [int(h) for h in params["hidden"]]
    meta = dict(getattr(clf, "metadata_", {}) or {})
    meta.update(metadata or {})
    config = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_VERSION,
        "package_version": __version__,
        "params": params,
        "model_config": clf.model_config_.to_dict(),
        "scaler": clf.scaler_.to_dict(),
        "threshold": float(clf.threshold_),
        "classes": [int(c) for c in clf.classes_],
        "training": {"best_epoch": int(clf.best_epoch_), "n_train_bags": int(clf.n_train_bags_),
                     "n_val_bags": int(clf.n_val_bags_), "history": clf.history_,
                     "validation": clf.validation_,
                     "members": [{k: v for k, v in m.items() if k != "history"} for m in clf.members_]},
        "metadata": meta,
    }
    state = {k: v.detach().contiguous().clone() for k, v in clf.model_.state_dict().items()}
    with atomic_path(directory / WEIGHTS_FILE) as tmp:
        save_file(state, str(tmp), metadata={"format": BUNDLE_FORMAT, "package_version": __version__})
    write_json(directory / CONFIG_FILE, config)
    return directory


def load_classifier(directory: str | Path) -> InterviewClassifier:
    """Rebuild a fitted :class:`InterviewClassifier` from a bundle directory."""
    directory = Path(directory)
    config_path, weights_path = directory / CONFIG_FILE, directory / WEIGHTS_FILE
    for path in (config_path, weights_path):
        if not path.exists():
            raise ModelNotFoundError("model bundle file not found", path=path,
                                     fix="point to a directory written by InterviewClassifier.save or `interview-mil train`")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelNotFoundError(f"not valid JSON ({exc})", path=config_path) from None
    if config.get("format") != BUNDLE_FORMAT:
        raise ModelNotFoundError("not an interview_mil MIL model bundle", path=config_path)
    if int(config.get("format_version", 0)) > BUNDLE_VERSION:
        raise ModelNotFoundError(f"bundle format {config['format_version']} is newer than this package reads",
                                 path=config_path, fix="upgrade interview-mil")
    if config.get("package_version") != __version__:
        warnings.warn(f"{config_path}: written by interview-mil {config.get('package_version')}, "
                      f"read by {__version__}", stacklevel=2)
    params = dict(config["params"])
    params["hidden"] = tuple(params["hidden"])
    clf = InterviewClassifier(**params)
    clf.model_config_ = ModelConfig.from_dict(config["model_config"])
    clf.scaler_ = FeatureScaler.from_dict(config["scaler"])
    clf.n_features_in_ = clf.scaler_.n_features_in
    clf.feature_names_in_ = np.asarray(clf.scaler_.feature_names, dtype=object)
    clf.classes_ = np.asarray(config["classes"])
    clf.threshold_ = float(config["threshold"])
    training = config.get("training", {})
    clf.best_epoch_ = training.get("best_epoch", 0)
    clf.n_train_bags_, clf.n_val_bags_ = training.get("n_train_bags", 0), training.get("n_val_bags", 0)
    clf.history_ = training.get("history", [])
    clf.validation_ = training.get("validation", {})
    clf.members_ = training.get("members", [])
    clf.metadata_ = config.get("metadata", {})
    clf.package_version_ = config.get("package_version")
    model = build_model(clf.model_config_, int(params.get("n_models", 1)))
    model.load_state_dict(load_file(str(weights_path)), strict=True)
    model.eval()
    clf.model_ = model
    return clf
