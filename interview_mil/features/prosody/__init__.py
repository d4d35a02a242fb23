"""Readable per-turn prosody: pitch (Praat autocorrelation tracker), loudness, timing (pauses, syllable
nuclei, rates, response latency), voice quality (jitter, shimmer, HNR) and spectral shape (MFCC means,
spectral slope, alpha ratio, Hammarberg index).

``extract_prosody(audio, sample_rate, turns, config)`` → one row per turn; ``extract_turn_prosody`` for
one turn's audio; ``ProsodyConfig`` the settings; ``PROSODY_FEATURES`` / ``prosody_feature_names`` the
numeric columns; ``PROSODY_FLAGS`` the boolean flag columns that follow them.
"""

from .config import PROSODY_FEATURES, PROSODY_FLAGS, ProsodyConfig, prosody_feature_names
from .extract import extract_prosody, extract_turn_prosody
from .pitch import PITCH_TRACKERS

# Bumped whenever a feature's computation changes, so a feature store keyed on it never mixes versions.
PROSODY_VERSION = "5"

__all__ = [
    "PITCH_TRACKERS",
    "PROSODY_FEATURES",
    "PROSODY_FLAGS",
    "PROSODY_VERSION",
    "ProsodyConfig",
    "prosody_feature_names",
    "extract_prosody",
    "extract_turn_prosody",
]
