"""Speech encoders by backend name: ``"hf"`` (transformers) and ``"ct2"`` (CTranslate2 Whisper).

``load_encoder(config)`` loads a model once; ``encoder.encode(waves)`` embeds turns. A new backend is a
class taking an ``EncoderConfig`` registered with ``@ENCODERS.register("name")`` (torch, transformers and
ctranslate2 are imported only when a backend is loaded).
"""

from __future__ import annotations

from ...registry import Registry
from ..config import EncoderConfig
from .base import Encoder, FrameStats, layer_slots, plan_batches, split_chunks

ENCODERS: Registry = Registry("encoder backend")


@ENCODERS.register("hf")
def _load_hf(config: EncoderConfig) -> Encoder:
    from .hf import HFEncoder

    return HFEncoder(config)


@ENCODERS.register("ct2")
def _load_ct2(config: EncoderConfig) -> Encoder:
    from .ct2 import CT2WhisperEncoder

    return CT2WhisperEncoder(config)


def load_encoder(config: EncoderConfig) -> Encoder:
    """Load the encoder ``config`` names (``ModelNotFoundError`` with the fix when it is not on disk)."""
    return ENCODERS.get(config.backend)(config)


__all__ = ["ENCODERS", "Encoder", "FrameStats", "load_encoder", "layer_slots", "plan_batches", "split_chunks"]
