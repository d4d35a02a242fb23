"""Pitch (F0) with Praat's autocorrelation tracker (Boersma 1993) through parselmouth.

Why Praat: on harmonic-rich gliding contours over 75–400 Hz it tracks F0 within well under 2 % (see
``benchmarks/prosody_accuracy.py``) at a few hundred times real time per core, while librosa's
``pyin`` runs below real time and ``yin`` has no voicing decision of its own. The tracker runs once per
(padded) turn and every pitch feature is taken from the frames whose centre lies inside the turn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import parselmouth
from scipy.signal import resample_poly

from ...registry import Registry
from .config import ProsodyConfig

# Praat pitch trackers by name: (sound, config) -> parselmouth.Pitch. "praat_ac" (default, autocorrelation,
# Praat's choice for intonation) or "praat_cc" (cross-correlation, Praat's choice for voice analysis).
PITCH_TRACKERS: Registry = Registry("pitch tracker")


@PITCH_TRACKERS.register("praat_ac")
def _praat_ac(sound: parselmouth.Sound, config: ProsodyConfig) -> parselmouth.Pitch:
    return sound.to_pitch_ac(time_step=config.time_step, pitch_floor=config.f0_min, pitch_ceiling=config.f0_max)


@PITCH_TRACKERS.register("praat_cc")
def _praat_cc(sound: parselmouth.Sound, config: ProsodyConfig) -> parselmouth.Pitch:
    return sound.to_pitch_cc(time_step=config.time_step, pitch_floor=config.f0_min, pitch_ceiling=config.f0_max)


NAN = float("nan")


@dataclass
class PitchTrack:
    """Frame-wise F0 of one stretch of audio.

    ``times``: (n,) frame centres in s from the start of the stretch; ``f0``: (n,) Hz, NaN where
    unvoiced; ``strength``: (n,) normalised autocorrelation peak r in [0, 1] of the chosen candidate,
    NaN where unvoiced; ``praat``: the ``parselmouth.Pitch`` (None when the stretch was too short for
    one analysis window).
    """

    times: np.ndarray
    f0: np.ndarray
    strength: np.ndarray
    praat: parselmouth.Pitch | None

    def voiced_at(self, times: np.ndarray) -> np.ndarray:
        """(m,) bool: is the pitch frame nearest to each of ``times`` (s) voiced?"""
        if len(self.times) == 0:
            return np.zeros(len(times), dtype=bool)
        step = self.times[1] - self.times[0] if len(self.times) > 1 else 1.0
        idx = np.rint((np.asarray(times) - self.times[0]) / step).astype(int)
        inside = (idx >= 0) & (idx < len(self.times))
        out = np.zeros(len(idx), dtype=bool)
        out[inside] = np.isfinite(self.f0[idx[inside]])
        return out


def track_pitch(x: np.ndarray, sample_rate: int, config: ProsodyConfig) -> PitchTrack:
    """Run the Praat tracker ``config.pitch_tracker`` (default costs) on ``x`` (n,) float at
    ``sample_rate`` Hz, first resampled to ``config.pitch_sample_rate`` (polyphase, zero phase), with
    the config's floor, ceiling and time step. A stretch shorter than the analysis window (3 periods
    of ``f0_min``) gives an empty track."""
    tracker = PITCH_TRACKERS.get(config.pitch_tracker)  # unknown names raise, listing the known ones
    if len(x) / sample_rate < 3.0 / config.f0_min + 2 * config.time_step:
        empty = np.zeros(0)
        return PitchTrack(empty, empty, empty, None)
    target = config.pitch_sample_rate
    if target and target < sample_rate:
        g = math.gcd(int(target), int(sample_rate))
        x = resample_poly(x, int(target) // g, int(sample_rate) // g)
        sample_rate = target
    sound = parselmouth.Sound(x, sampling_frequency=float(sample_rate))
    pitch = tracker(sound, config)
    selected = pitch.selected_array
    f0 = selected["frequency"].astype(np.float64)
    strength = selected["strength"].astype(np.float64)
    unvoiced = f0 <= 0
    f0[unvoiced] = np.nan
    strength[unvoiced] = np.nan
    return PitchTrack(np.asarray(pitch.xs(), dtype=np.float64), f0, strength, pitch)


def frames_between(times: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """(n,) bool: frame centres ``times`` lying in [t0, t1)."""
    return (times >= t0) & (times < t1)


def f0_inliers(hz: np.ndarray) -> np.ndarray:
    """(n,) bool: F0 values (Hz) inside [0.75 x Q1, 1.5 x Q3] of ``hz`` (the De Looze & Hirst 2008 rule
    for a speaker's range); outside lie the octave jumps of creak and irregular phonation."""
    q1, q3 = np.percentile(hz, [25.0, 75.0])
    return (hz >= 0.75 * q1) & (hz <= 1.5 * q3)


def pitch_features(
    track: PitchTrack, t0: float, t1: float, min_voiced: int, outlier_filter: bool = True
) -> dict[str, float]:
    """F0 statistics over the voiced frames of [t0, t1) (s).

    ``f0_mean_hz``/``f0_median_hz``: Hz. ``f0_sd_st``: standard deviation in semitones (12 log2 of F0 over
    the turn's median). ``f0_range_st``: 95th minus 5th percentile, semitones. ``f0_slope_st_per_s``:
    least-squares slope of semitones against time over voiced frames. ``voiced_fraction``: voiced frames
    over all frames of the turn (pauses included). With ``outlier_filter`` the F0 statistics skip
    voiced frames that ``f0_inliers`` rejects. Fewer than ``min_voiced`` voiced frames → NaN
    (``voiced_fraction`` stays measured).
    """
    inside = frames_between(track.times, t0, t1)
    n_frames = int(inside.sum())
    f0 = track.f0[inside]
    voiced = np.isfinite(f0)
    out = dict.fromkeys(("f0_mean_hz", "f0_median_hz", "f0_sd_st", "f0_range_st", "f0_slope_st_per_s"), NAN)
    out["voiced_fraction"] = float(voiced.mean()) if n_frames else NAN
    if voiced.sum() < max(min_voiced, 2):
        return out
    hz = f0[voiced]
    t = track.times[inside][voiced]
    if outlier_filter:
        keep = f0_inliers(hz)
        hz, t = hz[keep], t[keep]
    median = float(np.median(hz))
    st = 12.0 * np.log2(hz / median)
    p5, p95 = np.percentile(st, [5.0, 95.0])
    tc = t - t.mean()
    denom = float(np.dot(tc, tc))
    out.update(
        f0_mean_hz=float(hz.mean()),
        f0_median_hz=median,
        f0_sd_st=float(st.std(ddof=1)),
        f0_range_st=float(p95 - p5),
        f0_slope_st_per_s=float(np.dot(tc, st - st.mean()) / denom) if denom > 0 else NAN,
    )
    return out


def hnr_from_strength(strength: np.ndarray) -> float:
    """Harmonics-to-noise ratio (dB) from autocorrelation peaks r of voiced frames.

    For a periodic signal plus uncorrelated noise the normalised autocorrelation at the period is
    r = E_harmonic / E_total, so HNR = 10 log10(r / (1 - r)) (Boersma 1993; the relation Praat's
    ``To Harmonicity`` uses). Per-frame HNR from the pitch tracker's own r (clipped to [1e-6, 1 - 1e-6],
    i.e. ±60 dB), averaged over voiced frames like Praat's ``Get mean``: a fast approximation of Praat's
    ``Harmonicity (cc)`` mean, which would cost a second analysis pass ~10x slower than the pitch
    tracker. NaN when no frame is voiced.
    """
    r = strength[np.isfinite(strength)]
    if len(r) == 0:
        return NAN
    r = np.clip(r, 1e-6, 1 - 1e-6)
    return float(np.mean(10.0 * np.log10(r / (1.0 - r))))
