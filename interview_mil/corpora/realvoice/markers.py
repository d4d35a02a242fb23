"""Depression-like speech markers planted into one answer of real speech by signal processing.

Every marker takes an answer's samples ((n,) float at 16 kHz) and a strength ``s`` in [0, 1] and returns
new samples; ``s = 0`` returns the input object itself, untouched. What each changes, at ``s = 1``:

==============  =========================================================================================
``pitch_flat``  F0 excursions around the phrase's median compressed by 70 % in semitones (PSOLA)
``slow``        35 % longer (PSOLA duration tier: same pitch, slower speech)
``soft``        6 dB quieter
``latency``     1.5 s more silence before the answer (the layout's, see ``latency_seconds``)
``pauses``      3 silences of 0.8 s inserted at the quietest points inside the answer (1 of 0.3 s near 0)
``breathy``     aspiration noise above 1.5 kHz that follows the speech envelope, 6 dB below the speech,
                and the speech low-passed at 5 kHz
``f0_level``    whole pitch contour 3 semitones lower (PSOLA)
``tilt``        a high shelf: everything above ~1 kHz 12 dB quieter (zero-phase, monotone in frequency)
==============  =========================================================================================

The PSOLA markers go through one Praat Manipulation and one overlap-add resynthesis (``psola``), so an
answer carrying several of them is resynthesised once. ``apply_markers`` applies a set of markers in a
fixed order and reports the inserted pauses and the extra latency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt, sosfiltfilt

from ...data.audio import TARGET_SR

SR = TARGET_SR
PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 75.0, 600.0
MARKERS = ("pitch_flat", "slow", "soft", "latency", "pauses", "breathy", "f0_level", "tilt")
CORE_MARKERS = ("pitch_flat", "slow", "soft", "latency", "pauses")
_PSOLA = ("pitch_flat", "f0_level", "slow")
_FRAME_S = 0.02


def _check(strength: float) -> float:
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"marker strength must lie in [0, 1], got {strength}")
    return float(strength)


def median_f0(samples: np.ndarray) -> float | None:
    """Median F0 (Hz) of the voiced frames of ``samples`` (Praat autocorrelation, 75-600 Hz); None if unvoiced."""
    import parselmouth

    pitch = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=SR).to_pitch(
        0.01, PITCH_FLOOR_HZ, PITCH_CEILING_HZ
    )
    f0 = pitch.selected_array["frequency"]
    f0 = f0[f0 > 0]
    return float(np.median(f0)) if f0.size else None


def psola(
    samples: np.ndarray, flatten: float = 0.0, shift_st: float = 0.0, stretch: float = 1.0, seed: int = 0
) -> np.ndarray:
    """Praat PSOLA (Manipulation → overlap-add) of ``samples``: F0 excursions around the median scaled by
    ``1 - flatten`` in semitones, the whole contour moved by ``shift_st`` semitones, duration times
    ``stretch``. With the neutral settings this is a plain resynthesis (the processing alone). (m,) float32;
    the same for the same ``seed``."""
    import parselmouth
    from parselmouth.praat import call, run

    snd = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=SR)
    manipulation = call(snd, "To Manipulation", 0.01, PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
    centre = median_f0(samples) if flatten else None
    if centre is not None or shift_st:
        tier = call(manipulation, "Extract pitch tier")
        keep = 1.0 - flatten if centre is not None else 1.0
        ref = centre or 100.0
        ref, keep, shift = (f"{float(v):.12g}" for v in (ref, keep, shift_st))
        call(tier, "Formula", f"{ref} * (self / {ref}) ^ {keep} * 2 ^ ({shift} / 12)")
        call([tier, manipulation], "Replace pitch tier")
    if stretch != 1.0:
        durations = call("Create DurationTier", "stretch", snd.xmin, snd.xmax)
        call(durations, "Add point", snd.xmin, float(stretch))
        call([durations, manipulation], "Replace duration tier")
    # Stretched unvoiced stretches are rebuilt from randomly chosen periods: seed Praat's generator (a
    # process-wide one) for the call, then hand it back to unpredictable seeding.
    run(f"random_initializeWithSeedUnsafelyButPredictably ({int(seed)})")
    try:
        out = call(manipulation, "Get resynthesis (overlap-add)")
    finally:
        run("random_initializeSafelyAndUnpredictably ()")
    return np.asarray(out.values[0], dtype=np.float32)


def pitch_flat(samples: np.ndarray, strength: float) -> np.ndarray:
    """F0 excursions compressed towards the phrase's median by ``0.7 * s`` in semitones (F0 SD x 0.3 at s=1)."""
    s = _check(strength)
    return samples if s == 0 else psola(samples, flatten=0.7 * s)


def slow(samples: np.ndarray, strength: float) -> np.ndarray:
    """Speech ``1 + 0.35 * s`` times as long, pitch kept (PSOLA duration tier)."""
    s = _check(strength)
    return samples if s == 0 else psola(samples, stretch=1.0 + 0.35 * s)


def f0_level(samples: np.ndarray, strength: float) -> np.ndarray:
    """The whole F0 contour ``3 * s`` semitones lower (PSOLA)."""
    s = _check(strength)
    return samples if s == 0 else psola(samples, shift_st=-3.0 * s)


def soft(samples: np.ndarray, strength: float) -> np.ndarray:
    """Gain of ``-6 * s`` dB."""
    s = _check(strength)
    return samples if s == 0 else (samples * 10 ** (-6.0 * s / 20)).astype(np.float32)


def latency_seconds(strength: float) -> float:
    """Extra silence (s) before the answer: ``1.5 * s``. Applied by the interview layout, not to samples."""
    return 1.5 * _check(strength)


def tilt(samples: np.ndarray, strength: float) -> np.ndarray:
    """A high shelf of ``-12 * s`` dB above ~1 kHz: ``x + (g - 1) * hp(x)`` with a zero-phase 1st-order
    high-pass, so the gain falls monotonically from 1 at low frequencies to ``g`` at high ones."""
    s = _check(strength)
    if s == 0:
        return samples
    g = 10 ** (-12.0 * s / 20)
    x = np.asarray(samples, dtype=np.float64)
    high = sosfiltfilt(butter(1, 1000.0, btype="high", fs=SR, output="sos"), x)
    return (x + (g - 1.0) * high).astype(np.float32)


def _frame_rms(x: np.ndarray, frame_s: float = _FRAME_S) -> np.ndarray:
    hop = int(round(frame_s * SR))
    n = max(1, len(x) // hop)
    frames = np.asarray(x[: n * hop], dtype=np.float64).reshape(n, hop)
    return np.sqrt(np.mean(frames**2, axis=1) + 1e-20)


def breathy(samples: np.ndarray, strength: float, seed: int = 0) -> np.ndarray:
    """Aspiration-like noise: white noise (seeded by ``seed``) high-passed at 1.5 kHz and shaped by the
    speech's 20 ms RMS envelope, mixed at ``0.5 * s`` times the speech's RMS (-6 dB at s=1, -12 dB at 0.5);
    the speech itself blended towards a 5 kHz low-pass by ``s`` (a slightly duller voice). Lowers the HNR."""
    s = _check(strength)
    if s == 0:
        return samples
    x = np.asarray(samples, dtype=np.float64)
    env = np.repeat(_frame_rms(x), int(round(_FRAME_S * SR)))
    env = np.pad(env, (0, max(0, len(x) - len(env))), mode="edge")[: len(x)]
    window = np.hanning(321)  # 20 ms smoothing
    env = np.convolve(env, window / window.sum(), mode="same")
    white = np.random.default_rng(seed).standard_normal(len(x))
    noise = sosfilt(butter(4, 1500.0, btype="high", fs=SR, output="sos"), white) * env
    noise *= 0.5 * s * np.sqrt(np.mean(x**2)) / (np.sqrt(np.mean(noise**2)) + 1e-12)
    low = sosfiltfilt(butter(2, 5000.0, btype="low", fs=SR, output="sos"), x)
    return (x + s * (low - x) + noise).astype(np.float32)


def pause_points(samples: np.ndarray, count: int, min_gap_s: float = 0.4) -> list[int]:
    """Up to ``count`` sample positions at the quietest 20 ms frames inside the middle 70 % of ``samples``,
    at least ``min_gap_s`` apart, in time order."""
    rms = _frame_rms(samples)
    hop = int(round(_FRAME_S * SR))
    lo, hi = int(0.15 * len(rms)), int(0.85 * len(rms))
    chosen: list[int] = []
    for k in lo + np.argsort(rms[lo:hi], kind="stable"):
        if all(abs(int(k) - c) * _FRAME_S >= min_gap_s for c in chosen):
            chosen.append(int(k))
        if len(chosen) == count:
            break
    return sorted(c * hop + hop // 2 for c in chosen)


def pause_plan(strength: float) -> tuple[int, float]:
    """(number, length in s) of the pauses inserted at strength ``s``: ``1 + round(2 * s)`` of ``0.3 + 0.5 * s`` s."""
    s = _check(strength)
    return 1 + int(round(2 * s)), 0.3 + 0.5 * s


def background(samples: np.ndarray, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """``seconds`` of the recording's own background: 20 ms frames drawn at random from the quietest tenth
    of ``samples`` (at least 3), Hann-windowed and overlap-added at 50 %. A pause filled with it has the
    level and spectrum of the room, so a VAD hears it as a pause (synthetic white noise it may not)."""
    x = np.asarray(samples, dtype=np.float64)
    size = int(round(_FRAME_S * SR))
    hop = size // 2
    rms = _frame_rms(x)
    pool = np.argsort(rms, kind="stable")[: max(3, len(rms) // 10)]
    n = int(round(seconds * SR))
    window = np.hanning(size + 1)[:-1]  # periodic: overlapping windows at 50 % sum to 1
    out = np.zeros(n + size)
    for start in range(0, n, hop):
        k = int(pool[rng.integers(len(pool))])
        frame = x[k * size : (k + 1) * size]
        out[start : start + len(frame)] += frame * window[: len(frame)]
    return out[hop : hop + n] if n + hop <= len(out) else out[:n]


def insert_silences(samples: np.ndarray, points: list[int], seconds: float, seed: int = 0) -> np.ndarray:
    """``samples`` with ``seconds`` of the recording's background (``background``) spliced in at each of
    ``points`` (sample positions, ascending) with 5 ms raised-cosine cross-fades: ``len(points) * seconds``
    longer in all."""
    x = np.asarray(samples, dtype=np.float64)
    rng = np.random.default_rng(seed)
    fade = int(0.005 * SR)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))  # 0 → 1
    pieces, last = [], 0
    for point in points:
        p = int(np.clip(point, max(last, fade), len(x) - fade))
        gap = background(x, seconds + 2 * fade / SR, rng)
        gap[:fade] = gap[:fade] * ramp + x[p - fade : p] * ramp[::-1]
        gap[-fade:] = gap[-fade:] * ramp[::-1] + x[p : p + fade] * ramp
        pieces += [x[last : p - fade], gap]
        last = p + fade
    pieces.append(x[last:])
    return np.concatenate(pieces).astype(np.float32)


def pauses(samples: np.ndarray, strength: float, seed: int = 0) -> np.ndarray:
    """``1 + round(2 * s)`` silences of ``0.3 + 0.5 * s`` s inserted at the quietest points inside the answer
    (3 of 0.8 s at s=1; 2.4 s more in all)."""
    s = _check(strength)
    if s == 0:
        return samples
    count, seconds = pause_plan(s)
    return insert_silences(samples, pause_points(samples, count), seconds, seed)


@dataclass(frozen=True, eq=False)
class MarkedAnswer:
    """An answer after ``apply_markers``: ``samples`` (n,) float32 at 16 kHz; ``extra_latency_s``: silence to
    add before it; ``pauses_s``: (position in the new samples, length) of each inserted pause, seconds."""

    samples: np.ndarray
    extra_latency_s: float = 0.0
    pauses_s: tuple[tuple[float, float], ...] = ()


def apply_markers(
    samples: np.ndarray, strengths: Mapping[str, float], seed: int = 0, resynthesize: bool = False
) -> MarkedAnswer:
    """Plant every marker of ``strengths`` (name → strength in [0, 1]) into one answer, in a fixed order:
    one PSOLA pass for pitch_flat / f0_level / slow, then tilt, breathy, soft, pauses; latency is returned.

    ``resynthesize``: pass the answer through PSOLA even when no PSOLA marker is set, so that every
    answer of a corpus carries the same processing and only the planted changes tell marked answers apart.
    """
    unknown = sorted(set(strengths) - set(MARKERS))
    if unknown:
        raise ValueError(f"unknown marker(s) {unknown}; known: {list(MARKERS)}")
    s = {name: _check(strengths.get(name, 0.0)) for name in MARKERS}
    x = samples
    if resynthesize or any(s[name] > 0 for name in _PSOLA):
        x = psola(
            x, flatten=0.7 * s["pitch_flat"], shift_st=-3.0 * s["f0_level"], stretch=1.0 + 0.35 * s["slow"], seed=seed
        )
    x = tilt(x, s["tilt"])
    x = breathy(x, s["breathy"], seed)
    x = soft(x, s["soft"])
    inserted: tuple[tuple[float, float], ...] = ()
    if s["pauses"] > 0:
        count, seconds = pause_plan(s["pauses"])
        points = pause_points(x, count)
        inserted = tuple((p / SR + k * seconds, seconds) for k, p in enumerate(points))
        x = insert_silences(x, points, seconds, seed + 1)
    return MarkedAnswer(np.asarray(x, dtype=np.float32), latency_seconds(s["latency"]), inserted)
