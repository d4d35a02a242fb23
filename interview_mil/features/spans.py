"""Turn features of a recording read span by span, so a long recording is never decoded whole.

Consecutive turns are grouped while their span (with the prosody padding on each side) stays within
``GROUP_SECONDS``; each group's span is read from disk (``load_audio`` seeks), its turns measured
(prosody with the span's offset) and embedded (the encoder chunks turns longer than its window), and the
span dropped before the next. Memory is bounded by one group (``GROUP_SECONDS`` of audio: 19 MB at 16 kHz
float32, its float64 copy in prosody 38 MB) and the encoder's batch, whatever the recording's length.
The rows equal those computed from the whole decoded recording (same samples; tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..data.audio import TARGET_SR, audio_info, load_audio
from ..data.records import Interview, Turn
from .config import FeatureConfig

GROUP_SECONDS = 300.0


def turn_groups(turns: Sequence[Turn], padding: float, max_span: float = GROUP_SECONDS) -> list[list[Turn]]:
    """Consecutive ``turns`` grouped while a group's span, ``padding`` s added on each side, stays within
    ``max_span`` seconds (a longer single turn is a group of its own)."""
    groups: list[list[Turn]] = []
    for turn in turns:
        if groups and turn.end + padding - (groups[-1][0].start - padding) <= max_span:
            groups[-1].append(turn)
        else:
            groups.append([turn])
    return groups


def read_span(interview: Interview, start: float, end: float) -> tuple[float, np.ndarray]:
    """``(offset, audio)``: 16 kHz float32 mono (``interview.channel`` or the mix) of [start, end) s clipped
    to the recording; ``offset`` (s) is the time of the first sample returned."""
    info = audio_info(interview.audio_path)
    start = max(0.0, start)
    end = min(end, info.duration)
    audio = load_audio(interview.audio_path, start, end, channel=interview.channel)
    return math.floor(start * info.sample_rate) / info.sample_rate, audio


def _waves(audio: np.ndarray, offset: float, turns: Sequence[Turn]) -> list[np.ndarray]:
    """Each turn's samples, indexed as in the whole recording (``featurize.turn_waves``)."""
    first = int(round(offset * TARGET_SR))
    return [
        audio[int(math.floor(t.start * TARGET_SR)) - first : min(int(math.ceil(t.end * TARGET_SR)) - first, audio.size)]
        for t in turns
    ]


def features_by_span(
    interview: Interview, turns: Sequence[Turn], config: FeatureConfig, encoder=None, prosody: bool = True
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """``(prosody rows, embeddings)`` of ``turns`` (ordered, inside the recording), reading the recording
    one group of turns at a time. ``prosody`` False or ``config.prosody`` None skips prosody; ``encoder``
    None skips embeddings. Prosody rows carry ``turn_id`` like ``extract_prosody``."""
    from .prosody import extract_prosody

    padding = config.prosody.padding if config.prosody is not None else 0.0
    tables, embeddings = [], []
    for group in turn_groups(turns, padding):
        offset, audio = read_span(interview, group[0].start - padding, group[-1].end + padding)
        if prosody and config.prosody is not None:
            tables.append(extract_prosody(audio, TARGET_SR, group, config.prosody, offset=offset))
        if encoder is not None:
            embeddings.append(encoder.encode(_waves(audio, offset, group)))
        del audio
    table = pd.concat(tables, ignore_index=True) if tables else None
    return table, (np.concatenate(embeddings) if embeddings else None)
