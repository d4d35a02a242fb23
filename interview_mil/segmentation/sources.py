"""The turn sources: one function per source, each returning ``Turn`` records, and ``TURN_SOURCES``, the
registry that selects them by name with the uniform signature ``(interview, config) -> list[Turn]``.

=============  ==========================================================================================
``daic_woz``   DAIC-WOZ transcript (``Interview.transcript_path``), with the corpus's defect rules
``e_daic``     E-DAIC ASR transcript; **keeps interviewer speech the recogniser transcribed** (no speakers)
``stm``        STM transcript, ``Interview.participant_speaker`` is the participant
``rttm``       RTTM diarisation (``Interview.rttm_path``), ``Interview.participant_speaker``
``vad``        audio only: webrtcvad speech, interviewer bleed removed by level, turns split at pauses
``stereo``     two-channel audio, ``Interview.channel`` (or ``channel.participant``) holds the participant
=============  ==========================================================================================

Every source with audio is refined by VAD: turns are trimmed to the speech inside them and their pauses
measured; long turns are cut into pieces of at most ``turns.max_length`` seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from ..data.audio import TARGET_SR, audio_info, load_audio
from ..data.records import Interview, Turn
from ..errors import AudioError, TranscriptError
from ..registry import Registry
from .asr import read_asr_lines
from .bleed import split_by_channel, split_by_level
from .config import SegmentationConfig
from .daic import apply_daic_rules, read_daic_lines
from .refine import make_turns, refine_spans
from .speakers import rttm_lines, stm_lines
from .spans import Line, spans_from_lines, spans_from_regions
from .vad import SpeechActivity, detect_speech

TurnSource = Callable[[Interview, SegmentationConfig], list[Turn]]
TURN_SOURCES: Registry[TurnSource] = Registry("turn source")


def speech_activity(audio_path: str | Path, config: SegmentationConfig,
                    channel: int | None = None) -> SpeechActivity:
    """Load ``audio_path`` (16 kHz; one ``channel`` or the mono mix) and run the configured VAD."""
    return detect_speech(load_audio(audio_path, channel=channel), TARGET_SR, config.vad)


def fit_to_audio(lines: Sequence[Line], duration: float, tolerance: float, path: str | Path) -> list[Line]:
    """Clip lines to the recording; a line ending more than ``tolerance`` s after it is an error."""
    out = []
    for line in lines:
        if line.end > duration + tolerance:
            raise TranscriptError(
                f"line {line.lineno}: ends at {line.end:.3f} s but the recording is only {duration:.3f} s "
                "long (the transcript is longer than the audio)", path=path,
                fix="check that transcript and audio belong to the same session (and its sync offset)")
        if line.start < duration:
            out.append(Line(line.start, min(line.end, duration), line.role, line.text, line.lineno))
    return out


def _turns_from_lines(lines: Sequence[Line], path: str | Path, interview_id: str, merge_gap: float,
                      config: SegmentationConfig, activity: SpeechActivity | None, source: str) -> list[Turn]:
    if activity is not None:
        lines = fit_to_audio(lines, activity.duration, config.transcript.audio_tolerance, path)
    spans = spans_from_lines(lines, merge_gap)
    speech = None if activity is None else activity.regions
    if speech is not None and config.refine.enabled:
        spans = refine_spans(spans, speech, config.refine)
    return make_turns(interview_id, spans, speech, config.refine, config.turns.max_length, source)


def turns_from_daic_transcript(path: str | Path, interview_id: str, config: SegmentationConfig,
                               activity: SpeechActivity | None = None) -> list[Turn]:
    """Participant response turns from a DAIC-WOZ transcript (defect rules in ``daic``).

    ``activity``: VAD of the recording (refines the turns and checks the transcript fits the audio);
    None builds the turns from the transcript alone.
    """
    lines = apply_daic_rules(read_daic_lines(path, config.transcript), path, interview_id, config.transcript)
    return _turns_from_lines(lines, path, interview_id, config.transcript.merge_gap, config, activity,
                             "daic_woz")


def turns_from_asr_transcript(path: str | Path, interview_id: str, config: SegmentationConfig,
                              activity: SpeechActivity | None = None) -> list[Turn]:
    """Turns from an E-DAIC ASR transcript: its segments (merged across gaps shorter than
    ``transcript.asr_merge_gap``), refined by VAD. Interviewer speech is NOT removed (no speaker column)."""
    lines = read_asr_lines(path, config.transcript.min_confidence)
    return _turns_from_lines(lines, path, interview_id, config.transcript.asr_merge_gap, config, activity,
                             "e_daic")


def turns_from_rttm(path: str | Path, participant: str | None, interview_id: str,
                    config: SegmentationConfig, activity: SpeechActivity | None = None) -> list[Turn]:
    """Turns of speaker ``participant`` in an RTTM file; every other speaker counts as the interviewer."""
    return _turns_from_lines(rttm_lines(path, participant), path, interview_id,
                             config.transcript.merge_gap, config, activity, "rttm")


def turns_from_stm(path: str | Path, participant: str | None, interview_id: str,
                   config: SegmentationConfig, activity: SpeechActivity | None = None) -> list[Turn]:
    """Turns of speaker ``participant`` in an STM file, with their words as text."""
    return _turns_from_lines(stm_lines(path, participant), path, interview_id,
                             config.transcript.merge_gap, config, activity, "stm")


def turns_from_vad(activity: SpeechActivity, interview_id: str, config: SegmentationConfig) -> list[Turn]:
    """Audio-only turns: participant speech (bleed removed by level when ``bleed.enabled``) grouped
    into turns that end at interviewer speech or at pauses longer than ``turns.split_pause``."""
    speakers = split_by_level(activity, config.bleed, config.vad)
    spans = spans_from_regions(speakers.participant, speakers.interviewer, config.turns.split_pause,
                               config.turns.min_turn)
    return make_turns(interview_id, spans, speakers.participant, config.refine, config.turns.max_length, "vad")


def turns_from_channels(participant: SpeechActivity, other: SpeechActivity, interview_id: str,
                        config: SegmentationConfig) -> list[Turn]:
    """Turns from a two-channel recording: participant speech is where the participant's channel is the
    louder by ``channel.crosstalk_db``; the other channel's speech ends turns and gives the latency."""
    speakers = split_by_channel(participant, other, config.channel, config.bleed, config.vad)
    spans = spans_from_regions(speakers.participant, speakers.interviewer, config.turns.split_pause,
                               config.turns.min_turn)
    return make_turns(interview_id, spans, speakers.participant, config.refine, config.turns.max_length,
                      "stereo")


def _needs(value: str | None, what: str, interview: Interview, fix: str) -> str:
    if not value:
        raise TranscriptError(f"interview {interview.interview_id!r} has no {what}", path=interview.audio_path,
                              fix=fix)
    return value


@TURN_SOURCES.register("daic_woz")
def _daic_woz(interview: Interview, config: SegmentationConfig) -> list[Turn]:
    path = _needs(interview.transcript_path, "transcript", interview, "set transcript_path in the manifest")
    activity = speech_activity(interview.audio_path, config, interview.channel)
    return turns_from_daic_transcript(path, interview.interview_id, config, activity)


@TURN_SOURCES.register("e_daic")
def _e_daic(interview: Interview, config: SegmentationConfig) -> list[Turn]:
    path = _needs(interview.transcript_path, "transcript", interview, "set transcript_path in the manifest")
    activity = speech_activity(interview.audio_path, config, interview.channel)
    return turns_from_asr_transcript(path, interview.interview_id, config, activity)


@TURN_SOURCES.register("stm")
def _stm(interview: Interview, config: SegmentationConfig) -> list[Turn]:
    path = _needs(interview.transcript_path, "STM transcript", interview, "set transcript_path to the STM file")
    activity = speech_activity(interview.audio_path, config, interview.channel)
    return turns_from_stm(path, interview.participant_speaker, interview.interview_id, config, activity)


@TURN_SOURCES.register("rttm")
def _rttm(interview: Interview, config: SegmentationConfig) -> list[Turn]:
    path = _needs(interview.rttm_path, "RTTM file", interview, "set rttm_path in the manifest")
    activity = speech_activity(interview.audio_path, config, interview.channel)
    return turns_from_rttm(path, interview.participant_speaker, interview.interview_id, config, activity)


@TURN_SOURCES.register("vad")
def _vad(interview: Interview, config: SegmentationConfig) -> list[Turn]:
    activity = speech_activity(interview.audio_path, config, interview.channel)
    return turns_from_vad(activity, interview.interview_id, config)


@TURN_SOURCES.register("stereo")
def _stereo(interview: Interview, config: SegmentationConfig) -> list[Turn]:
    info = audio_info(interview.audio_path)
    channel = interview.channel if interview.channel is not None else config.channel.participant
    if info.channels != 2 or channel is None:
        raise AudioError(
            f"the stereo source needs a two-channel recording and the participant's channel; this file has "
            f"{info.channels} channel(s) and the channel is {channel}", path=interview.audio_path,
            fix="set channel (0 or 1) in the manifest or channel.participant in the config; use the vad "
                "source for mono recordings")
    if channel not in (0, 1):
        raise AudioError(f"channel {channel} does not exist in a two-channel file", path=interview.audio_path,
                         fix="use channel 0 or 1")
    mine = speech_activity(interview.audio_path, config, channel)
    other = speech_activity(interview.audio_path, config, 1 - channel)
    return turns_from_channels(mine, other, interview.interview_id, config)
