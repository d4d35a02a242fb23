"""Who is speaking, from levels alone: the participant versus the interviewer's bleed or crosstalk.

Single channel (DAIC-WOZ style): the participant wears the microphone, so their speech is the loudest in
the recording and the interviewer (a loudspeaker across the room) arrives 20-30 dB lower. The recording's
main-speaker level is a high percentile of the level of all speech cells; a speech cell is the
participant's when the loudest cell within ``window`` seconds around it (a syllable-scale envelope, so
soft consonants inside a word are kept) reaches ``main level - margin_db``. The remaining speech is the
interviewer's. Two channels: a cell is the participant's when the participant's channel is at least
``crosstalk_db`` louder than the other over the same envelope, and the interviewer's when the reverse holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import maximum_filter1d

from .config import BleedConfig, ChannelConfig, VadConfig
from .regions import Region, drop_short, fill_gaps, mask_to_regions, to_cells
from .vad import SpeechActivity, speech_mask


@dataclass(frozen=True)
class SpeakerRegions:
    """Speech regions (start, end) s split by speaker; ``main_level_db``: the participant's reference
    level (dBFS) used for the split (None when no split was made)."""

    participant: tuple[Region, ...]
    interviewer: tuple[Region, ...]
    main_level_db: float | None = None


def _envelope(level_db: np.ndarray, window: float) -> np.ndarray:
    size = max(1, 2 * (to_cells(window) // 2) + 1)
    return maximum_filter1d(level_db, size=size, mode="nearest")


def _clean(
    mask: np.ndarray, vad: VadConfig, min_cells: int, duration: float, exclude: np.ndarray | None = None
) -> tuple[Region, ...]:
    """Bridge gaps shorter than ``vad.min_silence``, drop runs shorter than ``min_cells``, never
    covering ``exclude``."""
    filled = fill_gaps(mask, to_cells(vad.min_silence))
    if exclude is not None:
        filled &= ~exclude
    return tuple(mask_to_regions(drop_short(filled, min_cells), limit=duration))


def _mask_of(regions: tuple[Region, ...], size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    for a, b in regions:
        mask[to_cells(a) : to_cells(b)] = True
    return mask


def _short_quiet_edges(speech: np.ndarray, loud: np.ndarray, max_cells: int) -> np.ndarray:
    """Quiet speech runs shorter than ``max_cells`` that touch loud speech: the participant trailing off
    (or starting softly), too short to be an interviewer's phrase."""
    quiet = (speech & ~loud).astype(np.int8)
    edges = np.diff(np.concatenate([[0], quiet, [0]]))
    out = np.zeros_like(speech)
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        touches = (a > 0 and loud[a - 1]) or (b < len(loud) and loud[b])
        if b - a < max_cells and touches:
            out[a:b] = True
    return out


def split_by_level(activity: SpeechActivity, bleed: BleedConfig, vad: VadConfig) -> SpeakerRegions:
    """Split the speech of one channel into participant and interviewer regions by level.

    With ``bleed.enabled`` false every speech region is the participant's. Returns ordered,
    non-overlapping regions in seconds.
    """
    speech = speech_mask(activity)
    if not bleed.enabled or not speech.any():
        return SpeakerRegions(tuple(activity.regions), ())
    main = float(np.percentile(activity.level_db[speech], bleed.reference_percentile))
    loud = speech & (_envelope(activity.level_db, bleed.window) >= main - bleed.margin_db)
    loud |= _short_quiet_edges(speech, loud, to_cells(bleed.min_interviewer))
    participant = _clean(loud, vad, to_cells(vad.min_speech), activity.duration)
    p_mask = _mask_of(participant, len(speech))
    interviewer = _clean(speech & ~p_mask, vad, to_cells(bleed.min_interviewer), activity.duration, exclude=p_mask)
    return SpeakerRegions(participant, interviewer, main)


def split_by_channel(
    participant: SpeechActivity, other: SpeechActivity, channel: ChannelConfig, bleed: BleedConfig, vad: VadConfig
) -> SpeakerRegions:
    """Participant/interviewer regions from two channels of one recording (same length, same grid)."""
    size = min(participant.n_cells, other.n_cells)
    env_p = _envelope(participant.level_db[:size], bleed.window)
    env_o = _envelope(other.level_db[:size], bleed.window)
    speech_p, speech_o = speech_mask(participant)[:size], speech_mask(other)[:size]
    mine = speech_p & (env_p - env_o >= channel.crosstalk_db)
    theirs = speech_o & (env_o - env_p >= channel.crosstalk_db)
    duration = min(participant.duration, other.duration)
    p_regions = _clean(mine, vad, to_cells(vad.min_speech), duration)
    o_regions = _clean(theirs, vad, to_cells(bleed.min_interviewer), duration, exclude=_mask_of(p_regions, size))
    return SpeakerRegions(p_regions, o_regions, None)
