"""Turn an ``InterviewPlan`` into audio, transcript lines and ground truth, sample-exact at 16 kHz."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from ...data.audio import TARGET_SR
from .plan import InterviewPlan
from .script import CLOSING, OPENING
from .voices import SpeechBank, quietest_split_point

SR = TARGET_SR


@dataclass(frozen=True)
class Line:
    """A transcript line: seconds, DAIC speaker name, lower-case text."""

    start: float
    stop: float
    speaker: str
    value: str


@dataclass(frozen=True)
class Segment:
    """A contiguous stretch of synthesised speech (``turn_index`` -1 for the interviewer)."""

    speaker: str
    start: float
    stop: float
    turn_index: int


@dataclass(frozen=True)
class TurnTruth:
    turn_index: int
    start: float
    stop: float
    marker: int
    response_latency: float
    n_pauses: int
    pause_time: float
    text: str


@dataclass
class RenderedInterview:
    audio: np.ndarray  # (n,) float32 at 16 kHz
    lines: list[Line]
    segments: list[Segment]
    turns: list[TurnTruth]


def transcript_text(text: str) -> str:
    """DAIC-style transcript text: lower case, no punctuation but apostrophes."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]", " ", text.lower())).strip()


_BLEED_SOS = butter(4, 3400, btype="low", fs=SR, output="sos")


class _Timeline:
    """Places clips at sample positions and remembers what went where."""

    def __init__(self) -> None:
        self.clips: list[tuple[int, np.ndarray]] = []
        self.pos = 0

    def skip(self, seconds: float) -> None:
        self.pos += int(round(seconds * SR))

    def put(self, clip: np.ndarray) -> tuple[float, float]:
        start = self.pos
        self.clips.append((start, clip))
        self.pos += len(clip)
        return start / SR, self.pos / SR

    def mix(self, tail_s: float, noise_dbfs: float, rng: np.random.Generator) -> np.ndarray:
        total = self.pos + int(round(tail_s * SR))
        out = np.zeros(total, dtype=np.float64)
        for start, clip in self.clips:
            out[start : start + len(clip)] += clip
        noise = sosfilt(butter(1, 1500, btype="low", fs=SR, output="sos"), rng.standard_normal(total))
        noise *= 10 ** (noise_dbfs / 20) / (np.std(noise) + 1e-12)
        out += noise
        peak = np.abs(out).max()
        if peak > 0.98:
            out *= 0.98 / peak
        return out.astype(np.float32)


def render_interview(plan: InterviewPlan, bank: SpeechBank, noise_dbfs: float) -> RenderedInterview:
    """Render ``plan`` with speech from ``bank``; interviewer speech goes in as low-passed bleed."""
    rng = np.random.default_rng([int(plan.interview_id), 31337])
    tl = _Timeline()
    lines: list[Line] = []
    segments: list[Segment] = []
    turns: list[TurnTruth] = []
    bleed_gain = 10 ** (plan.bleed_db / 20)

    def interviewer(text: str) -> float:
        clip = sosfilt(_BLEED_SOS, bank.render(text, plan.interviewer)).astype(np.float32) * bleed_gain
        start, stop = tl.put(clip)
        lines.append(Line(start, stop, "Ellie", transcript_text(text)))
        segments.append(Segment("Ellie", start, stop, -1))
        return stop

    tl.skip(float(rng.uniform(0.8, 1.5)))
    interviewer(OPENING)
    tl.skip(float(rng.uniform(0.6, 1.0)))
    for k, answer in enumerate(plan.answers):
        q_stop = interviewer(answer.question)
        tl.skip(answer.latency_s)
        turn_start = None
        n_pauses, pause_time = len(answer.pauses_s), float(sum(answer.pauses_s))
        for j, sentence in enumerate(answer.sentences):
            clip = bank.render(sentence, answer.voice)
            mid = answer.mid_pauses_s[j]
            if mid > 0:
                cut = quietest_split_point(clip, SR)
                a0, a1 = tl.put(clip[:cut])
                tl.skip(mid)
                b0, b1 = tl.put(clip[cut:])
                segments += [Segment("Participant", a0, a1, k), Segment("Participant", b0, b1, k)]
                start, stop = a0, b1
                n_pauses += 1
                pause_time += b0 - a1
            else:
                start, stop = tl.put(clip)
                segments.append(Segment("Participant", start, stop, k))
            lines.append(Line(start, stop, "Participant", transcript_text(sentence)))
            turn_start = start if turn_start is None else turn_start
            if j < len(answer.sentences) - 1:
                tl.skip(answer.pauses_s[j])
        text = " ".join(transcript_text(s) for s in answer.sentences)
        turns.append(
            TurnTruth(k, turn_start, stop, int(answer.marker), turn_start - q_stop, n_pauses, pause_time, text)
        )
        tl.skip(answer.gap_after_s)
    interviewer(CLOSING)
    audio = tl.mix(float(rng.uniform(0.8, 1.5)), noise_dbfs, rng)
    return RenderedInterview(audio, lines, segments, turns)
