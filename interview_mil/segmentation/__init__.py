"""Segmentation stage: an interview recording (+ optional transcript, RTTM, STM or participant channel)
→ the participant's response turns as ``Turn`` records.

Entry points: ``segment_interview(interview, config) -> Segmentation`` (source chosen from the record),
``segment_manifest`` (a batch, failures recorded), the per-source functions ``turns_from_*``, and the
registries ``TURN_SOURCES`` (turn sources by name) and ``VADS`` (voice activity detectors by name).
Settings: ``SegmentationConfig`` (load from YAML with ``interview_mil.config.load_config``).

Which source keeps only the participant: DAIC-WOZ transcripts, STM and RTTM (by speaker), stereo (by
channel) and VAD-only (by level: the interviewer's bleed is far quieter than the participant). E-DAIC ASR
transcripts have no speaker column: interviewer speech the recogniser transcribed stays in those turns
and cannot be removed without a speaker source.
"""

from .asr import detect_transcript_format
from .config import (
    BleedConfig,
    ChannelConfig,
    RefineConfig,
    SegmentationConfig,
    TranscriptConfig,
    TurnConfig,
    VadConfig,
)
from .daic import DAIC_INTERRUPTIONS, DAIC_NO_INTERVIEWER, DAIC_SYNC_OFFSETS
from .record import Segmentation
from .segment import NoTurnsWarning, SegmentationReport, choose_source, segment_interview, segment_manifest
from .sources import (
    TURN_SOURCES,
    speech_activity,
    turns_from_asr_transcript,
    turns_from_daic_transcript,
    turns_from_rttm,
    turns_from_stm,
)
from .sources_audio import turns_from_channels, turns_from_vad
from .vad import VADS, SpeechActivity, detect_speech

__all__ = [
    "BleedConfig",
    "ChannelConfig",
    "RefineConfig",
    "SegmentationConfig",
    "TranscriptConfig",
    "TurnConfig",
    "VadConfig",
    "DAIC_INTERRUPTIONS",
    "DAIC_NO_INTERVIEWER",
    "DAIC_SYNC_OFFSETS",
    "NoTurnsWarning",
    "Segmentation",
    "SegmentationReport",
    "choose_source",
    "segment_interview",
    "segment_manifest",
    "TURN_SOURCES",
    "speech_activity",
    "turns_from_asr_transcript",
    "turns_from_channels",
    "turns_from_daic_transcript",
    "turns_from_rttm",
    "turns_from_stm",
    "turns_from_vad",
    "VADS",
    "SpeechActivity",
    "detect_speech",
    "detect_transcript_format",
]
