"""Training loop: batches of padded bags, class balance, early stopping on a grouped validation split.

Deterministic on CPU for a given seed: initialisation, shuffling and dropout draw from torch's RNG,
which :func:`seeded` forks and seeds so the caller's global RNG state is left as it was.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..errors import ConfigError
from .bags import BagDataset
from .model import PHQ8_MAX, MILModel

BALANCE_MODES = ("weight", "sampler", "none")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``balance``: ``"weight"`` weights each bag's loss by n / (2 n_class),
    ``"sampler"`` draws bags with those weights, ``"none"`` leaves the classes as they come."""

    max_epochs: int = 100
    batch_size: int = 8
    lr: float = 5e-4
    weight_decay: float = 1e-4
    patience: int = 20
    balance: str = "weight"
    phq_weight: float = 0.5
    grad_clip: float = 5.0
    seed: int = 0

    def __post_init__(self):
        if self.balance not in BALANCE_MODES:
            raise ConfigError(f"unknown class balance mode {self.balance!r}", fix=f"use one of {BALANCE_MODES}")
        if self.batch_size < 1 or self.max_epochs < 1:
            raise ConfigError("batch_size and max_epochs must be at least 1")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """``best_epoch`` (1-based; the weights kept), ``best_val_loss`` (NaN without validation),
    ``epochs_run``, and ``history``: one dict per epoch with ``train_loss`` and ``val_loss``."""

    best_epoch: int
    best_val_loss: float
    epochs_run: int
    history: list[dict] = field(default_factory=list)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global RNG seeded to ``seed``, restoring the previous state after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def class_balance_weights(y: np.ndarray) -> np.ndarray:
    """Per-bag weight n / (2 n_c) for class c, so both classes weigh the same in total: (B,) float."""
    y = np.asarray(y).astype(int)
    counts = np.bincount(y, minlength=2).astype(float)
    per_class = np.where(counts > 0, len(y) / (2.0 * np.maximum(counts, 1)), 0.0)
    return per_class[y]


@torch.no_grad()
def evaluate_loss(model: MILModel, data: BagDataset, phq_weight: float, batch_size: int = 64) -> float:
    """Mean loss over ``data`` in eval mode: bag BCE weighted by ``data.weight`` (+ the PHQ-8 term)."""
    model.eval()
    bce_sum, phq_sum, phq_count = 0.0, 0.0, 0
    for start in range(0, len(data), batch_size):
        b = data.batch(range(start, min(start + batch_size, len(data))))
        out = model(b.X, b.mask)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(out.bag_logit, b.y, reduction="none")  # (B,)
        bce_sum += float((bce * b.weight).sum())
        if out.phq is not None:
            known = torch.isfinite(b.phq)  # (B,)
            phq_sum += float((((out.phq - b.phq) / PHQ8_MAX)[known] ** 2).sum())
            phq_count += int(known.sum())
    loss = bce_sum / max(len(data), 1)
    if phq_count:
        loss += phq_weight * phq_sum / phq_count
    return loss


def train_mil(
    model: MILModel,
    train: BagDataset,
    val: BagDataset | None,
    config: TrainConfig,
    on_epoch: Callable[[dict], None] | None = None,
) -> TrainResult:
    """Train ``model`` in place; keep the weights of the epoch with the lowest validation loss.

    ``train.weight`` / ``val.weight`` hold the per-bag class-balance weights. Without a validation set
    the model trains for ``max_epochs`` and keeps the last weights. ``on_epoch`` receives each
    epoch's record (for progress display).
    """
    g = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    n = len(train)
    best_loss, best_epoch, best_state = math.inf, 0, None
    history: list[dict] = []
    epoch = 0
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        if config.balance == "sampler":
            order = torch.multinomial(train.weight, n, replacement=True, generator=g)
        else:
            order = torch.randperm(n, generator=g)
        running = 0.0
        for start in range(0, n, config.batch_size):
            b = train.batch(order[start : start + config.batch_size].tolist())
            bag_weight = b.weight if config.balance == "weight" else None
            _, losses = model.compute_loss(b.y, b.X, b.mask, b.phq, bag_weight, config.phq_weight)
            optimiser.zero_grad(set_to_none=True)
            losses["total"].backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimiser.step()
            running += float(losses["total"].detach()) * b.y.shape[0]
        record = {"epoch": epoch, "train_loss": running / n}
        if val is not None and len(val):
            record["val_loss"] = evaluate_loss(model, val, config.phq_weight)
            if record["val_loss"] < best_loss - 1e-6:
                best_loss, best_epoch = record["val_loss"], epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if best_state is not None and epoch - best_epoch >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        best_epoch, best_loss = epoch, float("nan")
    model.eval()
    return TrainResult(best_epoch, float(best_loss), epoch, history)
