"""Voice quality: local jitter and shimmer from Praat's glottal pulses (``To PointProcess (cc)``, which
reuses the pitch track, so it costs about as much as the pitch analysis), and HNR from the pitch
tracker's autocorrelation strength (see ``pitch.hnr_from_strength``)."""

from __future__ import annotations

import math

import numpy as np
import parselmouth
from parselmouth.praat import call

from .pitch import PitchTrack, frames_between, hnr_from_strength

NAN = float("nan")

# Praat's standard voice-report settings: shortest / longest period (s), maximum period factor,
# maximum amplitude factor.
_PERIOD_FLOOR = 0.0001
_PERIOD_CEILING = 0.02
_MAX_PERIOD_FACTOR = 1.3
_MAX_AMPLITUDE_FACTOR = 1.6


def glottal_pulses(sound: parselmouth.Sound, track: PitchTrack) -> parselmouth.Data | None:
    """Praat PointProcess of glottal closures found by cross-correlation, guided by ``track``;
    None when the track is empty or has no voiced frame."""
    if track.praat is None or not np.isfinite(track.f0).any():
        return None
    return call([sound, track.praat], "To PointProcess (cc)")


def voice_features(
    sound: parselmouth.Sound, pulses: parselmouth.Data | None, track: PitchTrack, t0: float, t1: float, min_voiced: int
) -> dict[str, float]:
    """``jitter_local``: mean absolute difference of consecutive periods over the mean period (a ratio,
    e.g. 0.01 = 1 %); ``shimmer_local``: the same for peak amplitudes of consecutive periods; ``hnr_db``:
    mean per-frame harmonics-to-noise ratio of the voiced frames (dB). Over [t0, t1) s; NaN when fewer
    than ``min_voiced`` voiced frames or too few pulses."""
    out = {"jitter_local": NAN, "shimmer_local": NAN, "hnr_db": NAN}
    strength = track.strength[frames_between(track.times, t0, t1)]
    if np.isfinite(strength).sum() < max(min_voiced, 1):
        return out
    out["hnr_db"] = hnr_from_strength(strength)
    if pulses is not None:
        jitter = call(pulses, "Get jitter (local)", t0, t1, _PERIOD_FLOOR, _PERIOD_CEILING, _MAX_PERIOD_FACTOR)
        shimmer = call(
            [sound, pulses],
            "Get shimmer (local)",
            t0,
            t1,
            _PERIOD_FLOOR,
            _PERIOD_CEILING,
            _MAX_PERIOD_FACTOR,
            _MAX_AMPLITUDE_FACTOR,
        )
        out["jitter_local"] = _finite(jitter)
        out["shimmer_local"] = _finite(shimmer)
    return out


def _finite(value: object) -> float:
    try:
        number = float(value)  # Praat's "undefined" comes back as NaN
    except (TypeError, ValueError):
        return NAN
    return number if math.isfinite(number) else NAN
