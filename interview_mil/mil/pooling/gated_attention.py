"""Gated attention pooling (Ilse et al. 2018): a_k = softmax_k(w^T (tanh(V h_k) * sigmoid(U h_k)))."""

from __future__ import annotations

import torch
from torch import nn

from .base import POOLINGS, Pooling, PoolOutput, masked_softmax, real_rows, weighted_sum, zero_padding


@POOLINGS.register("gated_attention")
class GatedAttentionPooling(Pooling):
    """Attention with a sigmoid gate, which lets the attention network model non-linear interactions
    beyond what tanh alone allows. Same outputs as :class:`AttentionPooling`."""

    name = "gated_attention"

    def __init__(self, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4):
        super().__init__(dim)
        self.V = nn.Linear(dim, attention_dim)
        self.U = nn.Linear(dim, attention_dim)
        self.w = nn.Linear(attention_dim, 1, bias=False)

    def attention_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Unnormalised gated attention: (..., D) → (...)."""
        gated = torch.tanh(self.V(h)) * torch.sigmoid(self.U(h))  # (..., A)
        return self.w(gated).squeeze(-1)  # (...,)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        weights = masked_softmax(real_rows(self.attention_logits, h, mask), mask)  # (B, N)
        z = weighted_sum(h, weights)  # (B, D)
        bag_logit = self.classifier(z).squeeze(-1)  # (B,)
        return PoolOutput(bag_logit, self.instance_logits(h, mask), weights, z)
