"""Pooling operators, one per module, looked up by name in :data:`POOLINGS`.

Each takes instance embeddings ``h`` (B, N, D) and a bool ``mask`` (B, N) and returns a
:class:`PoolOutput` with the bag logit (B,), per-instance scores (B, N), per-instance weights (B, N)
and the bag embedding (B, D). ``Pooling.exact_contributions`` says whether the instance scores are
additive contributions to the bag logit (``additive``) rather than per-instance logits.
"""

from . import (  # noqa: F401  (registers them)
    additive,
    attention,
    autopool,
    gated_attention,
    linear_softmax,
    local_global,
    max_pool,
    mean,
    multihead_attention,
    noisy_or,
)
from .additive import AdditivePooling
from .attention import AttentionPooling
from .autopool import AutoPooling
from .base import POOLINGS, Pooling, PoolOutput, build_pooling, masked_softmax
from .gated_attention import GatedAttentionPooling
from .linear_softmax import LinearSoftmaxPooling
from .local_global import LocalGlobalPooling
from .max_pool import MaxPooling
from .mean import MeanPooling
from .multihead_attention import MultiHeadAttentionPooling
from .noisy_or import NoisyOrPooling

__all__ = [
    "POOLINGS",
    "Pooling",
    "PoolOutput",
    "build_pooling",
    "masked_softmax",
    "AdditivePooling",
    "AttentionPooling",
    "AutoPooling",
    "GatedAttentionPooling",
    "LinearSoftmaxPooling",
    "LocalGlobalPooling",
    "MeanPooling",
    "MaxPooling",
    "MultiHeadAttentionPooling",
    "NoisyOrPooling",
]
