"""Mean pooling (baseline): z = mean of the real instance embeddings."""

from __future__ import annotations

import torch

from .base import POOLINGS, Pooling, PoolOutput, weighted_sum, zero_padding


@POOLINGS.register("mean")
class MeanPooling(Pooling):
    """Every real instance weighs 1/n; the bag logit is the mean of the instance logits."""

    name = "mean"

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        counts = mask.sum(dim=1, keepdim=True).clamp_min(1)  # (B, 1)
        weights = mask.to(h.dtype) / counts  # (B, N)
        z = weighted_sum(h, weights)  # (B, D)
        bag_logit = self.classifier(z).squeeze(-1)  # (B,)
        return PoolOutput(bag_logit, self.instance_logits(h, mask), weights, z)
