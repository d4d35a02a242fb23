"""``Segmentation``: one recording after the segmentation stage, the record later stages read.

It carries the participant's turns, the interviewer's speech spans (for the report's timeline, never as
evidence), the turn source that was used and, when the caller asked to keep it, the decoded audio the
turns refer to, so no later stage re-reads a transcript or decodes the recording again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..data.audio import TARGET_SR, audio_info
from ..data.records import Interview, Turn
from .diarize import Diarization

Span = tuple[float, float]


@dataclass
class Segmentation:
    """``turns``: ordered participant turns; ``interviewer``: (start, end) s of interviewer speech as the
    source sees it (transcript lines after the corpus's defect rules, or interviewer regions found by
    level/channel; empty when the source names no interviewer); ``source``: the turn source's name;
    ``audio``: float32 mono samples at ``sample_rate`` Hz (the participant's channel or the mix) or None:
    not asked for, or a recording longer than ``vad.KEEP_AUDIO_MAX_S`` (analysed block by block; later
    stages read the turns' spans from the file); ``diarization``: who spoke when (``diarize`` source only)."""

    interview: Interview
    source: str
    turns: list[Turn]
    interviewer: list[Span] = field(default_factory=list)
    audio: np.ndarray | None = None
    sample_rate: int = TARGET_SR
    diarization: Diarization | None = None

    @property
    def interview_id(self) -> str:
        return self.interview.interview_id

    @property
    def duration(self) -> float:
        """Recording length in seconds (from the decoded audio when kept, else the record or the header)."""
        if self.audio is not None:
            return self.audio.size / self.sample_rate
        if self.interview.duration is not None:
            return self.interview.duration
        return audio_info(self.interview.audio_path).duration

    def without_audio(self) -> Segmentation:
        return replace(self, audio=None)
