"""Per-turn prosody: ``extract_prosody`` (every turn of an interview, one row each) and
``extract_turn_prosody`` (one turn's audio → a dict).

Each turn is analysed on its own audio plus ``ProsodyConfig.padding`` s on each side (so analysis
windows at the turn edges see real signal); every feature is then taken from frames whose centre lies
inside the turn. One Praat pitch pass per turn feeds the pitch features, voicing decisions, syllable
nuclei, glottal pulses (jitter/shimmer) and HNR.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import parselmouth
from threadpoolctl import ThreadpoolController

from ...data.records import Turn
from ...errors import FeatureError
from .config import PROSODY_FLAGS, ProsodyConfig, prosody_feature_names
from .loudness import is_silent_turn, loudness_features, silence_threshold, speech_level_db, track_intensity
from .pitch import frames_between, pitch_features, track_pitch
from .spectral import power_frames, spectral_features
from .timing import pause_runs, sounding_frames, syllable_nuclei, timing_features
from .voice import glottal_pulses, voice_features

NAN = float("nan")
_EDGE_TOLERANCE_S = 0.05  # a turn may overhang the audio by this much (rounding of turn times)


def _as_mono(audio: np.ndarray, where: str) -> np.ndarray:
    x = np.asarray(audio)
    if x.ndim != 1:
        raise FeatureError(
            f"{where}: expected mono audio of shape (n,), got shape {x.shape}",
            fix="load audio with interview_mil.data.load_audio (float32 mono)",
        )
    if x.dtype.kind in "iu":
        x = x / float(np.iinfo(x.dtype).max)
    return np.asarray(x, dtype=np.float64)


def _check_finite(x: np.ndarray, where: str) -> None:
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise FeatureError(
            f"{where}: the audio holds {bad} non-finite sample(s) (NaN or inf)",
            fix="re-decode or repair the recording (interview_mil.data.load_audio rejects such files)",
        )


def _measure(
    x: np.ndarray, sample_rate: int, t0: float, t1: float, duration: float, latency: float | None, config: ProsodyConfig
) -> dict[str, float | bool]:
    """All features of the turn lying at [t0, t1) s inside the stretch ``x`` (n,) float64."""
    names = prosody_feature_names(config)
    row: dict[str, float | bool] = dict.fromkeys(names, NAN)
    row["duration_s"] = float(duration)
    row["response_latency_s"] = NAN if latency is None else float(latency)
    flags = dict.fromkeys(PROSODY_FLAGS, False)
    if duration < config.min_duration or (t1 - t0) < config.min_duration:
        flags.update(flag_too_short=True, flag_unvoiced=True)
        return {**row, **flags}
    x = x - x.mean()  # a DC offset would count as level and bend the low end of the spectrum
    sound = parselmouth.Sound(x, sampling_frequency=float(sample_rate))
    intensity = track_intensity(sound, config)
    in_turn = frames_between(intensity.times, t0, t1)
    db = intensity.db[in_turn]
    if is_silent_turn(db, config):
        flags.update(flag_silent=True, flag_unvoiced=True)
        return {**row, **flags}
    track = track_pitch(x, sample_rate, config)
    row.update(pitch_features(track, t0, t1, config.min_voiced_frames, config.f0_outlier_filter))
    unvoiced = math.isnan(row["f0_median_hz"])
    flags["flag_unvoiced"] = unvoiced

    step = config.time_step
    sounding = sounding_frames(db, silence_threshold(db, config), int(round(config.min_sounding / step)))
    voiced = track.voiced_at(intensity.times[in_turn])
    row.update(loudness_features(db, sounding if unvoiced else voiced))
    pauses = pause_runs(sounding, max(int(math.ceil(config.min_pause / step - 1e-9)), 1))
    nuclei = None if unvoiced else len(syllable_nuclei(db, sounding, voiced, config.min_dip_db))
    row.update(timing_features(duration, len(db), step, sounding, pauses, nuclei))

    if config.voice_quality and not unvoiced:
        row.update(voice_features(sound, glottal_pulses(sound, track), track, t0, t1, config.min_voiced_frames))
    if (config.mfcc or config.spectral) and not unvoiced:
        times = track.times[frames_between(track.times, t0, t1) & np.isfinite(track.f0)]
        power, n_fft = power_frames(x, sample_rate, np.rint(times * sample_rate))
        row.update(spectral_features(power, sample_rate, n_fft, config.mfcc, config.spectral))
    return {**row, **flags}


def extract_turn_prosody(
    audio_of_turn: np.ndarray, sample_rate: int, turn: Turn | None = None, config: ProsodyConfig = ProsodyConfig()
) -> dict[str, float]:
    """Prosody of one turn's audio ``audio_of_turn`` (n,) (float, or int PCM scaled to ±1) at
    ``sample_rate`` Hz: {feature name: value} for ``prosody_feature_names(config)`` plus the flags
    (booleans). ``turn`` only supplies the response latency (NaN without it) and the name in errors;
    the duration is the audio's. Raises ``FeatureError`` on non-finite or non-mono audio."""
    where = "turn" if turn is None else f"interview {turn.interview_id!r}, turn {turn.turn_id!r}"
    x = _as_mono(audio_of_turn, where)
    _check_finite(x, where)
    duration = len(x) / sample_rate
    latency = None if turn is None else turn.response_latency
    with _blas_controller().limit(limits=1, user_api="blas"):  # see extract_prosody
        row = _measure(x, sample_rate, 0.0, duration, duration, latency, config)
    row["intensity_mean_db"] -= speech_level_db(x - x.mean(), sample_rate)  # re the turn's own loud speech
    return row


def _turns_level(x: np.ndarray, sample_rate: int, turns: Sequence[Turn], offset: float) -> float:
    """``speech_level_db`` of the samples of ``x`` inside ``turns`` (their mean removed), NaN without any."""
    first = int(round(offset * sample_rate))
    pieces = [
        x[
            max(int(math.floor(t.start * sample_rate)) - first, 0) : min(
                int(math.ceil(t.end * sample_rate)) - first, len(x)
            )
        ]
        for t in turns
    ]
    inside = np.concatenate(pieces) if pieces else np.zeros(0)
    return speech_level_db(inside - inside.mean(), sample_rate) if inside.size else NAN


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """One controller per process (building one scans every loaded library: ~50 ms with torch loaded)."""
    return ThreadpoolController()


def extract_prosody(
    audio: np.ndarray,
    sample_rate: int,
    turns: Sequence[Turn],
    config: ProsodyConfig = ProsodyConfig(),
    offset: float = 0.0,
) -> pd.DataFrame:
    """Prosody of every turn in ``turns`` from ``audio`` (n,) float mono covering [offset, offset + n /
    sample_rate) s of the recording (the whole interview when ``offset`` is 0).

    ``intensity_mean_db`` is relative to the participant's loud speech: ``loudness.speech_level_db`` of
    the samples inside ``turns`` pooled (so the recording gain cancels, and the same turns give the same
    values from the whole recording or from a span around them); ``extract_turn_prosody`` reads it
    against the turn's own loud speech.

    Returns one row per turn in the given order: ``turn_id``, the feature columns of
    ``prosody_feature_names(config)`` (float, NaN where not measurable) and the boolean flag columns
    ``flag_too_short`` (shorter than ``min_duration``), ``flag_unvoiced`` (fewer than ``min_voiced_frames``
    voiced frames: pitch, rates, voice and spectral features NaN), ``flag_silent`` (no signal: everything
    but duration and latency NaN). Raises ``FeatureError`` naming the interview and turn when the turn's
    audio holds NaN/inf or the turn lies outside the audio.
    """
    if sample_rate <= 0:
        raise FeatureError(f"sample rate must be positive, got {sample_rate}")
    x = _as_mono(audio, "interview audio" if not turns else f"interview {turns[0].interview_id!r}")
    reference = _turns_level(x, sample_rate, turns, offset)  # the recording gain cancels against it
    span_end = offset + len(x) / sample_rate
    rows = []
    # The BLAS pool (OpenBLAS: one thread per core) only spins on these small products: measured on 2
    # cores it doubled the CPU time of prosody (61x vs 124x real time per core) for no wall-time gain.
    with _blas_controller().limit(limits=1, user_api="blas"):
        for turn in turns:
            where = f"interview {turn.interview_id!r}, turn {turn.turn_id!r}"
            if turn.start < offset - _EDGE_TOLERANCE_S or turn.end > span_end + _EDGE_TOLERANCE_S:
                raise FeatureError(
                    f"{where}: turn [{turn.start:.3f}, {turn.end:.3f}] s lies outside the audio given "
                    f"([{offset:.3f}, {span_end:.3f}] s)",
                    fix="pass the whole interview's audio (offset 0) or a span covering every turn",
                )
            # sample indices on the recording's grid, then shifted: a span gives the whole recording's pieces
            first = int(round(offset * sample_rate))  # the recording's sample index of x[0]
            a = max(int(math.floor((turn.start - config.padding) * sample_rate)), first) - first
            b = min(int(math.ceil((turn.end + config.padding) * sample_rate)) - first, len(x))
            piece = x[a:b]
            _check_finite(piece, where)
            t0 = max(turn.start, first / sample_rate) - (a + first) / sample_rate
            t1 = min(turn.end, (first + len(x)) / sample_rate) - (a + first) / sample_rate
            row = _measure(piece, sample_rate, t0, t1, turn.duration, turn.response_latency, config)
            row["intensity_mean_db"] -= reference
            rows.append({"turn_id": turn.turn_id, **row})
    columns = ["turn_id", *prosody_feature_names(config), *PROSODY_FLAGS]
    frame = pd.DataFrame(rows, columns=columns)
    frame["turn_id"] = frame["turn_id"].astype(str)
    frame[list(PROSODY_FLAGS)] = frame[list(PROSODY_FLAGS)].astype(bool)
    return frame
