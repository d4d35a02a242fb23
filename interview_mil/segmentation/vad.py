"""Voice activity detection → ``SpeechActivity``: per-10-ms levels, raw detector decisions and smoothed
speech regions of one channel.

The detector is looked up by name in ``VADS`` (``webrtc``: the WebRTC GMM detector through ``webrtcvad``;
``energy``: a level threshold only, for clean synthetic audio and comparisons). Smoothing follows the usual
recipe: a hangover after each detection, short gaps bridged, short bursts dropped; then each region's edges
are snapped to the first/last 10 ms cell whose level is within ``refine_edges_db`` of the region's peak,
which removes the detector's frame quantisation and late offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data.audio import TARGET_SR
from ..registry import Registry
from .config import CELL, VadConfig
from .regions import Region, mask_to_regions, n_cells, smooth, to_cells

VADS: Registry[Callable[[np.ndarray, int, VadConfig], np.ndarray]] = Registry("VAD")
_FLOOR_DB = -120.0


@dataclass(frozen=True)
class SpeechActivity:
    """What VAD found in one channel. Arrays have shape ``(n_cells,)`` on the 10 ms grid.

    ``level_db``: RMS level per cell (dBFS). ``raw``: detector decision per cell (already gated by the
    level floor). ``regions``: smoothed speech regions (start, end) in seconds, ordered.
    ``floor_db``: the level a cell needed to count as speech (dBFS); ``noise_db``: the estimated noise
    floor (dBFS).
    """

    duration: float
    level_db: np.ndarray
    raw: np.ndarray
    regions: tuple[Region, ...]
    floor_db: float = -70.0
    noise_db: float = -120.0

    @property
    def n_cells(self) -> int:
        return len(self.level_db)


def cell_levels(signal: np.ndarray, sample_rate: int = TARGET_SR) -> np.ndarray:
    """RMS level of each 10 ms cell of ``signal`` (shape ``(n,)``) in dBFS, shape ``(n_cells,)``."""
    hop = int(round(CELL * sample_rate))
    size = n_cells(len(signal) / sample_rate)
    padded = np.zeros(size * hop, dtype=np.float64)
    padded[: len(signal)] = signal[: size * hop]
    power = (padded.reshape(size, hop) ** 2).mean(axis=1)
    return np.maximum(10.0 * np.log10(power + 1e-12), _FLOOR_DB).astype(np.float32)


@VADS.register("webrtc")
def webrtc_decisions(signal: np.ndarray, sample_rate: int, config: VadConfig) -> np.ndarray:
    """webrtcvad decision per ``config.frame_ms`` frame, spread onto 10 ms cells: bool ``(n_cells,)``.

    ``signal``: float mono in [-1, 1] at 8, 16, 32 or 48 kHz. The last partial frame is zero-padded.
    """
    import webrtcvad

    if sample_rate not in (8000, 16000, 32000, 48000):
        raise ValueError(f"webrtcvad needs 8/16/32/48 kHz audio, got {sample_rate} Hz")
    vad = webrtcvad.Vad(config.aggressiveness)
    frame = sample_rate * config.frame_ms // 1000
    size = n_cells(len(signal) / sample_rate)
    n_frames = -(-len(signal) // frame)
    pcm = np.zeros(n_frames * frame, dtype=np.int16)
    pcm[: len(signal)] = np.clip(np.round(signal * 32767.0), -32768, 32767).astype(np.int16)
    raw = pcm.tobytes()
    step = frame * 2  # bytes per frame
    decisions = np.fromiter(
        (vad.is_speech(raw[i * step : (i + 1) * step], sample_rate) for i in range(n_frames)),
        dtype=bool,
        count=n_frames,
    )
    per_frame = config.frame_ms // 10
    return np.repeat(decisions, per_frame)[:size] if size else np.zeros(0, bool)


@VADS.register("energy")
def energy_decisions(signal: np.ndarray, sample_rate: int, config: VadConfig) -> np.ndarray:
    """Every cell above the level floor counts as speech (the level gate alone)."""
    return np.ones(n_cells(len(signal) / sample_rate), dtype=bool)


def _normalised(signal: np.ndarray, level_db: np.ndarray, config: VadConfig) -> np.ndarray:
    """``signal`` scaled so its loud speech (the 95th percentile cell level) sits at
    ``config.normalise_to_db``, with at most ``config.max_gain_db`` of gain; webrtcvad is not level
    invariant, so a quietly recorded interview would otherwise lose its soft speech."""
    if config.normalise_to_db is None or level_db.size == 0:
        return signal
    gain_db = min(config.normalise_to_db - float(np.percentile(level_db, 95)), config.max_gain_db)
    return np.clip(signal * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)


def noise_floor(level_db: np.ndarray, config: VadConfig) -> float:
    """The recording's noise floor (dBFS): the ``noise_percentile`` of its cell levels."""
    return float(np.percentile(level_db, config.noise_percentile)) if level_db.size else _FLOOR_DB


def _refine_edges(
    regions: list[Region], level_db: np.ndarray, config: VadConfig, duration: float, noise_db: float
) -> list[Region]:
    """Snap each region's edges to its outermost cells within ``refine_edges_db`` of the region's peak
    and ``edge_snr_db`` above the noise floor (a lower bar than a region needs to start: hysteresis, so
    soft word endings are kept); the search reaches one detector frame beyond each edge."""
    if config.refine_edges_db <= 0:
        return regions
    reach = config.frame_ms // 10
    out: list[Region] = []
    for k, (start, end) in enumerate(regions):
        a, b = int(round(start / CELL)), int(round(end / CELL))
        lo = max(a - reach, int(round(out[-1][1] / CELL)) if out else 0)
        hi = min(b + reach, int(round(regions[k + 1][0] / CELL)) if k + 1 < len(regions) else len(level_db))
        segment = level_db[lo:hi]
        if segment.size == 0:
            continue
        threshold = max(
            float(np.max(level_db[a:b])) - config.refine_edges_db, noise_db + config.edge_snr_db, config.min_level_db
        )
        loud = np.flatnonzero(segment >= threshold)
        if loud.size == 0:
            continue
        new_start, new_end = float(lo + loud[0]) * CELL, min(float(lo + loud[-1] + 1) * CELL, duration)
        if new_end - new_start >= config.min_speech and new_end > new_start:
            out.append((round(new_start, 6), round(new_end, 6)))
    return out


def detect_speech(signal: np.ndarray, sample_rate: int = TARGET_SR, config: VadConfig | None = None) -> SpeechActivity:
    """Run the configured VAD over ``signal`` (float mono, shape ``(n,)``) and smooth its decisions."""
    config = config or VadConfig()
    signal = np.asarray(signal, dtype=np.float32)
    duration = len(signal) / sample_rate
    level = cell_levels(signal, sample_rate)
    noise = noise_floor(level, config)
    floor = max(config.min_level_db, noise + config.min_snr_db)
    raw = VADS.get(config.name)(_normalised(signal, level, config), sample_rate, config) & (level >= floor)
    mask = smooth(raw, config.hangover, config.min_silence, config.min_speech)
    regions = _refine_edges(mask_to_regions(mask, limit=duration), level, config, duration, noise)
    return SpeechActivity(
        duration=duration, level_db=level, raw=raw, regions=tuple(regions), floor_db=floor, noise_db=noise
    )


def speech_mask(activity: SpeechActivity) -> np.ndarray:
    """The smoothed speech regions of ``activity`` as a bool mask ``(n_cells,)``."""
    mask = np.zeros(activity.n_cells, dtype=bool)
    for start, end in activity.regions:
        mask[to_cells(start) : to_cells(end)] = True
    return mask
