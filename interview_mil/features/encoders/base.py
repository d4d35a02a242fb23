"""What every encoder backend shares: input checks, chunking, length-sorted batching and pooling.

A backend implements ``_forward(batch) -> list[FrameStats]``: for each wave of a batch the sum, the sum
of squares and the count of its valid frames' hidden states, per kept layer. ``Encoder.encode`` cuts long
turns into chunks, sorts chunks by length, batches them by padded audio seconds, runs the backend, adds the
statistics of a turn's chunks (so chunk means combine frame-weighted, exactly) and pools.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...errors import AudioError, ConfigError
from ..config import EncoderConfig

SAMPLE_RATE = 16_000
MIN_SAMPLES = 400  # 25 ms: the receptive field of the wav2vec2 convolution stack


@dataclass
class FrameStats:
    """Frame statistics of one wave: ``total``/``squares`` shape (n_slots, hidden) float64, ``frames``."""

    total: np.ndarray
    squares: np.ndarray
    frames: int

    def __iadd__(self, other: FrameStats) -> FrameStats:
        self.total += other.total
        self.squares += other.squares
        self.frames += other.frames
        return self


def split_chunks(n_samples: int, max_samples: int) -> list[tuple[int, int]]:
    """Cut ``n_samples`` into the fewest equal chunks of at most ``max_samples`` → [(start, end), ...]."""
    pieces = max(1, math.ceil(n_samples / max_samples))
    edges = np.linspace(0, n_samples, pieces + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def plan_batches(
    lengths: Sequence[int],
    batch_samples: int,
    max_items: int | None = None,
    max_padding: float | None = None,
    max_square: int | None = None,
) -> list[list[int]]:
    """Indices of ``lengths`` sorted longest first, grouped so each batch's padded size
    (items × longest) stays within ``batch_samples`` (a single longer item gets a batch of its own),
    with ``max_padding`` within ``1 + max_padding`` times the batch's real samples (padding is
    computed like audio, so on a CPU a batch of mixed lengths can cost more than its items one by one),
    and with ``max_square`` items × longest² within it (self-attention memory grows with that)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in order:
        longest = lengths[current[0]] if current else lengths[i]
        padded = (len(current) + 1) * longest
        full = max_items is not None and len(current) >= max_items
        wasteful = max_padding is not None and padded > (1.0 + max_padding) * (real + lengths[i])
        square = max_square is not None and (len(current) + 1) * longest**2 > max_square
        if current and (padded > batch_samples or full or wasteful or square):
            batches.append(current)
            current, real = [], 0
        current.append(i)
        real += lengths[i]
    if current:
        batches.append(current)
    return batches


def check_waves(waves: Sequence[np.ndarray], sample_rate: int) -> list[np.ndarray]:
    """Every wave as contiguous float32 (n,) at 16 kHz with its mean removed; ``AudioError`` for NaN, empty
    or 2-D input. A DC offset is not speech, and Whisper's log-mel (no per-input normalisation) moved by up to
    8e-3 when a 1.5e-5 offset was or was not removed upstream (``score`` removes the recording's offset,
    ``featurize`` reads raw spans): centring each turn makes both give the same embedding."""
    out = []
    for i, wave in enumerate(waves):
        wave = np.asarray(wave, dtype=np.float32)
        if wave.ndim != 1:
            raise AudioError(
                f"turn {i}: expected mono audio of shape (n,), got shape {wave.shape}",
                fix="mix to mono (interview_mil.data.load_audio does) before encoding",
            )
        if wave.size == 0:
            raise AudioError(f"turn {i}: no audio samples", fix="drop empty turns before encoding")
        if not np.all(np.isfinite(wave)):
            raise AudioError(
                f"turn {i}: audio contains NaN or infinite samples",
                fix="re-export the recording; NaN audio cannot be encoded",
            )
        if sample_rate != SAMPLE_RATE:
            from ...data.audio import resample

            wave = resample(wave, sample_rate, SAMPLE_RATE)
        wave = (wave - wave.mean(dtype=np.float64)).astype(np.float32)
        if wave.size < MIN_SAMPLES:  # too short for the convolution stack: pad with silence
            wave = np.pad(wave, (0, MIN_SAMPLES - wave.size))
        out.append(np.ascontiguousarray(wave))
    return out


def layer_slots(config: EncoderConfig, n_layers: int) -> tuple[str, tuple[tuple[int, ...], ...]]:
    """``(mode, slots)`` for a model with ``n_layers`` blocks: each slot is the tuple of layer numbers
    averaged per frame into one output vector. Raises ``ConfigError`` for a layer the model lacks."""
    mode, layers = config.layer_selection
    if mode == "last":
        return mode, ((n_layers,),)
    if mode == "all":
        return mode, tuple((k,) for k in range(n_layers + 1))
    too_deep = [k for k in layers if k > n_layers]
    if too_deep:
        raise ConfigError(
            f"encoder.layers {config.layers!r}: {config.model} has layers 0..{n_layers} only",
            fix=f"choose layers between 0 and {n_layers}, or 'last'",
        )
    if mode == "range":
        return mode, (tuple(layers),)
    return mode, tuple((k,) for k in layers)


class Encoder:
    """A loaded speech encoder: ``encode(waves) -> (n, dim)`` or ``(n, n_layers, dim)`` float32.

    Subclasses set ``config``, ``n_layers`` (transformer blocks in the full model), ``hidden_size``,
    ``mode`` and ``slots`` (from ``layer_slots``), ``max_chunk_seconds`` and ``max_items`` and implement
    ``_forward``, which returns per wave the frame statistics of each slot: the per-frame mean of the
    hidden states of the slot's layers.
    """

    config: EncoderConfig
    n_layers: int
    hidden_size: int
    slots: tuple[tuple[int, ...], ...]
    mode: str
    max_chunk_seconds: float
    max_items: int | None = None
    max_padding: float | None = None  # see plan_batches; None where every item is padded to a window anyway
    max_square: int | None = None  # see plan_batches: caps a batch's attention memory (CPU), None = no cap

    @property
    def dim(self) -> int:
        """Size of one pooled layer vector: hidden size, doubled for mean+std pooling."""
        return self.hidden_size * (2 if self.config.pool == "mean_std" else 1)

    @property
    def output_layers(self) -> int | None:
        """Layers kept side by side in the output (None when the output is one vector per turn)."""
        return len(self.slots) if self.mode in ("all", "list") else None

    @property
    def deepest(self) -> int:
        """The deepest layer any slot needs (the model runs only up to it)."""
        return max(max(slot) for slot in self.slots)

    def _forward(self, waves: list[np.ndarray]) -> list[FrameStats]:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, waves: Sequence[np.ndarray], sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """Embed each wave (float32 mono, any length) → (n, dim) or, for ``layers: all``/a list,
        (n, n_slots, dim); float32. Deterministic for a given batch plan."""
        waves = check_waves(waves, sample_rate)
        if not waves:
            shape = (0, self.output_layers, self.dim) if self.output_layers else (0, self.dim)
            return np.zeros(shape, dtype=np.float32)
        max_samples = int(self.max_chunk_seconds * SAMPLE_RATE)
        pieces: list[tuple[int, np.ndarray]] = []
        for owner, wave in enumerate(waves):
            for a, b in split_chunks(wave.size, max_samples):
                piece = wave[a:b]
                if piece.size < MIN_SAMPLES:
                    piece = np.pad(piece, (0, MIN_SAMPLES - piece.size))
                pieces.append((owner, piece))
        batch_samples = int(self.config.batch_seconds * SAMPLE_RATE)
        stats: list[FrameStats | None] = [None] * len(waves)
        sizes = [p.size for _, p in pieces]
        for batch in plan_batches(sizes, batch_samples, self.max_items, self.max_padding, self.max_square):
            for i, result in zip(batch, self._forward([pieces[i][1] for i in batch])):
                owner = pieces[i][0]
                if stats[owner] is None:
                    stats[owner] = result
                else:
                    stats[owner] += result
        return np.stack([self._pool(s) for s in stats]).astype(np.float32)

    def _pool(self, stats: FrameStats) -> np.ndarray:
        """Per slot mean (and std) over frames → (n_slots, dim), or (dim,) for a single-vector output."""
        n = max(stats.frames, 1)
        mean = stats.total / n  # (n_slots, hidden)
        parts = [mean]
        if self.config.pool == "mean_std":
            var = np.maximum(stats.squares / n - np.square(mean), 0.0)
            parts.append(np.sqrt(var))
        pooled = np.concatenate(parts, axis=-1)  # (n_slots, dim)
        return pooled if self.output_layers else pooled[0]
