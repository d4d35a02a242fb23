"""``InterviewClassifier``, the scikit-learn-style face of the MIL engine: ``bags`` (n_turns, n_features) per
interview, ``y`` bag labels (1 = depressed); all ``fit`` learns lives in ``*_`` attributes saved with the model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from ..errors import ConfigError
from .bags import BagDataset, check_bags, check_fit_inputs
from .bundle import read_bundle, write_bundle
from .calibration import calibrate, logit, sigmoid
from .committee import (
    forward_batches,
    model_config_of,
    torch_threads,
    train_committee,
    train_config_of,
    validation_threshold,
)
from .hybrid import check_head_rule, fit_interview_head, head_inputs
from .metrics import THRESHOLD_METHODS
from .model import MILOutput
from .pooling import POOLINGS
from .preprocess import FeatureScaler
from .projection import EmbeddingProjection
from .relative import apply_relative, check_mode, relative_names
from .selection import fit_selected
from .state import BagExplanation, bag_explanations, fitted_state, leave_one_out, restore
from .training import class_balance_weights


class InterviewClassifier(BaseEstimator):
    """Multiple-instance classifier of interviews (bags) from their turns (instances).

    Architecture: ``pooling`` (any name of ``mil.pooling.POOLINGS``: attention, gated_attention,
    multihead_attention, additive, local_global, autopool, linear_softmax, noisy_or, mean, max) over an
    instance encoder of widths ``hidden`` (``dropout`` between layers, ``input_dropout`` on the features,
    optional ``layer_norm``); ``attention_dim``: attention width; ``n_heads``: heads of
    ``multihead_attention``; ``leak``: the noisy-or leak term. ``phq_head``: add a PHQ-8 regression head
    (None: add one when ``fit`` gets ``phq``), its loss weighted by ``phq_weight``.
    Inputs: ``embedding_pcs=k`` replaces the ``emb_*`` columns by their first k principal components,
    fitted on the training turns (needs ``feature_names``); ``missing_indicators`` adds a 0/1 column for
    every feature that had missing values in training (values are imputed with training medians).
    Optimisation: Adam (``lr``, ``weight_decay``), ``batch_size`` bags, at most ``max_epochs`` epochs,
    early stopping after ``patience`` epochs without improvement on a grouped validation split of
    ``val_fraction`` of the training groups (0: no split, train ``max_epochs`` on all bags);
    ``balance``: ``"weight"`` (class-balanced loss), ``"sampler"`` or ``"none"``. ``refit=True``
    retrains on all training bags for the early-stopped number of epochs.
    ``threshold``: ``"balanced"`` (balanced accuracy), ``"f1"`` (F1 of the positive class) on validation,
    ``"sensitivity"`` (the highest threshold reaching ``target_sensitivity`` there) or a number.
    ``n_models`` > 1 trains a committee: member ``m`` uses seed ``seed + m`` for its validation split and
    initialisation; outputs are member averages and the threshold comes from their pooled held-out
    predictions. ``n_threads``: torch CPU threads while fitting/predicting (1 is fastest for these small
    models; None leaves torch's setting). ``speaker_relative``: ``"none"``, ``"append"`` or ``"replace"``
    each turn's features by their departure from the same interview's other turns (``mil.relative``).
    ``select``: settings chosen by grouped inner CV (``select_folds`` folds; ``mil.selection``; ``selected_``).
    ``interview_head``: stack the network with an interview-level model of turn functionals (``mil.hybrid``;
    ``head_rule``: how it chooses). ``calibration``: ``"platt"``, ``"auto"`` (shrunk Platt) or ``"none"``."""

    def __init__(
        self,
        pooling: str = "attention",
        hidden: Sequence[int] = (256, 128, 64),
        dropout: float = 0.25,
        input_dropout: float = 0.2,
        layer_norm: bool = True,
        attention_dim: int = 64,
        n_heads: int = 4,
        leak: str = "none",
        phq_head: bool | None = None,
        max_epochs: int = 100,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        patience: int = 20,
        val_fraction: float = 0.2,
        balance: str = "weight",
        phq_weight: float = 0.5,
        missing_indicators: bool = True,
        threshold: str | float = "f1",
        target_sensitivity: float | None = None,
        refit: bool = False,
        n_models: int = 1,
        embedding_pcs: int | None = None,
        speaker_relative: str = "none",
        select: dict | None = None,
        select_folds: int = 3,
        interview_head: bool = False,
        head_rule: str = "one_se",
        calibration: str = "platt",
        seed: int = 0,
        n_threads: int | None = 1,
    ):
        self.pooling = pooling
        self.hidden = hidden
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.layer_norm = layer_norm
        self.attention_dim = attention_dim
        self.n_heads = n_heads
        self.leak = leak
        self.phq_head = phq_head
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.val_fraction = val_fraction
        self.balance = balance
        self.phq_weight = phq_weight
        self.missing_indicators = missing_indicators
        self.threshold = threshold
        self.target_sensitivity = target_sensitivity
        self.refit = refit
        self.n_models = n_models
        self.embedding_pcs = embedding_pcs
        self.speaker_relative = speaker_relative
        self.select = select
        self.select_folds = select_folds
        self.interview_head = interview_head
        self.head_rule = head_rule
        self.calibration = calibration
        self.seed = seed
        self.n_threads = n_threads

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        POOLINGS.get(self.pooling)  # raises ConfigError listing the known poolings
        check_mode(self.speaker_relative)
        check_head_rule(self.head_rule)
        if isinstance(self.threshold, str):
            if self.threshold not in THRESHOLD_METHODS:
                raise ConfigError(f"unknown threshold {self.threshold!r}", fix=f"use one of {THRESHOLD_METHODS}")
            if self.threshold == "sensitivity" and not (self.target_sensitivity and 0 < self.target_sensitivity <= 1):
                raise ConfigError("threshold='sensitivity' needs target_sensitivity in (0, 1]")

    def fit(
        self,
        bags: Sequence[np.ndarray],
        y: Sequence[int],
        groups: Sequence | None = None,
        phq: Sequence[float] | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> InterviewClassifier:
        """Learn the projection, imputation/standardisation, network and decision threshold; returns ``self``.

        ``bags``: (n_i, F) raw feature rows; ``groups``: participant id per bag (the validation split
        never shares a participant with the rest); ``phq``: PHQ-8 totals per bag (NaN = unknown);
        ``feature_names``: (F,) column names.
        """
        self._check_params()
        bags, y, phq_arr, names = check_fit_inputs(bags, y, phq, feature_names)
        if self.select:
            return fit_selected(self, bags, y, groups, phq_arr, names)
        self.n_features_in_ = bags[0].shape[1]
        self.classes_ = np.array([0, 1])
        self.relative_ = self.speaker_relative
        raw_bags, raw_names, bags = bags, names, apply_relative(bags, self.relative_)
        names = None if names is None else relative_names(names, self.relative_)
        self.projection_ = None if names is None else EmbeddingProjection.fit(bags, names, self.embedding_pcs)
        bags = self.projection_.transform(bags) if self.projection_ is not None else bags
        out_names = names if self.projection_ is None else self.projection_.output_names
        self.scaler_ = FeatureScaler.fit(bags, out_names, self.missing_indicators)
        self.feature_names_in_ = np.asarray(
            raw_names or self.scaler_.feature_names[: self.n_features_in_], dtype=object
        )
        self.model_config_ = model_config_of(self, self.scaler_.n_features_out, phq_arr is not None)
        data = BagDataset(self.scaler_.transform(bags), y, phq_arr, class_balance_weights(y))
        committee = train_committee(
            self.model_config_,
            data,
            groups,
            train_config_of(self),
            int(self.n_models),
            self.val_fraction,
            bool(self.refit),
            self.seed,
            self.n_threads,
        )
        self.model_, self.members_ = committee.model, committee.members
        first = self.members_[0]
        self.best_epoch_, self.history_ = first["best_epoch"], first["history"]
        self.n_train_bags_, self.n_val_bags_ = first["n_train_bags"], first["n_val_bags"]
        self.threshold_, self.validation_ = validation_threshold(committee, self.threshold, self.target_sensitivity)
        self.selected_, self.selection_ = {}, []
        self.head_, self.phq_error_, held_out = None, None, logit(committee.val_prob)
        source = "committee validation predictions"
        if self.interview_head:
            inputs = dict(inputs=bags, input_names=out_names) if out_names is not None else {}
            self.head_, held_out = fit_interview_head(self, raw_bags, y, groups, phq_arr, raw_names, **inputs)
            source = "interview head, inner out-of-fold"
        calibrate(self, held_out, y if self.interview_head else committee.val_y, source, self.calibration)
        self.metadata_: dict[str, Any] = {}
        return self

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("this InterviewClassifier is not fitted yet; call fit(bags, y) or load a bundle")

    def _project(self, bags: list[np.ndarray]) -> list[np.ndarray]:
        """Raw bags → the model's inputs before scaling: speaker-relative columns, then the projection."""
        bags = apply_relative(bags, getattr(self, "relative_", "none"))
        return bags if self.projection_ is None else self.projection_.transform(bags)

    def transform(self, bags: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Raw bags (n_i, ``n_features_in_``) → the fitted embedding projection only (identity without one):
        (n_i, len(``get_feature_names_out()``)), not imputed or standardised. Lets a baseline see the
        model's inputs."""
        self._check_fitted()
        return self._project(check_bags(bags, self.n_features_in_))

    def get_feature_names_out(self) -> np.ndarray:
        """Names of the columns :meth:`transform` returns."""
        self._check_fitted()
        if self.projection_ is not None:
            return np.asarray(self.projection_.output_names, dtype=object)
        return np.asarray(relative_names(self.feature_names_in_, getattr(self, "relative_", "none")), dtype=object)

    def _forward(self, bags: Sequence[np.ndarray]) -> Iterator[tuple[MILOutput, torch.Tensor]]:
        """(MILOutput, mask (B, N)) per chunk of raw bags: projected, imputed, standardised, no gradients."""
        projected = self.transform(bags)  # checks fitted and shapes first
        with torch_threads(self.n_threads):
            yield from forward_batches(self.model_, self.scaler_.transform(projected))

    def _proba(self, bags: Sequence[np.ndarray], outputs: list | None = None, calibrated: bool = True) -> np.ndarray:
        """Positive-class probability per raw bag, (n_bags,), head's and calibrated; ``outputs``: ``_forward``'s."""
        z = np.concatenate([o.bag_logit.double().numpy() for o, _ in outputs or self._forward(bags)])
        if getattr(self, "head_", None) is not None:
            z = self.head_.combine(z, head_inputs(self, check_bags(bags, self.n_features_in_)))
        cal = getattr(self, "calibration_", None)
        return sigmoid(cal.apply(z) if calibrated and cal is not None else z)

    def predict_proba(self, bags: Sequence[np.ndarray], calibrated: bool = True) -> np.ndarray:
        """Class probabilities (n_bags, 2) of raw bags: column 1 is the positive (depressed) class, calibrated
        on held-out predictions (``calibration_``; ``calibrated=False``: the score before calibration)."""
        p = self._proba(bags, calibrated=calibrated)
        return np.stack([1.0 - p, p], axis=1)

    def predict_proba_uncalibrated(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        return self.predict_proba(bags, calibrated=False)

    def predict(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        """0/1 decisions at the threshold chosen on validation (``threshold_``), (n_bags,) int."""
        return (self._proba(bags) >= self.threshold_).astype(np.int64)

    def predict_phq8(self, bags: Sequence[np.ndarray]) -> np.ndarray:
        """PHQ-8 estimates in points (0–24), (n_bags,); needs a model trained with the PHQ-8 head."""
        self._check_fitted()
        if not self.model_config_.phq_head:
            raise ConfigError("this model has no PHQ-8 head", fix="fit with phq=... (or phq_head=True)")
        return np.concatenate([o.phq.double().numpy() for o, _ in self._forward(bags)])

    def explain(self, bags: Sequence[np.ndarray]) -> list[BagExplanation]:
        """Per-instance weights and scores for each raw bag (see :class:`BagExplanation`)."""
        outputs = list(self._forward(bags))
        out = [e for o, mask in outputs for e in bag_explanations(o, mask)]
        for e, p in zip(out, self._proba(bags, outputs)):  # the head's and calibrated, same forward pass
            e.probability = float(p)
        return out

    def leave_one_out(self, bag: np.ndarray) -> np.ndarray:
        """Contribution of each instance of one raw bag (n, F): P(bag) minus P(bag without it), (n,) float.

        Positive values mean the instance pushes the bag towards the positive class. A bag of one
        instance gives NaN (the bag without it is empty and has no probability).
        """
        self._check_fitted()
        return leave_one_out(self._proba, check_bags([bag], self.n_features_in_)[0])

    # ------------------------------------------------------------------ bundle
    def save(self, directory: str | Path, metadata: dict | None = None) -> Path:
        """Write the bundle (``model.safetensors`` + ``config.json``) to ``directory``; returns it.

        ``metadata``: extra JSON-able facts kept with the model (segmentation and feature settings,
        corpus, git commit), merged over ``metadata_``; read back as ``metadata_`` after :meth:`load`.
        """
        config = {
            "params": {**self.get_params(deep=False), "hidden": [int(h) for h in self.hidden]},
            "state": fitted_state(self),
            "metadata": {**(getattr(self, "metadata_", None) or {}), **(metadata or {})},
        }
        return write_bundle(directory, config, self.model_.state_dict())

    @classmethod
    def load(cls, directory: str | Path) -> InterviewClassifier:
        """Rebuild a fitted classifier from a bundle written by :meth:`save`; never unpickles anything."""
        config, weights = read_bundle(directory, cls._get_param_names())
        clf = cls(**{**config["params"], "hidden": tuple(config["params"].get("hidden", ()))})
        restore(clf, config["state"], weights)
        clf.metadata_ = config.get("metadata") or {}
        clf.package_version_ = config.get("package_version")
        return clf
