"""Additive MIL (Javed et al. 2022): attention scales each instance, an instance classifier scores it,
and the bag logit is the plain sum of those scores, so every instance's part in the decision is exact.

    a_k = softmax_k(w^T tanh(V h_k))                       attention, as in attention pooling
    c_k = g(a_k h_k) - g(0),  g(x) = u^T relu(W x + b_W)    signed contribution of instance k
    bag_logit = bias + sum_k c_k                            bias: ``classifier.bias``, outside every c_k

Subtracting ``g(0)`` makes an instance with attention 0 contribute exactly 0, so the sum does not drift
with the number of instances; the only constant is the bag bias, which no instance owns.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import POOLINGS, Pooling, PoolOutput, masked_softmax, real_rows, weighted_sum, zero_padding


@POOLINGS.register("additive")
class AdditivePooling(Pooling):
    """Attention-scaled instances scored one by one; the bag logit is ``bag_bias`` plus their sum.

    ``weights``: the attention weights a_k (sum to 1). ``instance_scores``: the signed contribution c_k of
    each instance to the bag logit (not the logit of the instance alone), so that
    ``bag_logit == bag_bias + instance_scores.sum(1)`` up to float rounding.
    ``g`` is a one-hidden-layer ReLU network of width ``dim`` whose output layer is ``classifier``'s
    weight; ``classifier``'s bias is the bag bias.
    """

    name = "additive"
    exact_contributions = True

    def __init__(self, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4):
        super().__init__(dim)
        self.V = nn.Linear(dim, attention_dim)
        self.w = nn.Linear(attention_dim, 1, bias=False)
        self.hidden = nn.Linear(dim, dim)

    @property
    def bag_bias(self) -> torch.Tensor:
        """The bag logit's constant, outside every instance contribution: () tensor."""
        return self.classifier.bias.squeeze(0)  # ()

    def attention_logits(self, h: torch.Tensor) -> torch.Tensor:
        """Unnormalised attention: (..., D) → (...)."""
        return self.w(torch.tanh(self.V(h))).squeeze(-1)  # (...,)

    def contribution(self, scaled: torch.Tensor) -> torch.Tensor:
        """``g(x) - g(0)`` of attention-scaled embeddings: (..., D) → (...)."""
        at_zero = torch.relu(self.hidden.bias)  # (D,) hidden layer at x = 0
        delta = torch.relu(self.hidden(scaled)) - at_zero  # (..., D)
        return delta @ self.classifier.weight.squeeze(0)  # (...,)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        weights = masked_softmax(real_rows(self.attention_logits, h, mask), mask)  # (B, N)
        scaled = weights.unsqueeze(-1) * h  # (B, N, D) = a_k h_k
        contributions = real_rows(self.contribution, scaled, mask)  # (B, N), 0 on padding
        bag_logit = self.bag_bias + contributions.sum(dim=1)  # (B,)
        return PoolOutput(bag_logit, contributions, weights, weighted_sum(h, weights))
