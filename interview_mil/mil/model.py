"""The MIL model: instance encoder → pooling → bag logit (+ optional PHQ-8 regression head).

The contract every model (one network or a committee) honours, and every caller uses:
``forward(X, mask) -> MILOutput`` with the bag logit (B,), per-instance scores (B, N), per-instance
weights (B, N) and the PHQ-8 estimate (B,) or None; training adds ``compute_loss(Y, X, mask, ...)``.
``X`` is (B, N, F) float, ``mask`` (B, N) bool, True on real instances. Probabilities are
``sigmoid(bag_logit)``; callers batch bags with :func:`.committee.forward_batches`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn

from .encoder import InstanceEncoder
from .pooling import build_pooling

PHQ8_MAX = 24.0  # PHQ-8 totals range 0..24; the head predicts score / 24


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a :class:`MILModel` (all JSON-serialisable, saved in the model bundle)."""

    n_features: int
    pooling: str = "attention"
    hidden: tuple[int, ...] = (256, 128, 64)
    dropout: float = 0.25
    input_dropout: float = 0.0
    layer_norm: bool = True
    attention_dim: int = 64
    leak: str = "none"
    phq_head: bool = False
    n_heads: int = 4  # multi-head attention pooling only; bundles without it load with 4

    def to_dict(self) -> dict:
        data = asdict(self)
        data["hidden"] = list(self.hidden)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        data = dict(data)
        data["hidden"] = tuple(int(h) for h in data.get("hidden", ()))
        return cls(**data)


class MILOutput(NamedTuple):
    """``bag_logit`` (B,); ``instance_scores`` (B, N); ``weights`` (B, N); ``phq`` (B,) PHQ-8 points or None."""

    bag_logit: torch.Tensor
    instance_scores: torch.Tensor
    weights: torch.Tensor
    phq: torch.Tensor | None


class MILModel(nn.Module):
    """Encoder + pooling + heads. Padded instances are never encoded and never change an output."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.encoder = InstanceEncoder(
            config.n_features, config.hidden, config.dropout, config.layer_norm, config.input_dropout
        )
        self.pool = build_pooling(
            config.pooling, self.encoder.out_dim, config.attention_dim, config.leak, config.n_heads
        )
        self.phq_head = nn.Linear(self.encoder.out_dim, 1) if config.phq_head else None

    def encode(self, X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Encode only the real instances: (B, N, F), (B, N) → (B, N, D), zeros on padding."""
        B, N, _ = X.shape
        flat = self.encoder(X[mask])  # (n_real, D)
        h = flat.new_zeros(B, N, flat.shape[-1])  # (B, N, D)
        return h.index_put((mask,), flat) if flat.shape[0] else h  # (B, N, D)

    def forward(self, X: torch.Tensor, mask: torch.Tensor) -> MILOutput:
        mask = mask.to(torch.bool)  # (B, N)
        h = self.encode(X, mask)  # (B, N, D)
        pooled = self.pool(h, mask)  # PoolOutput
        phq = None
        if self.phq_head is not None:
            phq = torch.sigmoid(self.phq_head(pooled.embedding).squeeze(-1)) * PHQ8_MAX  # (B,)
        return MILOutput(pooled.bag_logit, pooled.instance_scores, pooled.weights, phq)

    def compute_loss(
        self,
        Y: torch.Tensor,
        X: torch.Tensor,
        mask: torch.Tensor,
        phq: torch.Tensor | None = None,
        bag_weight: torch.Tensor | None = None,
        phq_weight: float = 0.5,
    ) -> tuple[MILOutput, dict[str, torch.Tensor]]:
        """Loss terms for bag labels ``Y`` (B,) in {0, 1} and optional PHQ-8 totals ``phq`` (B,, NaN = unknown).

        ``bag_weight`` (B,): per-bag weights (class balance), normalised to mean 1 over the batch.
        Returns the model output and ``{"bce": ..., "phq_mse": ..., "total": ...}``.
        """
        out = self(X, mask)
        Y = Y.to(out.bag_logit.dtype)  # (B,)
        bce = nn.functional.binary_cross_entropy_with_logits(out.bag_logit, Y, reduction="none")  # (B,)
        if bag_weight is not None:
            bce = bce * bag_weight / bag_weight.mean()  # (B,)
        losses = {"bce": bce.mean()}
        total = losses["bce"]
        if out.phq is not None and phq is not None:
            known = torch.isfinite(phq)  # (B,)
            if known.any():
                err = (out.phq[known] - phq[known]) / PHQ8_MAX  # (n_known,)
                losses["phq_mse"] = (err**2).mean()
                total = total + phq_weight * losses["phq_mse"]
        losses["total"] = total
        return out, losses


class MILEnsemble(nn.Module):
    """A committee of :class:`MILModel` members sharing one config (each trained on its own split).

    Outputs are member averages: bag logits, instance scores, weights (still summing to 1) and PHQ-8.
    """

    def __init__(self, config: ModelConfig, n_members: int):
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(MILModel(config) for _ in range(n_members))

    def forward(self, X: torch.Tensor, mask: torch.Tensor) -> MILOutput:
        outs = [m(X, mask) for m in self.members]
        bag_logit = torch.stack([o.bag_logit for o in outs]).mean(0)  # (B,)
        scores = torch.stack([o.instance_scores for o in outs]).mean(0)  # (B, N)
        weights = torch.stack([o.weights for o in outs]).mean(0)  # (B, N)
        phq = torch.stack([o.phq for o in outs]).mean(0) if outs[0].phq is not None else None  # (B,)
        return MILOutput(bag_logit, scores, weights, phq)


def build_model(config: ModelConfig, n_members: int = 1) -> MILModel | MILEnsemble:
    """One model, or a committee of ``n_members`` models."""
    return MILModel(config) if n_members == 1 else MILEnsemble(config, n_members)
