"""Voice activity detection → ``SpeechActivity``: per-10-ms levels, raw detector decisions and smoothed
speech regions of one channel.

The detector is looked up by name in ``VADS`` (``webrtc``: the WebRTC GMM detector through ``webrtcvad``;
``energy``: a level threshold only, for clean synthetic audio and comparisons). Smoothing follows the usual
recipe: a hangover after each detection, short gaps bridged, short bursts dropped; then each region's edges
are snapped to the first/last 10 ms cell whose level is within ``refine_edges_db`` of the region's peak,
which removes the detector's frame quantisation and late offsets.

``detect_speech`` takes a signal; ``detect_speech_blocks`` the same recording block by block (two passes:
levels, then decisions, with one detector state carried across blocks) and gives the same result, so
``recording_activity`` analyses a long recording from disk in 30 s blocks without holding it whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ..data.audio import TARGET_SR, audio_info, load_audio, read_blocks
from ..registry import Registry
from .config import CELL, VadConfig
from .regions import Region, mask_to_regions, n_cells, smooth, to_cells

VADS: Registry[Callable[[np.ndarray, int, VadConfig], np.ndarray]] = Registry("VAD")
_FLOOR_DB = -120.0
HARD_FLOOR_DB = -110.0  # no cell this quiet is speech, whatever the gain: digital silence reads -120
KEEP_AUDIO_MAX_S = 600.0  # recordings up to 10 min are decoded whole (38 MB at 16 kHz float32); longer: blocks
BLOCK_SECONDS = 30  # whole 10/20/30 ms frames at every supported rate


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
def webrtc_decisions(signal: np.ndarray, sample_rate: int, config: VadConfig, state: dict | None = None) -> np.ndarray:
    """webrtcvad decision per ``config.frame_ms`` frame, spread onto 10 ms cells: bool ``(n_cells,)``.

    ``signal``: float mono in [-1, 1] at 8, 16, 32 or 48 kHz. The last partial frame is zero-padded.
    ``state``: a dict kept across consecutive blocks of one recording (each a whole number of frames
    long but the last), so the detector adapts across them as over the whole signal.
    """
    import webrtcvad

    if sample_rate not in (8000, 16000, 32000, 48000):
        raise ValueError(f"webrtcvad needs 8/16/32/48 kHz audio, got {sample_rate} Hz")
    if state is None:
        state = {}
    vad = state.setdefault("vad", webrtcvad.Vad(config.aggressiveness))
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
def energy_decisions(signal: np.ndarray, sample_rate: int, config: VadConfig, state: dict | None = None) -> np.ndarray:
    """Every cell above the level floor counts as speech (the level gate alone)."""
    return np.ones(n_cells(len(signal) / sample_rate), dtype=bool)


def _gain_db(level_db: np.ndarray, config: VadConfig) -> float | None:
    """The gain that puts the recording's loud speech (the 95th percentile cell level) at
    ``config.normalise_to_db``, at most ``config.max_gain_db``; webrtcvad is not level invariant, so a
    quietly recorded interview would otherwise lose its soft speech. None: no normalisation."""
    if config.normalise_to_db is None or level_db.size == 0:
        return None
    return min(config.normalise_to_db - float(np.percentile(level_db, 95)), config.max_gain_db)


def _normalised(signal: np.ndarray, gain_db: float | None) -> np.ndarray:
    if gain_db is None:
        return signal
    return np.clip(signal * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)


def noise_floor(level_db: np.ndarray, config: VadConfig) -> float:
    """The recording's noise floor (dBFS): the ``noise_percentile`` of its cell levels."""
    return float(np.percentile(level_db, config.noise_percentile)) if level_db.size else _FLOOR_DB


def level_floor(noise_db: float, gain_db: float | None, config: VadConfig) -> float:
    """The level (dBFS, as recorded) a 10 ms cell needs to count as speech: ``min_snr_db`` above the noise
    floor and ``min_level_db`` after the normalising gain, so a recording played 20 dB softer loses no
    soft speech the louder one kept (the gain cancels); never below ``HARD_FLOOR_DB`` (digital silence)."""
    absolute = config.min_level_db - (gain_db or 0.0)
    return max(HARD_FLOOR_DB, absolute, noise_db + config.min_snr_db)


def _refine_edges(
    regions: list[Region],
    level_db: np.ndarray,
    config: VadConfig,
    duration: float,
    noise_db: float,
    gain_db: float | None = None,
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
            float(np.max(level_db[a:b])) - config.refine_edges_db,
            noise_db + config.edge_snr_db,
            max(HARD_FLOOR_DB, config.min_level_db - (gain_db or 0.0)),  # level invariant, as ``level_floor``
        )
        loud = np.flatnonzero(segment >= threshold)
        if loud.size == 0:
            continue
        new_start, new_end = float(lo + loud[0]) * CELL, min(float(lo + loud[-1] + 1) * CELL, duration)
        if new_end - new_start >= config.min_speech and new_end > new_start:
            out.append((round(new_start, 6), round(new_end, 6)))
    return out


def _activity(
    level: np.ndarray,
    raw: np.ndarray,
    duration: float,
    config: VadConfig,
    noise: float,
    floor: float,
    gain: float | None,
) -> SpeechActivity:
    mask = smooth(raw, config.hangover, config.min_silence, config.min_speech)
    regions = _refine_edges(mask_to_regions(mask, limit=duration), level, config, duration, noise, gain)
    return SpeechActivity(
        duration=duration, level_db=level, raw=raw, regions=tuple(regions), floor_db=floor, noise_db=noise
    )


def detect_speech(signal: np.ndarray, sample_rate: int = TARGET_SR, config: VadConfig | None = None) -> SpeechActivity:
    """Run the configured VAD over ``signal`` (float mono, shape ``(n,)``) and smooth its decisions."""
    config = config or VadConfig()
    signal = np.asarray(signal, dtype=np.float32)
    level = cell_levels(signal, sample_rate)
    noise, gain = noise_floor(level, config), _gain_db(level, config)
    floor = level_floor(noise, gain, config)
    raw = VADS.get(config.name)(_normalised(signal, gain), sample_rate, config) & (level >= floor)
    return _activity(level, raw, len(signal) / sample_rate, config, noise, floor, gain)


def detect_speech_blocks(
    blocks: Callable[[], Iterable[np.ndarray]], sample_rate: int = TARGET_SR, config: VadConfig | None = None
) -> SpeechActivity:
    """``detect_speech`` over a recording given block by block, never whole: ``blocks()`` yields its
    consecutive float mono blocks, each a whole number of 30 ms frames long but the last (e.g. 30 s at
    16 kHz), and is called twice (levels, then decisions). Equal to ``detect_speech`` on the blocks joined;
    memory is one block plus the 10 ms-cell arrays (about 5 bytes per cell: 3.6 MB for 2 hours)."""
    config = config or VadConfig()
    levels, n = [], 0
    for block in blocks():
        levels.append(cell_levels(np.asarray(block, dtype=np.float32), sample_rate))
        n += len(block)
    level = np.concatenate(levels) if levels else np.zeros(0, np.float32)
    noise, gain = noise_floor(level, config), _gain_db(level, config)
    floor = level_floor(noise, gain, config)
    decide, state, raw = VADS.get(config.name), {}, []
    for block in blocks():
        raw.append(decide(_normalised(np.asarray(block, dtype=np.float32), gain), sample_rate, config, state))
    decisions = np.concatenate(raw) if raw else np.zeros(0, bool)
    if decisions.size != level.size:
        raise ValueError(f"blocks must be whole 30 ms frames long but the last ({decisions.size} != {level.size})")
    return _activity(level, decisions & (level >= floor), n / sample_rate, config, noise, floor, gain)


def recording_activity(
    path: str,
    config: VadConfig,
    channel: int | None = None,
    keep_seconds: float | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray | None, SpeechActivity]:
    """``(audio, activity)`` of the recording at ``path`` (16 kHz, ``channel`` or the mono mix, passed
    through ``transform``): a recording of at most ``keep_seconds`` (default ``KEEP_AUDIO_MAX_S``) is decoded
    whole and returned with its VAD; a longer one is read and analysed in ``BLOCK_SECONDS`` blocks
    (``transform`` applied per block), its audio is not kept (None: later stages read the spans they
    need), and memory stays flat."""
    if audio_info(path).duration <= (KEEP_AUDIO_MAX_S if keep_seconds is None else keep_seconds):
        audio = load_audio(path, channel=channel)
        audio = transform(audio) if transform is not None else audio
        return audio, detect_speech(audio, TARGET_SR, config)

    def blocks():
        for block in read_blocks(path, BLOCK_SECONDS, channel):
            yield transform(block) if transform is not None else block

    return None, detect_speech_blocks(blocks, TARGET_SR, config)


def speech_mask(activity: SpeechActivity) -> np.ndarray:
    """The smoothed speech regions of ``activity`` as a bool mask ``(n_cells,)``."""
    mask = np.zeros(activity.n_cells, dtype=bool)
    for start, end in activity.regions:
        mask[to_cells(start) : to_cells(end)] = True
    return mask
