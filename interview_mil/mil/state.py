"""What a fitted ``InterviewClassifier`` holds besides its network, and the per-bag view it explains with.

``FITTED_ATTRIBUTES``: every fitted attribute but the network weights (``model_``) and ``metadata_``, as
name → (to JSON, from JSON); ``save`` and ``load`` go through this table only, so a new fitted attribute is
one line here. ``BagExplanation``: the per-instance weights and scores of one bag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .calibration import Calibration
from .hybrid import InterviewHead
from .model import MILOutput, ModelConfig, build_model
from .preprocess import FeatureScaler
from .projection import EmbeddingProjection


@dataclass
class BagExplanation:
    """Per-instance view of one bag: ``probability`` of the positive class; ``weights`` (n,) summing to 1
    (attention weights; for noisy-or the normalised instance probabilities); ``instance_scores`` (n,)
    instance logits; ``instance_probabilities`` (n,) = sigmoid(instance_scores)."""

    probability: float
    weights: np.ndarray
    instance_scores: np.ndarray
    instance_probabilities: np.ndarray


FITTED_ATTRIBUTES: dict[str, tuple[Callable, Callable]] = {
    "n_features_in_": (int, int),
    "feature_names_in_": (lambda v: [str(n) for n in v], lambda v: np.asarray(v, dtype=object)),
    "classes_": (lambda v: [int(c) for c in v], np.asarray),
    "projection_": (lambda v: v and v.to_dict(), lambda v: v and EmbeddingProjection.from_dict(v)),
    "scaler_": (FeatureScaler.to_dict, FeatureScaler.from_dict),
    "model_config_": (ModelConfig.to_dict, ModelConfig.from_dict),
    "threshold_": (float, float),
    "best_epoch_": (int, int),
    "n_train_bags_": (int, int),
    "n_val_bags_": (int, int),
    "history_": (list, list),
    "validation_": (dict, dict),
    "relative_": (str, lambda v: v or "none"),  # absent in bundles before speaker-relative inputs
    "selected_": (dict, lambda v: dict(v or {})),
    "selection_": (list, lambda v: list(v or [])),
    "head_": (lambda v: v and v.to_dict(), InterviewHead.from_dict),
    "calibration_": (lambda v: v and v.to_dict(), Calibration.from_dict),
    "oof_proba_": (
        lambda v: None if v is None else [float(x) for x in v],
        lambda v: None if v is None else np.asarray(v),
    ),
    "oof_y_": (lambda v: None if v is None else [int(x) for x in v], lambda v: None if v is None else np.asarray(v)),
    "phq_error_": (lambda v: v, lambda v: v),  # the PHQ-8 head's cross-validated error (interview head only)
    "members_": (lambda v: [{k: x for k, x in m.items() if k != "history"} for m in v], list),
}


def bag_explanations(out: MILOutput, mask: torch.Tensor) -> list[BagExplanation]:
    """One ``BagExplanation`` per bag of a forward pass: ``out`` of (B, N) padded bags, ``mask`` (B, N)."""
    prob = torch.sigmoid(out.bag_logit)  # (B,)
    result = []
    for i in range(mask.shape[0]):
        n = int(mask[i].sum())
        scores = out.instance_scores[i, :n].double().numpy()  # (n,)
        result.append(
            BagExplanation(float(prob[i]), out.weights[i, :n].double().numpy(), scores, 1.0 / (1.0 + np.exp(-scores)))
        )
    return result


# Fitted attributes every bundle holds; the others arrived later and default when a bundle lacks them.
OPTIONAL_STATE = (
    "relative_",
    "selected_",
    "selection_",
    "head_",
    "calibration_",
    "oof_proba_",
    "oof_y_",
    "phq_error_",
)
REQUIRED_STATE = tuple(n for n in FITTED_ATTRIBUTES if n not in OPTIONAL_STATE)


def fitted_state(clf) -> dict:
    """Every fitted attribute of ``clf`` but the network weights, as plain JSON (keys without the ``_``)."""
    clf._check_fitted()
    return {name[:-1]: encode(getattr(clf, name)) for name, (encode, _) in FITTED_ATTRIBUTES.items()}


def restore(clf, state: dict, weights: dict[str, torch.Tensor]) -> None:
    """Set ``clf``'s fitted attributes from :func:`fitted_state` output and its network, built for the
    saved architecture, from ``weights``."""
    for name, (_, decode) in FITTED_ATTRIBUTES.items():
        setattr(clf, name, decode(state[name[:-1]] if name in REQUIRED_STATE else state.get(name[:-1])))
    model = build_model(clf.model_config_, int(clf.n_models))
    model.load_state_dict(weights, strict=True)
    clf.model_ = model.eval()


def leave_one_out(proba: Callable, bag: np.ndarray) -> np.ndarray:
    """P(bag) minus P(bag without instance k), (n,) float, for ``proba`` (bags → (n_bags,) probabilities);
    NaN for a bag of one instance (the bag without it has no probability)."""
    n = bag.shape[0]
    if n == 1:
        return np.array([np.nan])
    keep = ~np.eye(n, dtype=bool)  # row k drops instance k
    return proba([bag])[0] - proba([bag[keep[k]] for k in range(n)])


def logit_share_scale(clf) -> float:
    """Factor from the network's bag logit to the logit of ``predict_proba``: the interview head's weight on
    the network times the calibration slope (1 without either). Exact turn contributions (additive pooling)
    times this factor are each turn's share of the final logit; the rest of it is interview-level."""
    head, cal = getattr(clf, "head_", None), getattr(clf, "calibration_", None)
    return (1.0 if head is None else head.w_mil) * (1.0 if cal is None else cal.a)
