"""Loudness: Praat's intensity contour, the turn's silence threshold, and loudness statistics.

Levels are Praat intensities, dB re 2e-5 (a full-scale sine reads about 91 dB, digital -20 dBFS RMS
about 74 dB); only differences matter within a recording whose gain is fixed, so the turn's mean level
(``intensity_mean_db``) is reported relative to the participant's loud speech (``speech_level_db`` of the
turns' samples pooled, ``extract.extract_prosody``): a recording made 20 dB softer gives the same value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import parselmouth

from .config import ProsodyConfig

NAN = float("nan")


@dataclass
class IntensityTrack:
    """``times``: (n,) frame centres (s from the start of the stretch); ``db``: (n,) intensity, dB."""

    times: np.ndarray
    db: np.ndarray


def track_intensity(sound: parselmouth.Sound, config: ProsodyConfig) -> IntensityTrack:
    """Praat ``To Intensity`` (mean subtracted) with a window of 3.2 / ``intensity_min_pitch`` s, one
    frame per ``time_step``. A stretch shorter than the window gives an empty track."""
    if sound.duration < 3.2 / config.intensity_min_pitch + 2 * config.time_step:
        empty = np.zeros(0)
        return IntensityTrack(empty, empty)
    intensity = sound.to_intensity(minimum_pitch=config.intensity_min_pitch, time_step=config.time_step)
    db = np.asarray(intensity.values[0], dtype=np.float64)
    db = np.where(np.isfinite(db), db, -300.0)  # Praat writes -300 dB for digital silence
    return IntensityTrack(np.asarray(intensity.xs(), dtype=np.float64), db)


def speech_level_db(x: np.ndarray, sample_rate: int) -> float:
    """The loud-speech level of ``x`` (n,) on Praat's intensity scale (dB re 2e-5): the 95th percentile of
    its 10 ms power levels. ``intensity_mean_db`` is read against it, so the recording gain cancels."""
    hop = max(int(round(0.01 * sample_rate)), 1)
    n = len(x) // hop
    if n == 0:
        return NAN
    power = (np.asarray(x[: n * hop], dtype=np.float64).reshape(n, hop) ** 2).mean(axis=1)
    return float(np.percentile(10 * np.log10(power / 4e-10 + 1e-30), 95))


def silence_threshold(db: np.ndarray, config: ProsodyConfig) -> float:
    """The level (dB) below which a frame counts as silent: the turn's 99th-percentile intensity minus
    ``silence_db`` (de Jong & Wempe 2009). NaN for an empty contour."""
    if len(db) == 0:
        return NAN
    return float(np.percentile(db, 99.0)) - config.silence_db


def is_silent_turn(db: np.ndarray, config: ProsodyConfig) -> bool:
    """No frame, or the turn's 99th-percentile intensity under ``silent_floor_db`` (digital silence,
    a muted channel)."""
    return len(db) == 0 or float(np.percentile(db, 99.0)) < config.silent_floor_db


def loudness_features(db: np.ndarray, frames: np.ndarray) -> dict[str, float]:
    """Intensity statistics over the selected frames of a turn: the voiced frames (the loudness of the
    voice; pauses, stop closures and fricatives excluded, so loudness variability is not a second pause
    measure), or the sounding frames of a turn without voicing.

    ``db``: (n,) intensity of the turn's frames; ``frames``: (n,) bool selection. ``intensity_mean_db``:
    mean of the selected frame levels (dB; the extractor then reads it against ``speech_level_db``).
    ``intensity_sd_db``: their standard deviation.
    ``intensity_range_db``: 95th minus 5th percentile. ``intensity_delta_sd_db``: standard deviation of
    the frame-to-frame change (dB per frame step, ``time_step``) over pairs of consecutive selected
    frames: how much loudness moves from moment to moment (low for flat, monotonous delivery).
    """
    out = dict.fromkeys(("intensity_mean_db", "intensity_sd_db", "intensity_range_db", "intensity_delta_sd_db"), NAN)
    levels = db[frames]
    if len(levels) < 2:
        return out
    p5, p95 = np.percentile(levels, [5.0, 95.0])
    out.update(
        intensity_mean_db=float(levels.mean()),
        intensity_sd_db=float(levels.std(ddof=1)),
        intensity_range_db=float(p95 - p5),
    )
    pairs = frames[1:] & frames[:-1]
    if pairs.sum() >= 2:
        out["intensity_delta_sd_db"] = float(np.diff(db)[pairs].std(ddof=1))
    return out
