"""The audio-only turn sources: ``vad`` (one channel, the interviewer's bleed removed by level), ``stereo``
(the participant's channel of a two-channel file) and ``diarize`` (one channel, voices told apart by a
speaker encoder, ``segmentation.diarize``). Each turns speaker regions into ``Turn`` records the same way
(``segment_regions``): a turn ends at the other speaker's speech or at a pause over ``turns.split_pause``.
"""

from __future__ import annotations

import functools

from ..data.audio import audio_info
from ..data.records import Interview, Turn
from ..errors import AudioError
from .bleed import SpeakerRegions, split_by_channel, split_by_level
from .config import AsrConfig, SegmentationConfig
from .diarize import diarize, with_participant
from .record import Segmentation, Span
from .refine import make_turns
from .sources import TURN_SOURCES, _decoded, speech_activity
from .spans import spans_from_regions
from .transcribe import Recogniser, asr_available, attach_text, with_questions
from .vad import SpeechActivity
from .voices import mel_frames, voice_encoder


def segment_regions(
    speakers: SpeakerRegions, interview_id: str, config: SegmentationConfig, source: str
) -> tuple[list[Turn], list[Span]]:
    spans = spans_from_regions(
        speakers.participant, speakers.interviewer, config.turns.split_pause, config.turns.min_turn
    )
    turns = make_turns(interview_id, spans, speakers.participant, config.refine, config.turns.max_length, source)
    return turns, [(float(a), float(b)) for a, b in speakers.interviewer]


def turns_from_vad(activity: SpeechActivity, interview_id: str, config: SegmentationConfig) -> list[Turn]:
    """Audio-only turns: participant speech (bleed removed by level when ``bleed.enabled``) grouped
    into turns that end at interviewer speech or at pauses longer than ``turns.split_pause``."""
    return segment_regions(split_by_level(activity, config.bleed, config.vad), interview_id, config, "vad")[0]


def turns_from_channels(
    participant: SpeechActivity, other: SpeechActivity, interview_id: str, config: SegmentationConfig
) -> list[Turn]:
    """Turns from a two-channel recording: participant speech is where the participant's channel is the
    louder by ``channel.crosstalk_db``; the other channel's speech ends turns and gives the latency."""
    speakers = split_by_channel(participant, other, config.channel, config.bleed, config.vad)
    return segment_regions(speakers, interview_id, config, "stereo")[0]


@TURN_SOURCES.register("vad")
def _vad(interview: Interview, config: SegmentationConfig) -> Segmentation:
    audio, activity = _decoded(interview, config, interview.channel)
    speakers = split_by_level(activity, config.bleed, config.vad)
    turns, interviewer = segment_regions(speakers, interview.interview_id, config, "vad")
    # who spoke when, beside the level split: not used for the turns, only to say how much of them
    # another voice fills (``voice_notes``: a quality note, a refer when it is large)
    mel = mel_frames(audio, interview.audio_path, interview.channel)
    check = diarize(activity, mel, config.diarize, voice_encoder())
    return Segmentation(interview, "vad", turns, interviewer, audio, diarization=check)


@TURN_SOURCES.register("stereo")
def _stereo(interview: Interview, config: SegmentationConfig) -> Segmentation:
    info = audio_info(interview.audio_path)
    channel = interview.channel if interview.channel is not None else config.channel.participant
    if info.channels != 2 or channel is None:
        raise AudioError(
            f"the stereo source needs a two-channel recording and the participant's channel; this file has "
            f"{info.channels} channel(s) and the channel is {channel}",
            path=interview.audio_path,
            fix="give the participant's channel (0 or 1): --channel with score/segment, channel in a manifest, "
            "or channel.participant in the config; use the vad source for mono recordings",
        )
    if channel not in (0, 1):
        raise AudioError(
            f"channel {channel} does not exist in a two-channel file",
            path=interview.audio_path,
            fix="use channel 0 or 1",
        )
    audio, mine = _decoded(interview, config, channel)
    other = speech_activity(interview.audio_path, config, 1 - channel)
    speakers = split_by_channel(mine, other, config.channel, config.bleed, config.vad)
    turns, interviewer = segment_regions(speakers, interview.interview_id, config, "stereo")
    return Segmentation(interview, "stereo", turns, interviewer, audio)


@functools.lru_cache(maxsize=2)
def recogniser(config: AsrConfig) -> Recogniser:
    """The speech recogniser for ``config``, loaded once per process."""
    return Recogniser(config)


@TURN_SOURCES.register("diarize")
def _diarize(interview: Interview, config: SegmentationConfig) -> Segmentation:
    audio, activity = _decoded(interview, config, interview.channel)
    mel = mel_frames(audio, interview.audio_path, interview.channel)
    found = diarize(activity, mel, config.diarize, voice_encoder())
    asr, words = config.asr, None
    if asr.enabled or (asr.enabled is None and asr_available(asr)):
        words = recogniser(asr).words(activity.regions, audio, interview.audio_path, interview.channel)
        found = with_questions(found, words)  # the interviewer asks: a cue for who is who
    found = with_participant(found, interview.participant_speaker, interview.audio_path)
    turns, interviewer = segment_regions(found.speaker_regions(), interview.interview_id, config, "diarize")
    if words is not None:
        turns = attach_text(turns, interviewer, words)
    return Segmentation(interview, "diarize", turns, interviewer, audio, diarization=found)
