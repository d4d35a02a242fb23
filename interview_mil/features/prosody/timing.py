"""Timing: pauses inside a turn and syllable nuclei (de Jong & Wempe 2009 style), giving speech rate,
articulation rate, pause count / total / longest and pause ratio.

Pauses are measured here on the turn's own intensity contour, not taken from the segmentation's VAD
refinement (``Turn.n_pauses``…): the same definition then holds whatever produced the turns
(transcript, RTTM, VAD). A pause is a run of silent frames (``ProsodyConfig.silence_db`` below the
turn's 99th-percentile level) lasting at least ``min_pause`` = 0.25 s by default, strictly inside the
turn: silence at the turn's start or end is not a pause (the turn boundaries may be loose). Shorter gaps
(stop closures, brief hesitations) count as phonation.
"""

from __future__ import annotations

import numpy as np

NAN = float("nan")


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[(start, stop), ...] half-open index ranges of the True runs in ``mask`` (n,) bool."""
    if len(mask) == 0:
        return []
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def sounding_frames(db: np.ndarray, threshold: float, min_sounding_frames: int) -> np.ndarray:
    """(n,) bool: frames at or above ``threshold`` dB, after turning sounding islands shorter than
    ``min_sounding_frames`` that have silence on both sides into silence (clicks, breaths)."""
    sounding = db >= threshold
    for start, stop in runs(sounding):
        if stop - start < min_sounding_frames and start > 0 and stop < len(sounding):
            sounding[start:stop] = False
    return sounding


def pause_runs(sounding: np.ndarray, min_pause_frames: int) -> list[tuple[int, int]]:
    """Silent runs of at least ``min_pause_frames`` frames with sounding frames on both sides."""
    return [(a, b) for a, b in runs(~sounding) if b - a >= min_pause_frames and a > 0 and b < len(sounding)]


def syllable_nuclei(db: np.ndarray, sounding: np.ndarray, voiced: np.ndarray, min_dip_db: float) -> np.ndarray:
    """Indices of syllable nuclei in an intensity contour (n,) dB.

    Candidates are local intensity maxima on sounding frames. Walking left to right, a candidate becomes a
    new nucleus when the lowest level since the previous nucleus lies at least ``min_dip_db`` below both
    peaks; otherwise the two peaks are one nucleus, placed at the louder of them. Nuclei on unvoiced
    frames (``voiced`` (n,) bool) are dropped (fricative and noise bursts), as in de Jong & Wempe (2009).
    """
    n = len(db)
    if n < 3:
        return np.zeros(0, dtype=int)
    is_peak = np.zeros(n, dtype=bool)
    is_peak[1:-1] = (db[1:-1] > db[:-2]) & (db[1:-1] >= db[2:])
    candidates = np.flatnonzero(is_peak & sounding)
    kept: list[int] = []
    for idx in candidates.tolist():
        if not kept:
            kept.append(idx)
            continue
        prev = kept[-1]
        dip = float(db[prev : idx + 1].min())
        if db[prev] - dip >= min_dip_db and db[idx] - dip >= min_dip_db:
            kept.append(idx)
        elif db[idx] > db[prev]:
            kept[-1] = idx
    nuclei = np.asarray(kept, dtype=int)
    return nuclei[voiced[nuclei]] if len(nuclei) else nuclei


def timing_features(
    duration: float,
    n_frames: int,
    step: float,
    sounding: np.ndarray,
    pauses: list[tuple[int, int]],
    n_syllables: int | None,
) -> dict[str, float]:
    """Rates and pauses of one turn.

    ``duration``: turn length (s); ``step``: frame step (s); ``sounding``: (n_frames,) bool;
    ``pauses``: from ``pause_runs``; ``n_syllables``: nuclei count, None when it cannot be measured
    (an unvoiced turn). ``speech_rate_syl_per_s`` = nuclei / turn duration; ``articulation_rate_syl_per_s``
    = nuclei / phonation time, phonation time being the span from the first to the last sounding frame
    minus the pauses; ``pause_ratio`` = total pause time / turn duration.
    """
    out = dict.fromkeys(
        (
            "speech_rate_syl_per_s",
            "articulation_rate_syl_per_s",
            "n_pauses",
            "pause_total_s",
            "pause_longest_s",
            "pause_ratio",
        ),
        NAN,
    )
    if n_frames == 0 or not sounding.any():
        return out
    lengths = [(b - a) * step for a, b in pauses]
    total = float(sum(lengths))
    out.update(
        n_pauses=float(len(lengths)),
        pause_total_s=total,
        pause_longest_s=float(max(lengths)) if lengths else 0.0,
        pause_ratio=total / duration,
    )
    if n_syllables is not None:
        where = np.flatnonzero(sounding)
        phonation = (where[-1] - where[0] + 1) * step - total
        out["speech_rate_syl_per_s"] = n_syllables / duration
        out["articulation_rate_syl_per_s"] = n_syllables / phonation if phonation > 0 else NAN
    return out
