"""Voiced test signals with a known F0 contour, for tests and ``benchmarks/prosody_accuracy.py``.

A harmonic-rich source (every harmonic below 0.45 × the sample rate, amplitudes falling as
k^-``tilt``, like a glottal pulse train) follows the contour sample by sample, gains a few vowel-like
formant peaks (parallel resonators, so the source's tilt is kept) and a little white noise.
Syllable-like loudness envelopes and silent gaps can be imposed, so rates and pauses are known too.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import iirpeak, lfilter

VOWEL_A = ((730.0, 90.0), (1090.0, 110.0), (2440.0, 160.0))  # (centre Hz, bandwidth Hz)


def gliding_f0(
    f_start: float,
    f_end: float,
    seconds: float,
    sample_rate: int = 16_000,
    vibrato_st: float = 0.0,
    vibrato_hz: float = 5.0,
) -> np.ndarray:
    """(n,) F0 in Hz per sample: an exponential (linear in semitones) glide from ``f_start`` to ``f_end``
    with an optional sinusoidal vibrato of ±``vibrato_st`` semitones."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    st = 12 * np.log2(f_end / f_start) * t / max(seconds, 1e-9)
    st = st + vibrato_st * np.sin(2 * np.pi * vibrato_hz * t)
    return f_start * 2.0 ** (st / 12.0)


def voiced_signal(
    f0: np.ndarray,
    sample_rate: int = 16_000,
    amplitude: float = 0.3,
    tilt: float = 1.2,
    formants: tuple[tuple[float, float], ...] = VOWEL_A,
    snr_db: float = 35.0,
    seed: int = 0,
) -> np.ndarray:
    """(n,) float32 voiced sound whose F0 follows ``f0`` (n,) Hz; samples with ``f0 <= 0`` are silent
    (apart from the noise). Peak-normalised to ``amplitude``; white noise ``snr_db`` below the signal."""
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = f0 > 0
    phase = 2 * np.pi * np.cumsum(np.where(voiced, f0, 0.0)) / sample_rate
    limit = 0.45 * sample_rate
    x = np.zeros(len(f0))
    k_max = int(limit / max(float(f0[voiced].min()) if voiced.any() else limit, 1.0))
    for k in range(1, k_max + 1):
        below = voiced & (k * f0 < limit)
        if not below.any():
            break
        x += np.where(below, np.sin(k * phase), 0.0) * k ** (-tilt)
    source = x
    for centre, bandwidth in formants:  # parallel resonances: +10 dB peaks on the source's own tilt
        if centre < 0.45 * sample_rate:
            b, a = iirpeak(centre, centre / bandwidth, fs=sample_rate)
            x = x + 2.0 * lfilter(b, a, source)
    peak = np.max(np.abs(x)) if voiced.any() else 1.0
    x = amplitude * x / max(peak, 1e-12)
    rms = np.sqrt(np.mean(x[voiced] ** 2)) if voiced.any() else amplitude / 10
    noise = np.random.default_rng(seed).standard_normal(len(x)) * rms * 10 ** (-snr_db / 20)
    return (x + noise).astype(np.float32)


def syllable_envelope(
    n_syllables: int, syllable_s: float = 0.2, sample_rate: int = 16_000, dip_db: float = 15.0
) -> np.ndarray:
    """(n,) gain: ``n_syllables`` raised-cosine loudness bumps of ``syllable_s`` s, each dipping to
    ``dip_db`` below its peak between syllables."""
    t = np.arange(int(round(n_syllables * syllable_s * sample_rate))) / sample_rate
    floor = 10 ** (-dip_db / 20)
    bump = 0.5 - 0.5 * np.cos(2 * np.pi * t / syllable_s)
    return floor + (1 - floor) * bump


def with_pauses(
    pieces: list[np.ndarray], pauses_s: list[float], sample_rate: int = 16_000, noise_level: float = 1e-4, seed: int = 1
) -> np.ndarray:
    """Concatenate ``pieces`` with silent gaps (faint noise) of ``pauses_s`` s between consecutive ones
    (``len(pauses_s) == len(pieces) - 1``)."""
    rng = np.random.default_rng(seed)
    out = [pieces[0]]
    for gap, piece in zip(pauses_s, pieces[1:]):
        out.append((rng.standard_normal(int(round(gap * sample_rate))) * noise_level).astype(np.float32))
        out.append(piece)
    return np.concatenate(out).astype(np.float32)
