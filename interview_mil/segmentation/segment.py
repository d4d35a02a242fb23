"""``segment_interview``: one Interview record → its ``Segmentation`` (participant response turns,
interviewer spans, the source used, optionally the decoded audio), with the turn source chosen from what
the record carries (or named explicitly); ``segment_manifest`` does a whole manifest, recording failures
and finishing the rest.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..data.audio import audio_info
from ..data.records import Interview, Turn, turn_problems
from ..errors import RECORDING_ERRORS, InterviewMilError, ManifestError
from .asr import detect_transcript_format
from .config import SegmentationConfig
from .record import Segmentation
from .sources import TURN_SOURCES
from .sources_audio import segment_regions  # noqa: F401 - registers vad, stereo, diarize

log = logging.getLogger(__name__)


class NoTurnsWarning(UserWarning):
    """Segmentation found no participant turn in a recording (silence, or no participant lines)."""


def choose_source(interview: Interview, config: SegmentationConfig, source: str | None = None) -> tuple[str, Interview]:
    """The turn source for ``interview`` and the record to pass it.

    An explicit ``source`` (or ``config.source`` other than ``auto``) wins. Otherwise: an RTTM file →
    ``rttm``; a transcript → its detected format (``daic_woz``, ``e_daic``, ``stm``, ``rttm``); a chosen
    channel of a two-channel file → ``stereo``; else ``diarize`` (voices told apart, participant chosen).
    """
    name = source or config.source
    if name != "auto":
        TURN_SOURCES.get(name)  # unknown names raise here, listing the known ones
        return name, interview
    if interview.rttm_path:
        return "rttm", interview
    if interview.transcript_path:
        fmt = detect_transcript_format(interview.transcript_path)
        if fmt == "rttm":
            return "rttm", dataclasses.replace(interview, rttm_path=interview.transcript_path)
        return fmt, interview
    if interview.channel is not None and audio_info(interview.audio_path).channels == 2:
        return "stereo", interview
    return "diarize", interview


def segment_interview(
    interview: Interview, config: SegmentationConfig | None = None, source: str | None = None, keep_audio: bool = False
) -> Segmentation:
    """The ``Segmentation`` of ``interview``: its participant response turns (ordered, non-overlapping,
    inside the recording), the interviewer's spans and the source used; ``keep_audio`` keeps the decoded
    16 kHz audio in the record for the feature stage (the recording is then decoded once in all).

    Raises an ``InputError`` subclass naming the file on bad input. A recording without participant
    speech gives no turns and a ``NoTurnsWarning``.
    """
    config = config or SegmentationConfig()
    name, record = choose_source(interview, config, source)
    result = TURN_SOURCES.get(name)(record, config)
    result.interview = interview
    turns = result.turns
    problems = turn_problems(interview, turns)
    if problems:  # a bug, not bad input: every source clips its turns to the recording
        raise ManifestError(
            f"interview {interview.interview_id!r}: the {name!r} source produced invalid "
            f"turns: {'; '.join(problems[:5])}",
            path=interview.audio_path,
        )
    if not turns:
        warnings.warn(
            f"{interview.audio_path}: no participant turns found by the {name!r} source (silent "
            "recording, or no participant lines: check the participant speaker/channel)",
            NoTurnsWarning,
            stacklevel=2,  # the caller's line, for Python users; the command line prints the message only
        )
    log.debug("%s: %d turns from %s", interview.interview_id, len(turns), name)
    return result if keep_audio else result.without_audio()


@dataclass
class SegmentationReport:
    """Outcome of a batch: every turn, the interviews that failed (id → message), those with no turns, the
    source used and the interviewer's spans per interview."""

    turns: list[Turn] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    empty: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    interviewer: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def segment_manifest(
    interviews: Sequence[Interview],
    config: SegmentationConfig | None = None,
    source: str | None = None,
    progress: bool = True,
) -> SegmentationReport:
    """Segment every interview; a failing one is recorded in ``failures`` and the rest go on."""
    from tqdm.auto import tqdm

    config = config or SegmentationConfig()
    report = SegmentationReport()
    for interview in tqdm(interviews, desc="segmenting", unit="interview", disable=not progress):
        result: Segmentation | None = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NoTurnsWarning)
                result = segment_interview(interview, config, source)
        except RECORDING_ERRORS as exc:  # this interview's failure is recorded; the batch goes on (a bug stops it)
            kind = "" if isinstance(exc, InterviewMilError) else f"{type(exc).__name__}: "
            report.failures[interview.interview_id] = f"{kind}{exc}"
            log.debug("segmentation of %s failed", interview.interview_id, exc_info=True)
        else:
            report.sources[interview.interview_id] = result.source
            report.interviewer[interview.interview_id] = result.interviewer
            report.turns.extend(result.turns)
            if not result.turns:
                report.empty.append(interview.interview_id)
    return report
