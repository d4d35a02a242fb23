"""Spectral features over the voiced frames of a turn: MFCC means (librosa), spectral slope, alpha ratio
and Hammarberg index, all from one short-time power spectrum (25 ms Hann window, one frame per
``time_step``)."""

from __future__ import annotations

import functools

import librosa
import numpy as np

NAN = float("nan")
_EPS = 1e-12
_N_MELS = 40


@functools.lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) Slaney mel filterbank, cached per rate and FFT size."""
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=_N_MELS)


def power_spectrogram(x: np.ndarray, sample_rate: int, step: float) -> tuple[np.ndarray, np.ndarray, int]:
    """|STFT|² of ``x`` (n,) float: (n_fft // 2 + 1, n_frames) power, (n_frames,) frame centres in s from
    the start of ``x``, and n_fft. Frames are centred (librosa ``center=True``, zero padded)."""
    win = max(int(round(0.025 * sample_rate)), 16)
    n_fft = 1 << (win - 1).bit_length()
    hop = max(int(round(step * sample_rate)), 1)
    spec = librosa.stft(np.asarray(x, dtype=np.float32), n_fft=n_fft, hop_length=hop, win_length=win,
                        window="hann", center=True, pad_mode="constant")
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float64)
    times = np.arange(power.shape[1]) * hop / sample_rate
    return power, times, n_fft


def _band(freqs: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (freqs >= lo) & (freqs < hi)


def spectral_features(power: np.ndarray, sample_rate: int, n_fft: int, n_mfcc: int,
                      with_shape: bool = True) -> dict[str, float]:
    """Means over the given frames of ``power`` (n_bins, n_frames), already restricted to voiced frames.

    ``mfcc_XX_mean``: mean of librosa MFCCs (40 mel bands, log power in dB, DCT-II ortho).
    ``spectral_slope_db_per_khz``: least-squares slope of the frame's band levels (dB of the power summed
    in 250 Hz bands from 50 Hz to 5 kHz, capped at Nyquist) against band centre (kHz), averaged. ``alpha_ratio_db``: level of 1–5 kHz minus level of
    50–1000 Hz (summed power, dB; negative in normal speech, higher = relatively more high-frequency
    energy). ``hammarberg_db``: strongest bin in 0–2 kHz minus strongest in 2–5 kHz (dB). Bands above
    Nyquist are cut there; a band left empty gives NaN. No frames → all NaN.
    """
    names = [f"mfcc_{i:02d}_mean" for i in range(1, n_mfcc + 1)]
    if with_shape:
        names += ["spectral_slope_db_per_khz", "alpha_ratio_db", "hammarberg_db"]
    out = dict.fromkeys(names, NAN)
    if power.shape[1] == 0:
        return out
    if n_mfcc:
        mel_db = librosa.power_to_db(_mel_basis(sample_rate, n_fft) @ power, top_db=None)
        mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)
        for i, value in enumerate(mfcc.mean(axis=1), 1):
            out[f"mfcc_{i:02d}_mean"] = float(value)
    if not with_shape:
        return out
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    db = 10.0 * np.log10(power + _EPS)
    edges = np.arange(50.0, min(5000.0, 0.5 * sample_rate) + 1.0, 250.0)
    if len(edges) >= 3:  # band levels (dB of summed power), so harmonics and not the gaps between them count
        levels = np.stack([10.0 * np.log10(power[_band(freqs, lo, hi)].sum(axis=0) + _EPS)
                           for lo, hi in zip(edges[:-1], edges[1:])])
        khz = (edges[:-1] + edges[1:]) / 2000.0
        kc = khz - khz.mean()
        out["spectral_slope_db_per_khz"] = float((kc @ levels).mean() / (kc @ kc))
    low, high = _band(freqs, 50.0, 1000.0), _band(freqs, 1000.0, 5000.0)
    if low.any() and high.any():
        ratio = 10.0 * np.log10((power[high].sum(axis=0) + _EPS) / (power[low].sum(axis=0) + _EPS))
        out["alpha_ratio_db"] = float(ratio.mean())
    below, above = _band(freqs, 0.0, 2000.0), _band(freqs, 2000.0, 5000.0)
    if below.any() and above.any():
        out["hammarberg_db"] = float((db[below].max(axis=0) - db[above].max(axis=0)).mean())
    return out
