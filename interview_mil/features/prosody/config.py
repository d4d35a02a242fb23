"""Settings of the prosody feature set and the names of its columns.

``ProsodyConfig`` is a frozen dataclass (load it from YAML with ``interview_mil.config.from_dict``);
``prosody_feature_names(config)`` lists the numeric columns it produces, ``PROSODY_FEATURES`` those of
the default config, ``PROSODY_FLAGS`` the boolean flag columns that follow them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import ConfigError


@dataclass(frozen=True)
class ProsodyConfig:
    """Prosody extraction settings (times in seconds, frequencies in Hz, levels in dB).

    Pitch: the tracker named ``pitch_tracker`` in ``pitch.PITCH_TRACKERS`` (default ``praat_ac``, Praat's
    autocorrelation tracker; ``praat_cc`` is its cross-correlation one) between ``f0_min`` and ``f0_max``
    every ``time_step`` s, run on the audio resampled to ``pitch_sample_rate`` Hz (0 = as given; 4 kHz
    keeps every harmonic below 2 kHz, doubles the speed and moves F0 by < 0.1 %). ``f0_outlier_filter``:
    F0 statistics ignore voiced frames outside [0.75 × Q1, 1.5 × Q3] of the turn's F0 (De Looze & Hirst
    2008 range rule), the octave jumps of creaky or irregular phonation.
    Loudness and syllable nuclei: Praat intensity with a window set by ``intensity_min_pitch``
    (50 Hz → 64 ms, as in de Jong & Wempe 2009). A frame is *silent* when its intensity is more than
    ``silence_db`` below the turn's 99th-percentile intensity; silent runs of at least ``min_pause`` s
    strictly inside the turn are pauses (sounding islands shorter than ``min_sounding`` s inside a silence
    are treated as silence: clicks, breaths). A syllable nucleus is an intensity peak above the silence
    threshold, voiced, and at least ``min_dip_db`` above the lowest intensity since the previous nucleus.
    Turns shorter than ``min_duration`` s, or with fewer than ``min_voiced_frames`` voiced frames, get
    NaN plus a flag for what cannot be measured.
    """

    f0_min: float = 75.0
    f0_max: float = 500.0
    pitch_tracker: str = "praat_ac"
    pitch_sample_rate: int = 4000
    f0_outlier_filter: bool = True
    time_step: float = 0.01
    mfcc: int = 13
    voice_quality: bool = True
    spectral: bool = True
    min_duration: float = 0.25
    min_voiced_frames: int = 5
    intensity_min_pitch: float = 50.0
    silence_db: float = 25.0
    min_pause: float = 0.25
    min_sounding: float = 0.08
    min_dip_db: float = 2.0
    silent_floor_db: float = 20.0
    padding: float = 0.1

    def __post_init__(self) -> None:
        if not (0 < self.f0_min < self.f0_max):
            raise ConfigError(
                f"f0_min ({self.f0_min:g} Hz) must be above 0 and below f0_max ({self.f0_max:g} Hz)",
                fix="set prosody.f0_min below prosody.f0_max (defaults 75 and 500 Hz; 60-300 for low voices)",
            )
        if self.pitch_sample_rate < 0 or (self.pitch_sample_rate and self.pitch_sample_rate < 4 * self.f0_max):
            raise ConfigError(
                f"pitch_sample_rate must be 0 or >= 4 x f0_max ({4 * self.f0_max:g} Hz), got {self.pitch_sample_rate}",
                fix="set prosody.pitch_sample_rate to 0 (as recorded) or at least 4 x prosody.f0_max",
            )
        if not (0 < self.time_step <= 0.05):
            raise ConfigError(f"time_step must lie in (0, 0.05] s, got {self.time_step}", fix="the default is 0.01 s")
        if not (0 <= self.mfcc <= 40):
            raise ConfigError(f"mfcc must lie in 0..40, got {self.mfcc}", fix="the default is 13 (0: none)")
        for name in ("min_duration", "min_pause", "min_sounding", "min_dip_db", "padding", "silent_floor_db"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}", fix=f"set prosody.{name} >= 0")
        if self.min_voiced_frames < 1:
            raise ConfigError(f"min_voiced_frames must be >= 1, got {self.min_voiced_frames}", fix="the default is 5")
        if self.silence_db <= 0 or self.intensity_min_pitch <= 0:
            raise ConfigError(
                "silence_db and intensity_min_pitch must be positive", fix="the defaults are 25 dB and 50 Hz"
            )


PITCH_FEATURES = ("f0_mean_hz", "f0_median_hz", "f0_sd_st", "f0_range_st", "f0_slope_st_per_s", "voiced_fraction")
LOUDNESS_FEATURES = ("intensity_mean_db", "intensity_sd_db", "intensity_range_db", "intensity_delta_sd_db")
TIMING_FEATURES = (
    "duration_s",
    "speech_rate_syl_per_s",
    "articulation_rate_syl_per_s",
    "n_pauses",
    "pause_total_s",
    "pause_longest_s",
    "pause_ratio",
    "response_latency_s",
)
VOICE_FEATURES = ("jitter_local", "shimmer_local", "hnr_db")
SPECTRAL_FEATURES = ("spectral_slope_db_per_khz", "alpha_ratio_db", "hammarberg_db")
PROSODY_FLAGS = ("flag_too_short", "flag_unvoiced", "flag_silent")


def mfcc_names(n: int) -> list[str]:
    """``mfcc_01_mean`` .. ``mfcc_{n}_mean``."""
    return [f"mfcc_{i:02d}_mean" for i in range(1, n + 1)]


def prosody_feature_names(config: ProsodyConfig) -> list[str]:
    """Ordered numeric feature columns produced under ``config`` (flag columns excluded)."""
    names = [*PITCH_FEATURES, *LOUDNESS_FEATURES, *TIMING_FEATURES]
    if config.voice_quality:
        names += VOICE_FEATURES
    names += mfcc_names(config.mfcc)
    if config.spectral:
        names += SPECTRAL_FEATURES
    return names


PROSODY_FEATURES: tuple[str, ...] = tuple(prosody_feature_names(ProsodyConfig()))
