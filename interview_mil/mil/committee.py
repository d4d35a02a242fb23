"""The network(s) behind one :class:`InterviewClassifier`: one model, or a committee of several.

Member ``m`` uses seed ``seed + m`` for its own grouped validation split (early stopping) and its
initialisation; with ``refit`` it is retrained on all bags for its early-stopped number of epochs.
The members' held-out predictions are pooled, for the decision threshold and validation figures.
Every prediction goes through ``forward(X, mask) -> MILOutput`` of :mod:`.model`, in batches.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .bags import BagDataset, pad_bags
from .metrics import binary_metrics, choose_threshold
from .model import MILEnsemble, MILModel, MILOutput, ModelConfig
from .splits import group_train_val_split
from .training import TrainConfig, seeded, train_mil

PREDICT_BATCH = 32  # bags per forward pass at prediction time


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch CPU threads (None/0: leave torch's setting)."""
    if not n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def forward_batches(
    model: torch.nn.Module, bags: Sequence[np.ndarray | torch.Tensor]
) -> Iterator[tuple[MILOutput, torch.Tensor]]:
    """(MILOutput, mask (B, N)) per chunk of ``PREDICT_BATCH`` standardised bags, in eval mode, no gradients."""
    model.eval()
    with torch.no_grad():
        for start in range(0, len(bags), PREDICT_BATCH):
            X, mask = pad_bags(bags[start : start + PREDICT_BATCH])  # (B, N, F), (B, N)
            yield model(X, mask), mask


def bag_probabilities(model: torch.nn.Module, bags: Sequence[np.ndarray | torch.Tensor]) -> np.ndarray:
    """Positive-class probability per standardised bag, (n_bags,) float64."""
    return np.concatenate([torch.sigmoid(out.bag_logit).double().numpy() for out, _ in forward_batches(model, bags)])


@dataclass
class Committee:
    """``model`` (one :class:`MILModel` or a :class:`MILEnsemble`); ``members``: one record per member
    (seed, best_epoch, val_loss, n_train_bags, n_val_bags, history); ``val_y``/``val_prob``: the members'
    held-out labels and probabilities, pooled (empty without a validation split)."""

    model: MILModel | MILEnsemble
    members: list[dict]
    val_y: np.ndarray
    val_prob: np.ndarray


def _train_member(
    config: ModelConfig, data: BagDataset, fit_idx: np.ndarray, val_idx: np.ndarray, train: TrainConfig
) -> tuple[MILModel, object]:
    """A fresh model seeded with ``train.seed``, trained on ``fit_idx`` with early stopping on ``val_idx``."""
    with seeded(train.seed):
        model = MILModel(config)
        result = train_mil(model, data.subset(fit_idx), data.subset(val_idx) if len(val_idx) else None, train)
    return model, result


def train_committee(
    config: ModelConfig,
    data: BagDataset,
    groups: Sequence | None,
    train: TrainConfig,
    n_models: int = 1,
    val_fraction: float = 0.2,
    refit: bool = False,
    seed: int = 0,
    n_threads: int | None = 1,
) -> Committee:
    """Train ``n_models`` members on the standardised ``data`` (labels in ``data.y``); see the module doc."""
    y = data.y.numpy().astype(int)
    n = len(data)
    models, members, val_y, val_p = [], [], [], []
    with torch_threads(n_threads):
        for m in range(int(n_models)):
            member_seed = seed + m
            fit_idx, val_idx = group_train_val_split(y, groups, val_fraction, member_seed)
            model, result = _train_member(config, data, fit_idx, val_idx, dataclasses.replace(train, seed=member_seed))
            if len(val_idx):
                val_y.append(y[val_idx])
                val_p.append(bag_probabilities(model, [data.bags[i] for i in val_idx]))
            refitted = bool(refit and len(val_idx))
            if refitted:
                all_train = dataclasses.replace(train, seed=member_seed, max_epochs=max(1, result.best_epoch))
                model, _ = _train_member(config, data, np.arange(n), val_idx[:0], all_train)
            models.append(model)
            members.append(
                {
                    "seed": member_seed,
                    "best_epoch": result.best_epoch,
                    "val_loss": result.best_val_loss,
                    "n_train_bags": n if refitted else len(fit_idx),
                    "n_val_bags": len(val_idx),
                    "history": result.history,
                }
            )
    if len(models) == 1:
        model = models[0]
    else:
        model = MILEnsemble(config, len(models))
        for slot, member in zip(model.members, models):
            slot.load_state_dict(member.state_dict())
    model.eval()
    return Committee(
        model,
        members,
        np.concatenate(val_y) if val_y else np.zeros(0, dtype=int),
        np.concatenate(val_p) if val_p else np.zeros(0),
    )


def validation_threshold(
    committee: Committee, threshold: str | float, target_sensitivity: float | None
) -> tuple[float, dict]:
    """The decision threshold and validation figures from the members' pooled held-out predictions:
    a number is kept; a method (``"balanced"``, ``"f1"``, ``"sensitivity"``) chooses it on the held-out bags
    (0.5 when there are none)."""
    vy, vp = committee.val_y, committee.val_prob
    if not isinstance(threshold, str):
        chosen = float(threshold)
    elif len(vy):
        chosen = choose_threshold(vy, vp, threshold, target_sensitivity)
    else:
        chosen = 0.5
    losses = [r["val_loss"] for r in committee.members if r["n_val_bags"]]
    validation = {"n_bags": int(len(vy)), "loss": float(np.mean(losses)) if losses else float("nan")}
    if len(vy):
        m = binary_metrics(vy, vp, chosen)
        validation.update(accuracy=m["accuracy"], auc=m["auc"], balanced_accuracy=m["balanced_accuracy"])
    return chosen, validation


def model_config_of(est, n_features: int, has_phq: bool) -> ModelConfig:
    """The network architecture an :class:`InterviewClassifier` ``est`` asks for, on ``n_features`` inputs."""
    return ModelConfig(
        n_features=n_features,
        pooling=est.pooling,
        hidden=tuple(int(h) for h in est.hidden),
        dropout=float(est.dropout),
        input_dropout=float(est.input_dropout),
        layer_norm=bool(est.layer_norm),
        attention_dim=int(est.attention_dim),
        n_heads=int(est.n_heads),
        leak=est.leak,
        phq_head=bool(est.phq_head) if est.phq_head is not None else has_phq,
    )


def train_config_of(est) -> TrainConfig:
    """The optimisation settings of an :class:`InterviewClassifier` ``est``."""
    return TrainConfig(
        max_epochs=est.max_epochs,
        batch_size=est.batch_size,
        lr=est.lr,
        weight_decay=est.weight_decay,
        patience=est.patience,
        balance=est.balance,
        phq_weight=est.phq_weight,
        seed=est.seed,
    )
