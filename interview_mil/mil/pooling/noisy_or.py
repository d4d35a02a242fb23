"""Noisy-or pooling: instance probabilities p_k, bag probability P = 1 - (1 - leak) * prod_k (1 - p_k).

Computed in log space so that bags of thousands of instances stay finite with finite gradients:
with p_k = sigmoid(s_k), ``-log(1 - p_k) = softplus(s_k)``, so ``x = -log(1 - P) = sum_k softplus(s_k)``
(+ ``softplus(leak_logit)``: the leak acts as one extra instance that every bag holds). Then
``log P = log(1 - exp(-x))`` and the bag logit is ``log P - log(1 - P) = log P + x``. For tiny ``x``
``log x`` comes from a log-sum-exp of ``log softplus(s_k)``, which stays exact when every p_k is ~1e-30.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import POOLINGS, Pooling, PoolOutput, masked_softmax, weighted_sum, zero_padding

LEAKS = ("none", "learned", "bag")
_SMALL_X = 1e-3  # below this, log(1 - e^-x) = log x - x/2 (error < x^2/24)
_LOG_SOFTPLUS_LINEAR = -20.0  # below this, log softplus(s) = s (error < e^s/2)


def log_softplus(s: torch.Tensor) -> torch.Tensor:
    """``log(softplus(s))`` without underflow for very negative ``s``: same shape as ``s``."""
    safe = torch.clamp(s, min=_LOG_SOFTPLUS_LINEAR)
    return torch.where(s < _LOG_SOFTPLUS_LINEAR, s, torch.log(nn.functional.softplus(safe)))


def noisy_or_logit(log_terms: torch.Tensor, terms: torch.Tensor) -> torch.Tensor:
    """Bag logit from per-term ``log softplus`` values and ``softplus`` values, summed over the last axis.

    ``log_terms``, ``terms``: (B, K) with padded entries already at a very negative log term and 0 term.
    Returns (B,).
    """
    x = terms.sum(dim=-1)  # (B,) = -log(1 - P) >= 0
    log_x = torch.logsumexp(log_terms, dim=-1)  # (B,) = log x, exact for tiny x
    x_safe = torch.clamp(x, min=_SMALL_X)  # (B,)
    log_p = torch.where(x < _SMALL_X, log_x - x / 2, torch.log(-torch.expm1(-x_safe)))  # (B,)
    return log_p + x  # (B,)


@POOLINGS.register("noisy_or")
class NoisyOrPooling(Pooling):
    """Noisy-or over instance probabilities, with an optional leak.

    ``leak``: ``"none"``; ``"learned"`` one learned leak probability (a bag can be positive with no
    positive instance), applied once per bag; ``"bag"`` a leak predicted from each bag's mean embedding.
    ``weights``: instance probabilities normalised to sum to 1 per bag; ``instance_scores``: instance logits.
    """

    name = "noisy_or"

    def __init__(self, dim: int, attention_dim: int = 64, leak: str = "none", n_heads: int = 4):
        super().__init__(dim)
        if leak not in LEAKS:
            from ...errors import ConfigError

            raise ConfigError(f"unknown noisy-or leak {leak!r}", fix=f"use one of: {', '.join(LEAKS)}")
        self.leak = leak
        if leak == "learned":
            self.leak_logit = nn.Parameter(torch.tensor(-math.log(99.0)))  # starts at p = 0.01
        elif leak == "bag":
            self.leak_head = nn.Linear(dim, 1)
            nn.init.constant_(self.leak_head.bias, -math.log(99.0))

    def bag_leak_logit(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """Leak logit per bag, (B,), or None without a leak."""
        if self.leak == "learned":
            return self.leak_logit.expand(h.shape[0])  # (B,)
        if self.leak == "bag":
            counts = mask.sum(dim=1, keepdim=True).clamp_min(1)  # (B, 1)
            mean = weighted_sum(h, mask.to(h.dtype) / counts)  # (B, D)
            return self.leak_head(mean).squeeze(-1)  # (B,)
        return None

    def forward(self, h: torch.Tensor, mask: torch.Tensor) -> PoolOutput:
        h = zero_padding(h, mask)  # (B, N, D)
        scores = self.instance_logits(h, mask)  # (B, N)
        very_negative = torch.finfo(h.dtype).min
        log_terms = log_softplus(scores).masked_fill(~mask, very_negative)  # (B, N)
        terms = nn.functional.softplus(scores).masked_fill(~mask, 0.0)  # (B, N)
        leak = self.bag_leak_logit(h, mask)  # (B,) or None
        if leak is not None:
            log_terms = torch.cat([log_terms, log_softplus(leak).unsqueeze(1)], dim=1)  # (B, N+1)
            terms = torch.cat([terms, nn.functional.softplus(leak).unsqueeze(1)], dim=1)  # (B, N+1)
        bag_logit = noisy_or_logit(log_terms, terms)  # (B,)
        weights = masked_softmax(nn.functional.logsigmoid(scores), mask)  # (B, N) = p_k / sum p
        z = weighted_sum(h, weights)  # (B, D)
        return PoolOutput(bag_logit, scores, weights, z)
