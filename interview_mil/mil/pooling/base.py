"""What every pooling operator shares: the output record, masked reductions and the registry.

Shapes: ``B`` bags in a batch, ``N`` instances per bag after padding, ``D`` embedding width.
``mask`` is a bool tensor (B, N), True where an instance is real. A padded instance never changes any
output: poolings zero it before use and give it weight 0.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ...registry import Registry


class PoolOutput(NamedTuple):
    """The bag output and per-instance scores of a pooling operator.

    ``bag_logit`` (B,): log-odds of the positive bag class.
    ``instance_scores`` (B, N): per-instance logits (the bag classifier applied to each instance alone), except
    where the pooling's ``exact_contributions`` is True (additive): there, each instance's signed
    contribution to the bag logit; 0 on padding.
    ``weights`` (B, N): how much each instance counts in the bag output, >= 0, summing to 1 per bag; 0 on padding.
    ``embedding`` (B, D): the bag representation (input of auxiliary heads such as PHQ-8 regression).
    """

    bag_logit: torch.Tensor
    instance_scores: torch.Tensor
    weights: torch.Tensor
    embedding: torch.Tensor


POOLINGS: Registry[type] = Registry("pooling")


def build_pooling(name: str, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4) -> Pooling:
    """Look up pooling ``name`` in the registry and build it for embeddings of width ``dim``.

    Every pooling accepts every hyper-parameter and ignores those it has no use for: ``attention_dim``
    (attention network width), ``leak`` (noisy-or), ``n_heads`` (multi-head attention).
    """
    cls = POOLINGS.get(name)
    return cls(dim=dim, attention_dim=attention_dim, leak=leak, n_heads=n_heads)


class Pooling(nn.Module):
    """Base class: holds the linear bag classifier shared by the instance scores.

    With a linear classifier ``c``, the bag logit of every weighted-average pooling equals the weighted
    average of the instance logits: ``c(sum_k w_k h_k) = sum_k w_k c(h_k)``. So ``instance_scores`` are
    exactly the per-instance terms of the bag decision for attention, gated attention and mean pooling.

    ``exact_contributions``: True where ``instance_scores`` are additive contributions that sum to the
    bag logit minus ``bag_bias`` (downstream tables may then present them as such); False elsewhere.
    """

    name = "base"
    exact_contributions = False

    def __init__(self, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4):
        super().__init__()
        self.dim = dim
        self.classifier = nn.Linear(dim, 1)

    def instance_logits(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Classifier logit of each instance alone: (B, N, D) → (B, N), 0 on padding."""
        scores = self.classifier(h).squeeze(-1)  # (B, N)
        return scores.masked_fill(~mask, 0.0)  # (B, N)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:  # pragma: no cover
        raise NotImplementedError


def zero_padding(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Set padded instances to 0 so that NaN or garbage there cannot leak: (B, N, D) → (B, N, D)."""
    return h.masked_fill(~mask.unsqueeze(-1), 0.0)


def real_rows(fn, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Apply a per-instance scorer ``fn`` ((n, D) → (n,)) to the real instances only: (B, N, D) → (B, N).

    Padded positions get 0 (callers mask them out). Bags in a batch can differ a lot in length (Musk2:
    1 to 1,044 instances), so skipping padding saves most of the work of the attention network.
    """
    flat = fn(h[mask])  # (n_real,)
    out = flat.new_zeros(mask.shape)  # (B, N)
    return out.index_put((mask,), flat)  # (B, N)


def masked_softmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the instances of each bag, padding excluded: (B, N) → (B, N), rows sum to 1.

    Uses the most negative finite number rather than -inf so a bag stays finite; bags must hold at
    least one real instance (the data layer rejects empty bags).
    """
    very_negative = torch.finfo(logits.dtype).min
    filled = logits.masked_fill(~mask, very_negative)  # (B, N)
    weights = torch.softmax(filled, dim=1) * mask  # (B, N)
    return weights / weights.sum(dim=1, keepdim=True).clamp_min(torch.finfo(logits.dtype).tiny)  # (B, N)


def weighted_sum(h: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Bag embedding ``sum_k w_k h_k``: (B, N, D), (B, N) → (B, D)."""
    return torch.bmm(weights.unsqueeze(1), h).squeeze(1)  # (B, D)
