"""Linear-softmax pooling (Wang, Li & Metze 2019): each instance weighs its own probability.

    p_k = sigmoid(s_k),  w_k = p_k / sum_j p_j,  P = sum_k w_k p_k = sum_k p_k^2 / sum_k p_k

Confident positive instances dominate P while confident negatives barely count, so a bag is positive
when a few of its instances clearly are. P is clipped to (eps, 1 - eps) before the logit.
"""

from __future__ import annotations

import torch
from torch import nn

from .autopool import probability_logit
from .base import POOLINGS, Pooling, PoolOutput, masked_softmax, weighted_sum, zero_padding


@POOLINGS.register("linear_softmax")
class LinearSoftmaxPooling(Pooling):
    """``weights``: w_k = p_k / sum_j p_j (no learned parameter); ``instance_scores``: instance logits s_k."""

    name = "linear_softmax"

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        scores = self.instance_logits(h, mask)  # (B, N)
        weights = masked_softmax(nn.functional.logsigmoid(scores), mask)  # (B, N) = p_k / sum p, stable
        bag_p = (weights * torch.sigmoid(scores)).sum(dim=1)  # (B,)
        return PoolOutput(probability_logit(bag_p), scores, weights, weighted_sum(h, weights))
