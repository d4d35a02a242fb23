"""Pooling operators, one per module, looked up by name in :data:`POOLINGS`.

Each takes instance embeddings ``h`` (B, N, D) and a bool ``mask`` (B, N) and returns a
:class:`PoolOutput` with the bag logit (B,), per-instance scores (B, N), per-instance weights (B, N)
and the bag embedding (B, D).
"""

from . import attention, gated_attention, max_pool, mean, noisy_or  # noqa: F401  (registers them)
from .attention import AttentionPooling
from .base import POOLINGS, Pooling, PoolOutput, build_pooling, masked_softmax
from .gated_attention import GatedAttentionPooling
from .max_pool import MaxPooling
from .mean import MeanPooling
from .noisy_or import NoisyOrPooling

__all__ = [
    "POOLINGS",
    "Pooling",
    "PoolOutput",
    "build_pooling",
    "masked_softmax",
    "AttentionPooling",
    "GatedAttentionPooling",
    "MeanPooling",
    "MaxPooling",
    "NoisyOrPooling",
]
