"""Spectral features over the voiced frames of a turn: MFCC means (librosa), spectral slope, alpha ratio
and Hammarberg index, all from one short-time power spectrum (25 ms Hann window, one frame per
``time_step``) computed only at the frames that are used."""

from __future__ import annotations

import functools

import librosa
import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

NAN = float("nan")
_EPS = 1e-12
_N_MELS = 40
_SLOPE_BAND_HZ = 250.0
# Every spectral measure stops at 3,550 Hz, inside the telephone band: an 8 kHz recording (nothing above
# ~3.8 kHz after its anti-alias filter) then gives the values of its wideband original, instead of reading
# the empty 4-8 kHz bands as a steep spectral tilt.
TOP_HZ = 3550.0


@functools.lru_cache(maxsize=8)
def _analysis(sample_rate: int) -> tuple[int, int, np.ndarray]:
    """(window length, FFT size, Hann window scaled to unit sum) for 25 ms frames at ``sample_rate``:
    with the unit-sum window a sinusoid of amplitude A peaks at (A/2)² whatever the rate."""
    win = max(int(round(0.025 * sample_rate)), 16)
    window = np.hanning(win + 2)[1:-1]
    return win, 1 << (win - 1).bit_length(), window / window.sum()


@functools.lru_cache(maxsize=8)
def _bands(sample_rate: int, n_fft: int) -> dict[str, np.ndarray]:
    """Cached matrices and masks over the FFT bins: ``mel`` (40, bins) Slaney mel filterbank over
    0–min(``TOP_HZ``, Nyquist) (so 8, 16 and 44.1 kHz audio give comparable MFCCs); ``slope``
    (n_bands, bins) 0/1 sums over 250 Hz bands from 50 Hz to min(``TOP_HZ``, Nyquist) and ``slope_khz``
    their centres; ``low``/``high`` 50–1000 Hz / 1 kHz–``TOP_HZ``; ``below``/``above`` 0–2 kHz /
    2 kHz–``TOP_HZ``."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)

    def band(lo: float, hi: float) -> np.ndarray:
        return (freqs >= lo) & (freqs < hi)

    top = min(TOP_HZ, 0.5 * sample_rate)
    edges = np.arange(50.0, top + 1.0, _SLOPE_BAND_HZ)
    slope = np.array([band(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])], dtype=np.float64)
    slope = slope[slope.sum(axis=1) > 0] if len(slope) else np.zeros((0, len(freqs)))
    centres = (edges[:-1] + edges[1:]) / 2000.0
    return {
        "mel": librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=_N_MELS, fmax=top),
        "slope": slope,
        "slope_khz": centres[: len(slope)],
        "low": band(50.0, 1000.0),
        "high": band(1000.0, top),
        "below": band(0.0, 2000.0),
        "above": band(2000.0, top),
    }


def power_frames(x: np.ndarray, sample_rate: int, centres: np.ndarray) -> tuple[np.ndarray, int]:
    """|FFT|² of 25 ms Hann-windowed frames of ``x`` (n,) centred on the sample indices ``centres``
    (m,) (zero padded at the edges): (n_fft // 2 + 1, m) power and n_fft."""
    win, n_fft, window = _analysis(sample_rate)
    half = win // 2
    padded = np.pad(np.asarray(x, dtype=np.float64), (half, win))
    starts = np.clip(np.asarray(centres, dtype=int), 0, len(x))
    frames = sliding_window_view(padded, win)[starts] * window  # (m, win)
    spec = scipy.fft.rfft(frames, n=n_fft, axis=1)
    return (spec.real**2 + spec.imag**2).T, n_fft


def spectral_features(
    power: np.ndarray, sample_rate: int, n_fft: int, n_mfcc: int, with_shape: bool = True
) -> dict[str, float]:
    """Means over the frames of ``power`` (n_bins, n_frames), already restricted to voiced frames.

    All of them stop at ``TOP_HZ`` (3,550 Hz), so telephone-band audio reads like its wideband original
    (the classic definitions go to 5 kHz; the band between is given up for bandwidth invariance).
    ``mfcc_XX_mean``: mean of librosa MFCCs (40 mel bands up to ``TOP_HZ``, log power in dB, DCT-II
    ortho; a gain moves ``mfcc_01_mean`` only).
    ``spectral_slope_db_per_khz``: least-squares slope of the frame's band levels (dB of the power summed
    in 250 Hz bands from 50 Hz to ``TOP_HZ``, capped at Nyquist) against band centre (kHz), averaged.
    ``alpha_ratio_db``: level of 1 kHz–``TOP_HZ`` minus level of 50–1000 Hz (summed power, dB; negative in
    normal speech, higher = relatively more high-frequency energy). ``hammarberg_db``: strongest bin in
    0–2 kHz minus strongest in 2 kHz–``TOP_HZ`` (dB). Bands above Nyquist are cut there; a band left
    empty gives NaN. No frames → all NaN.
    """
    names = [f"mfcc_{i:02d}_mean" for i in range(1, n_mfcc + 1)]
    if with_shape:
        names += ["spectral_slope_db_per_khz", "alpha_ratio_db", "hammarberg_db"]
    out = dict.fromkeys(names, NAN)
    if power.shape[1] == 0:
        return out
    bands = _bands(sample_rate, n_fft)
    if n_mfcc:
        # amin far below any real band power: a floor (librosa's default 1e-10) would clamp the soft bands
        # of a quietly recorded turn and change every MFCC with the gain, not only the first
        mel_db = librosa.power_to_db(bands["mel"] @ power, amin=1e-30, top_db=None)
        mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)
        for i, value in enumerate(mfcc.mean(axis=1), 1):
            out[f"mfcc_{i:02d}_mean"] = float(value)
    if not with_shape:
        return out
    if len(bands["slope"]) >= 2:  # band levels, so harmonics and not the gaps between them count
        levels = 10.0 * np.log10(bands["slope"] @ power + _EPS)
        kc = bands["slope_khz"] - bands["slope_khz"].mean()
        out["spectral_slope_db_per_khz"] = float((kc @ levels).mean() / (kc @ kc))
    if bands["low"].any() and bands["high"].any():
        ratio = (power[bands["high"]].sum(axis=0) + _EPS) / (power[bands["low"]].sum(axis=0) + _EPS)
        out["alpha_ratio_db"] = float(np.mean(10.0 * np.log10(ratio)))
    if bands["below"].any() and bands["above"].any():
        peaks = (power[bands["below"]].max(axis=0) + _EPS) / (power[bands["above"]].max(axis=0) + _EPS)
        out["hammarberg_db"] = float(np.mean(10.0 * np.log10(peaks)))
    return out
