"""Attention pooling (Ilse, Tomczak & Welling 2018): a_k = softmax_k(w^T tanh(V h_k)), z = sum_k a_k h_k."""

from __future__ import annotations

import torch
from torch import nn

from .base import POOLINGS, Pooling, PoolOutput, masked_softmax, real_rows, weighted_sum, zero_padding


@POOLINGS.register("attention")
class AttentionPooling(Pooling):
    """Attention-weighted mean of instance embeddings, then a linear bag classifier.

    ``weights`` are the attention weights a_k; ``instance_scores`` the classifier logit of each instance,
    so that ``bag_logit = sum_k a_k * instance_scores_k``.
    """

    name = "attention"

    def __init__(self, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4):
        super().__init__(dim)
        self.V = nn.Linear(dim, attention_dim)
        self.w = nn.Linear(attention_dim, 1, bias=False)

    def attention_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Unnormalised attention: (..., D) → (...)."""
        return self.w(torch.tanh(self.V(h))).squeeze(-1)  # (...,)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        weights = masked_softmax(real_rows(self.attention_logits, h, mask), mask)  # (B, N)
        z = weighted_sum(h, weights)  # (B, D)
        bag_logit = self.classifier(z).squeeze(-1)  # (B,)
        return PoolOutput(bag_logit, self.instance_logits(h, mask), weights, z)
