"""The turn sources: one function per source, each returning ``Turn`` records, and ``TURN_SOURCES``, the
registry that selects them by name with the uniform signature ``(interview, config) -> Segmentation``
(turns, interviewer spans and the decoded audio, read once).

=============  ==========================================================================================
``daic_woz``   DAIC-WOZ transcript (``Interview.transcript_path``), with the corpus's defect rules
``e_daic``     E-DAIC ASR transcript (no speaker column): its lines given to the participant or the
               interviewer by diarization (``transcript.edaic_speakers``; off: interviewer speech stays)
``stm``        STM transcript, ``Interview.participant_speaker`` is the participant
``rttm``       RTTM diarisation (``Interview.rttm_path``), ``Interview.participant_speaker``
``diarize``    one channel, no transcript: voices told apart by a speaker encoder, the participant chosen
               from the recording (``segmentation.diarize``); the default for such recordings
``vad``        audio only: webrtcvad speech, interviewer bleed removed by level, turns split at pauses
``stereo``     two-channel audio, ``Interview.channel`` (or ``channel.participant``) holds the participant
=============  ==========================================================================================

Every source with audio is refined by VAD: turns are trimmed to the speech inside them and their pauses
measured; long turns are cut into pieces of at most ``turns.max_length`` seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..data.records import Interview, Turn
from ..errors import TranscriptError
from ..registry import Registry
from .asr import read_asr_lines
from .config import SegmentationConfig
from .daic import apply_daic_rules, read_daic_lines
from .diarize import diarize, label_lines, with_participant
from .quality_measures import remove_dc
from .record import Segmentation, Span
from .refine import make_turns, refine_spans
from .spans import Line, spans_from_lines
from .speakers import check_no_participant, recording_names, rttm_lines, stm_lines
from .vad import SpeechActivity, recording_activity
from .voices import mel_frames, voice_encoder

TurnSource = Callable[[Interview, SegmentationConfig], Segmentation]
TURN_SOURCES: Registry[TurnSource] = Registry("turn source")


def speech_activity(audio_path: str | Path, config: SegmentationConfig, channel: int | None = None) -> SpeechActivity:
    """Read ``audio_path`` (16 kHz; one ``channel`` or the mono mix, DC removed) and run the configured VAD
    (a long recording block by block: ``vad.recording_activity``)."""
    return recording_activity(str(audio_path), config.vad, channel, transform=remove_dc)[1]


def _decoded(
    interview: Interview, config: SegmentationConfig, channel: int | None = None
) -> tuple[np.ndarray | None, SpeechActivity]:
    """The recording decoded once (16 kHz, ``channel`` or the mix, DC offset removed) and its VAD; the audio
    is None for a recording longer than ``vad.KEEP_AUDIO_MAX_S``, analysed block by block instead."""
    return recording_activity(interview.audio_path, config.vad, channel, transform=remove_dc)


def fit_to_audio(lines: Sequence[Line], duration: float, tolerance: float, path: str | Path) -> list[Line]:
    """Clip lines to the recording; a line ending more than ``tolerance`` s after it is an error."""
    out = []
    for line in lines:
        if line.end > duration + tolerance:
            raise TranscriptError(
                f"line {line.lineno}: ends at {line.end:.3f} s but the recording is only {duration:.3f} s "
                "long (the transcript is longer than the audio)",
                path=path,
                fix="check that transcript and audio belong to the same session (and its sync offset)",
            )
        if line.start < duration:
            out.append(Line(line.start, min(line.end, duration), line.role, line.text, line.lineno))
    return out


def _segment_lines(
    lines: Sequence[Line],
    path: str | Path,
    interview_id: str,
    merge_gap: float,
    config: SegmentationConfig,
    activity: SpeechActivity | None,
    source: str,
) -> tuple[list[Turn], list[Span]]:
    """Participant turns and interviewer spans from the lines of a speaker source (clipped to the audio)."""
    if activity is not None:
        lines = fit_to_audio(lines, activity.duration, config.transcript.audio_tolerance, path)
    spans = spans_from_lines(lines, merge_gap)
    speech = None if activity is None else activity.regions
    if speech is not None and config.refine.enabled:
        spans = refine_spans(spans, speech, config.refine)
    turns = make_turns(interview_id, spans, speech, config.refine, config.turns.max_length, source)
    return turns, [(line.start, line.end) for line in lines if line.role == "interviewer"]


def _daic_lines(path: str | Path, interview_id: str, config: SegmentationConfig) -> list[Line]:
    return apply_daic_rules(read_daic_lines(path, config.transcript), path, interview_id, config.transcript)


def turns_from_daic_transcript(
    path: str | Path, interview_id: str, config: SegmentationConfig, activity: SpeechActivity | None = None
) -> list[Turn]:
    """Participant response turns from a DAIC-WOZ transcript (defect rules in ``daic``).

    ``activity``: VAD of the recording (refines the turns and checks the transcript fits the audio);
    None builds the turns from the transcript alone.
    """
    return _segment_lines(
        _daic_lines(path, interview_id, config),
        path,
        interview_id,
        config.transcript.merge_gap,
        config,
        activity,
        "daic_woz",
    )[0]


def turns_from_asr_transcript(
    path: str | Path, interview_id: str, config: SegmentationConfig, activity: SpeechActivity | None = None
) -> list[Turn]:
    """Turns from an E-DAIC ASR transcript: its segments (merged across gaps shorter than
    ``transcript.asr_merge_gap``), refined by VAD. Interviewer speech is NOT removed (no speaker column)."""
    lines = read_asr_lines(path, config.transcript.min_confidence)
    return _segment_lines(lines, path, interview_id, config.transcript.asr_merge_gap, config, activity, "e_daic")[0]


def turns_from_rttm(
    path: str | Path,
    participant: str | None,
    interview_id: str,
    config: SegmentationConfig,
    activity: SpeechActivity | None = None,
) -> list[Turn]:
    """Turns of speaker ``participant`` in an RTTM file; every other speaker counts as the interviewer."""
    return _segment_lines(
        rttm_lines(path, participant, [interview_id]),
        path,
        interview_id,
        config.transcript.merge_gap,
        config,
        activity,
        "rttm",
    )[0]


def turns_from_stm(
    path: str | Path,
    participant: str | None,
    interview_id: str,
    config: SegmentationConfig,
    activity: SpeechActivity | None = None,
) -> list[Turn]:
    """Turns of speaker ``participant`` in an STM file, with their words as text."""
    return _segment_lines(
        stm_lines(path, participant, [interview_id]),
        path,
        interview_id,
        config.transcript.merge_gap,
        config,
        activity,
        "stm",
    )[0]


def _needs(value: str | None, what: str, interview: Interview, fix: str) -> str:
    if not value:
        raise TranscriptError(f"interview {interview.interview_id!r} has no {what}", path=interview.audio_path, fix=fix)
    return value


def _from_lines(
    interview: Interview,
    config: SegmentationConfig,
    source: str,
    path: str,
    read_lines: Callable[[], list[Line]],
    merge_gap: float,
    by_voice: bool = False,
) -> Segmentation:
    """Decode the recording, then turn the lines of its speaker source into the ``Segmentation``;
    ``by_voice``: the lines name no speaker, so diarization gives each its role (``diarize.label_lines``)."""
    lines = read_lines()
    if not lines:  # a header and nothing else: the transcript is empty, whatever the audio holds
        raise TranscriptError(
            "the transcript holds no lines (a header only?)",
            path=path,
            fix="give the transcript with its lines, or score without --transcript (turns from the audio alone)",
        )
    audio, activity = _decoded(interview, config, interview.channel)
    found = None
    if by_voice:
        mel = mel_frames(audio, interview.audio_path, interview.channel)
        found = diarize(activity, mel, config.diarize, voice_encoder())
        found = with_participant(found, interview.participant_speaker, interview.audio_path)
        lines = label_lines(lines, found)
    turns, interviewer = _segment_lines(lines, path, interview.interview_id, merge_gap, config, activity, source)
    return Segmentation(interview, source, turns, interviewer, audio, diarization=found)


@TURN_SOURCES.register("daic_woz")
def _daic_woz(interview: Interview, config: SegmentationConfig) -> Segmentation:
    path = _needs(interview.transcript_path, "transcript", interview, "set transcript_path in the manifest")
    check_no_participant(interview, config, path, "daic_woz")
    lines = lambda: _daic_lines(path, interview.interview_id, config)  # noqa: E731
    return _from_lines(interview, config, "daic_woz", path, lines, config.transcript.merge_gap)


@TURN_SOURCES.register("e_daic")
def _e_daic(interview: Interview, config: SegmentationConfig) -> Segmentation:
    path = _needs(interview.transcript_path, "transcript", interview, "set transcript_path in the manifest")
    by_voice = config.transcript.edaic_speakers
    if not by_voice:
        check_no_participant(interview, config, path, "e_daic")
    lines = lambda: read_asr_lines(path, config.transcript.min_confidence)  # noqa: E731
    # an ASR transcript names no speaker: its lines are all "participant", so no interviewer spans
    return _from_lines(interview, config, "e_daic", path, lines, config.transcript.asr_merge_gap, by_voice)


@TURN_SOURCES.register("stm")
def _stm(interview: Interview, config: SegmentationConfig) -> Segmentation:
    path = _needs(interview.transcript_path, "STM transcript", interview, "set transcript_path to the STM file")
    lines = lambda: stm_lines(path, interview.participant_speaker, *recording_names(interview))  # noqa: E731
    return _from_lines(interview, config, "stm", path, lines, config.transcript.merge_gap)


@TURN_SOURCES.register("rttm")
def _rttm(interview: Interview, config: SegmentationConfig) -> Segmentation:
    path = _needs(interview.rttm_path, "RTTM file", interview, "set rttm_path in the manifest")
    lines = lambda: rttm_lines(path, interview.participant_speaker, *recording_names(interview))  # noqa: E731
    return _from_lines(interview, config, "rttm", path, lines, config.transcript.merge_gap)
