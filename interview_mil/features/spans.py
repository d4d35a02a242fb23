"""Turn features of a recording read span by span, so a long recording is never decoded whole.

Consecutive turns are grouped while their span (with the prosody padding on each side) stays within
``GROUP_SECONDS``; each group's span is read from disk (``load_audio`` seeks), its turns measured
(prosody with the span's offset) and embedded (the encoder chunks turns longer than its window), and the
span dropped before the next. Memory is bounded by one group (``GROUP_SECONDS`` of audio: 19 MB at 16 kHz
float32, its float64 copy in prosody 38 MB) and the encoder's batch, whatever the recording's length.
The rows equal those computed from the whole decoded recording (same samples; tested); the loud-speech
reference of ``intensity_mean_db`` (all turns pooled) is accumulated across groups by ``PooledLevel``.
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
    return math.floor(start * TARGET_SR) / TARGET_SR, audio  # load_audio starts at floor(start · 16 kHz)


def _waves(audio: np.ndarray, offset: float, turns: Sequence[Turn]) -> list[np.ndarray]:
    """Each turn's samples, indexed as in the whole recording (``featurize.turn_waves``)."""
    first = int(round(offset * TARGET_SR))
    return [
        audio[int(math.floor(t.start * TARGET_SR)) - first : min(int(math.ceil(t.end * TARGET_SR)) - first, audio.size)]
        for t in turns
    ]


class PooledLevel:
    """``loudness.speech_level_db`` of many pieces joined end to end with their pooled mean removed (what
    ``extract_prosody`` reads ``intensity_mean_db`` against: the participant's turns pooled), accumulated
    piece by piece from each 10 ms frame's sum and sum of squares, so the pieces are never held together."""

    def __init__(self, sample_rate: int = TARGET_SR):
        self.hop = max(int(round(0.01 * sample_rate)), 1)
        self.carry = np.zeros(0)
        self.sums: list[np.ndarray] = []
        self.squares: list[np.ndarray] = []
        self.total, self.count = 0.0, 0

    def add(self, piece: np.ndarray) -> None:
        piece = np.asarray(piece, dtype=np.float64)
        self.total, self.count = self.total + float(piece.sum()), self.count + piece.size
        x = np.concatenate([self.carry, piece])
        n = len(x) // self.hop
        frames = x[: n * self.hop].reshape(n, self.hop)
        self.sums.append(frames.sum(axis=1))
        self.squares.append(np.square(frames).sum(axis=1))
        self.carry = x[n * self.hop :]

    def level_db(self) -> float:
        sums, squares = np.concatenate(self.sums or [np.zeros(0)]), np.concatenate(self.squares or [np.zeros(0)])
        if not sums.size:
            return math.nan
        mean = self.total / self.count
        power = np.maximum(squares - 2 * mean * sums + self.hop * mean**2, 0.0) / self.hop
        return float(np.percentile(10 * np.log10(power / 4e-10 + 1e-30), 95))


def features_by_span(
    interview: Interview, turns: Sequence[Turn], config: FeatureConfig, encoder=None, prosody: bool = True
) -> tuple[pd.DataFrame | None, np.ndarray | None]:
    """``(prosody rows, embeddings)`` of ``turns`` (ordered, inside the recording), reading the recording
    one group of turns at a time. ``prosody`` False or ``config.prosody`` None skips prosody; ``encoder``
    None skips embeddings. Prosody rows carry ``turn_id`` like ``extract_prosody``."""
    from .prosody import extract_prosody

    padding = config.prosody.padding if config.prosody is not None else 0.0
    tables, embeddings, pooled = [], [], PooledLevel()
    for group in turn_groups(turns, padding):
        offset, audio = read_span(interview, group[0].start - padding, group[-1].end + padding)
        waves = _waves(audio, offset, group)
        if prosody and config.prosody is not None:
            table = extract_prosody(audio, TARGET_SR, group, config.prosody, offset=offset)
            mine = PooledLevel()  # the group's own reference, replaced below by all turns' pooled
            for wave in waves:
                mine.add(wave)
                pooled.add(wave)
            table["_group_level_db"] = mine.level_db()
            tables.append(table)
        if encoder is not None:
            embeddings.append(encoder.encode(waves))
        del audio, waves
    table = pd.concat(tables, ignore_index=True) if tables else None
    if table is not None:
        if "intensity_mean_db" in table:  # read against the participant's loud speech over all turns
            table["intensity_mean_db"] += table["_group_level_db"] - pooled.level_db()
        table = table.drop(columns=["_group_level_db"])
    return table, (np.concatenate(embeddings) if embeddings else None)
