"""Max pooling (baseline): z_d = max over the real instances of h_kd, feature by feature."""

from __future__ import annotations

import torch

from .base import POOLINGS, Pooling, PoolOutput, zero_padding


@POOLINGS.register("max")
class MaxPooling(Pooling):
    """Element-wise maximum of the instance embeddings, then a linear classifier.

    ``weights``: the share of embedding features for which an instance holds the maximum (sums to 1;
    ties share the credit).
    """

    name = "max"

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        very_negative = torch.finfo(h.dtype).min
        filled = h.masked_fill(~mask.unsqueeze(-1), very_negative)  # (B, N, D)
        z = filled.max(dim=1).values  # (B, D)
        bag_logit = self.classifier(z).squeeze(-1)  # (B,)
        with torch.no_grad():
            is_max = (filled == z.unsqueeze(1)) & mask.unsqueeze(-1)  # (B, N, D)
            share = is_max.to(h.dtype) / is_max.sum(dim=1, keepdim=True).clamp_min(1)  # (B, N, D)
            weights = share.mean(dim=-1)  # (B, N)
        return PoolOutput(bag_logit, self.instance_logits(h, mask), weights, z)
