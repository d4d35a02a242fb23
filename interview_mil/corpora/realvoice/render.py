"""Lay out an ``InterviewPlan`` as one 16 kHz mono recording with its transcript lines and ground truth.

Timeline: a lead-in, then for each answer the interviewer's question (another LibriSpeech speaker, heard as
low-passed bleed ``bleed_db`` below the participant, as on DAIC-WOZ's close-talk microphone; unfiltered
with ``bleed_lowpass: false``), the participant's latency (own + the latency marker), the answer with its
markers planted, a short gap; a closing line by the interviewer and a tail. A low-passed noise floor at
``noise_dbfs`` goes under all of it, so no stretch is digital zero. Every speaker's phrases are scaled by
one gain per speaker, so its median phrase sits at ``speech_dbfs`` and its own phrase-to-phrase level
differences stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from ..synthetic.render import Timeline
from .markers import apply_markers, median_f0
from .phrases import SR, Phrase
from .plan import InterviewPlan, RealVoiceConfig

INTERVIEWER, PARTICIPANT = "Ellie", "Participant"  # the DAIC-WOZ speaker names the transcript loader knows
_BLEED_SOS = butter(4, 3400, btype="low", fs=SR, output="sos")


@dataclass(frozen=True)
class Line:
    """A transcript line: start and stop (s), DAIC speaker name, text (here the phrase id)."""

    start: float
    stop: float
    speaker: str
    value: str


@dataclass(frozen=True)
class TurnTruth:
    """Ground truth of one answer. ``marker_strength``: strength of a marker answer (0 otherwise);
    ``applied_strength``: what was planted (also the global shift); ``planted``: the marker names, joined
    by '+'; ``response_latency``: s from the question's end to the answer's start; ``n_pauses`` and
    ``pause_time`` (s): the pauses the ``pauses`` marker inserted."""

    turn_index: int
    start: float
    stop: float
    marker: int
    marker_strength: float
    applied_strength: float
    planted: str
    response_latency: float
    n_pauses: int
    pause_time: float
    phrase_id: str
    question_id: str


@dataclass
class RenderedInterview:
    """``audio``: (n,) float32 at 16 kHz; transcript ``lines``; one ``TurnTruth`` per answer."""

    audio: np.ndarray
    lines: list[Line]
    turns: list[TurnTruth]

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.audio) / SR


def rms_dbfs(samples: np.ndarray) -> float:
    """RMS level of ``samples`` in dBFS (floor -120)."""
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-6))


def speaker_gain_db(phrases: Sequence[Phrase], speech_dbfs: float) -> float:
    """Gain (dB) that puts the speaker's median phrase RMS at ``speech_dbfs``."""
    return float(speech_dbfs - np.median([rms_dbfs(p.samples) for p in phrases]))


def estimate_gender(phrases: Sequence[Phrase], limit: int = 4) -> str:
    """``"M"`` when the median F0 of the speaker's first ``limit`` phrases is under 165 Hz, else ``"F"``
    (an estimate: the shared LibriSpeech copy has no speaker list)."""
    joined = np.concatenate([p.samples for p in phrases[:limit]])
    f0 = median_f0(joined)
    return "M" if f0 is not None and f0 < 165.0 else "F"


def render_interview(
    plan: InterviewPlan, phrases: Mapping[str, Phrase], gains_db: Mapping[str, float], cfg: RealVoiceConfig
) -> RenderedInterview:
    """Render ``plan``; ``phrases``: every phrase by id; ``gains_db``: the level gain of each speaker."""
    rng = np.random.default_rng(plan.noise_seed)
    tl = Timeline()
    lines: list[Line] = []
    turns: list[TurnTruth] = []
    bleed = 10 ** ((gains_db[plan.interviewer] + plan.bleed_db) / 20)
    gain = 10 ** (gains_db[plan.speaker] / 20)

    def ask(question_id: str) -> float:
        samples = phrases[question_id].samples
        start, stop = tl.put((sosfilt(_BLEED_SOS, samples) if cfg.bleed_lowpass else samples) * bleed)
        lines.append(Line(start, stop, INTERVIEWER, question_id))
        return stop

    tl.skip(plan.lead_in_s)
    for k, answer in enumerate(plan.answers):
        asked = ask(answer.question_id)
        planted = dict.fromkeys(cfg.markers, answer.strength) if answer.strength > 0 else {}
        marked = apply_markers(
            phrases[answer.phrase_id].samples * gain, planted, answer.seed, resynthesize=cfg.resynthesize_all
        )
        tl.skip(answer.latency_s + marked.extra_latency_s)
        start, stop = tl.put(marked.samples)
        lines.append(Line(start, stop, PARTICIPANT, answer.phrase_id))
        turns.append(
            TurnTruth(
                turn_index=k,
                start=start,
                stop=stop,
                marker=int(answer.marker),
                marker_strength=answer.strength if answer.marker else 0.0,
                applied_strength=answer.strength,
                planted="+".join(planted),
                response_latency=start - asked,
                n_pauses=len(marked.pauses_s),
                pause_time=float(sum(length for _, length in marked.pauses_s)),
                phrase_id=answer.phrase_id,
                question_id=answer.question_id,
            )
        )
        tl.skip(answer.gap_after_s)
    ask(plan.closing_id)
    tl.skip(float(rng.uniform(0.8, 1.5)))
    return RenderedInterview(tl.mix(0.0, cfg.noise_dbfs, rng), lines, turns)
