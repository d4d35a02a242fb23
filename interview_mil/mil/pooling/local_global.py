"""Local + global pooling: an attention summary of the bag next to its plain mean, both read by one
linear classifier, so the model can use the interview's global statistics as well as its salient turns.

    a_k = softmax_k(w^T tanh(V h_k)),  z_att = sum_k a_k h_k,  m = (1/n) sum_k h_k
    bag_logit = u^T z_att + v^T m + b          (a linear layer on the concatenation [z_att, m])

Where the signal is spread over the whole interview, ``v`` can carry it and MIL does no worse than a
classifier of the interview mean; where it sits in a few turns, the attention part carries it.
"""

from __future__ import annotations

import torch
from torch import nn

from .attention import AttentionPooling
from .base import POOLINGS, PoolOutput, masked_softmax, real_rows, weighted_sum, zero_padding


@POOLINGS.register("local_global")
class LocalGlobalPooling(AttentionPooling):
    """Attention pooling plus a linear read-out of the bag mean.

    ``weights``: the attention weights a_k (sum to 1). ``instance_scores``: the logit of a bag holding that
    instance alone, u^T h_k + v^T h_k + b. ``embedding``: (z_att + m) / 2, D wide.
    ``classifier`` holds u and b; ``global_classifier`` holds v.
    """

    name = "local_global"

    def __init__(self, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4):
        super().__init__(dim, attention_dim)
        self.global_classifier = nn.Linear(dim, 1, bias=False)
        nn.init.zeros_(self.classifier.weight)  # starts as mean pooling; the attention part must earn its say

    def instance_logits(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logit of each instance as a bag of its own (there z_att = m = h_k): (B, N, D) → (B, N), 0 on padding."""
        scores = (self.classifier(h) + self.global_classifier(h)).squeeze(-1)  # (B, N)
        return scores.masked_fill(~mask, 0.0)  # (B, N)

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        weights = masked_softmax(real_rows(self.attention_logits, h, mask), mask)  # (B, N)
        z_att = weighted_sum(h, weights)  # (B, D)
        counts = mask.sum(dim=1, keepdim=True).clamp_min(1)  # (B, 1)
        mean = weighted_sum(h, mask.to(h.dtype) / counts)  # (B, D)
        bag_logit = (self.classifier(z_att) + self.global_classifier(mean)).squeeze(-1)  # (B,)
        return PoolOutput(bag_logit, self.instance_logits(h, mask), weights, (z_att + mean) / 2)
