"""Named turn-feature sets: which prosody columns form the turn vector, and why.

``core`` keeps fourteen measures with a clinical reading, each tied to a finding of the speech-and-depression
literature (reviews: Cummins et al. 2015, "A review of depression and suicide risk assessment using speech
analysis", Speech Communication 71; Low et al. 2020, Laryngoscope Investigative Otolaryngology 5):

* reduced prosodic variation / flattened affect — monotone pitch and loudness: ``f0_sd_st``,
  ``f0_range_st`` (narrower F0 range and variability; Mundt et al. 2007, 2012; Cannizzaro et al. 2004),
  ``intensity_sd_db``, ``intensity_delta_sd_db`` (flatter loudness dynamics; Scherer et al. 2013);
* reduced vocal energy — quieter speech: ``intensity_mean_db`` (Darby et al. 1984; Cummins et al. 2015).
  Its absolute level depends on microphone and gain, so read it relative to the same speaker's other
  turns (``speaker_relative``), as the default model does;
* psychomotor slowing — slowed speech: ``speech_rate_syl_per_s``, ``articulation_rate_syl_per_s``
  (Cannizzaro et al. 2004; Mundt et al. 2012; Alghowinem et al. 2013);
* pauses and latency — longer and more pauses, slower answers: ``pause_ratio``, ``pause_longest_s``,
  ``response_latency_s`` (Mundt et al. 2012; Yamamoto et al. 2020, "Using speech recognition technology to
  investigate the association between timing-related speech features and depression severity");
* voice quality — breathier, tenser, less periodic phonation: ``jitter_local``, ``shimmer_local``,
  ``hnr_db`` (Ozdas et al. 2004; Scherer et al. 2013; Quatieri & Malyska 2012) and the spectral balance
  ``spectral_slope_db_per_khz`` (vocal effort; Quatieri & Malyska 2012).

``full`` keeps every prosody column (adding F0 level and slope, voiced fraction, loudness level and range,
pause counts, MFCC means, alpha ratio, Hammarberg index). Embedding columns (``emb_*``) are never dropped by
a set: the set names prosody only.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError

CORE = (
    "f0_sd_st",
    "f0_range_st",
    "intensity_sd_db",
    "intensity_delta_sd_db",
    "intensity_mean_db",
    "speech_rate_syl_per_s",
    "articulation_rate_syl_per_s",
    "pause_ratio",
    "pause_longest_s",
    "response_latency_s",
    "jitter_local",
    "shimmer_local",
    "hnr_db",
    "spectral_slope_db_per_khz",
)
FEATURE_SETS: dict[str, tuple[str, ...] | None] = {"full": None, "core": CORE}


def feature_set_columns(names: Sequence[str], feature_set: str) -> list[int]:
    """Positions in ``names`` that ``feature_set`` keeps (embedding columns always kept)."""
    if feature_set not in FEATURE_SETS:
        raise ConfigError(f"unknown feature set {feature_set!r}", fix=f"use one of {list(FEATURE_SETS)}")
    keep = FEATURE_SETS[feature_set]
    return [j for j, n in enumerate(names) if keep is None or n in keep or n.startswith("emb_")]
