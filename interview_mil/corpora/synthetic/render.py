"""Turn an ``InterviewPlan`` into audio, transcript lines and ground truth, sample-exact at 16 kHz, then
"record" it under that interview's ``RecordingConditions`` (gain, microphone colouring, noise floor,
sample rate, channels), drawn apart from everything else so the recording carries no label information."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from ...data.audio import TARGET_SR, resample
from .plan import InterviewPlan
from .script import CLOSING, OPENING
from .voices import REF_DBFS, SpeechBank, quietest_split_point

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
    marker_strength: float = 0.0


@dataclass
class RenderedInterview:
    audio: np.ndarray  # (n,) float32 at 16 kHz, or (n, channels) at ``sample_rate`` once recorded
    lines: list[Line]
    segments: list[Segment]
    turns: list[TurnTruth]
    sample_rate: int = SR

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


@dataclass(frozen=True)
class RecordingConditions:
    """How one interview is recorded. ``gain_db``: level change of the whole recording (re the corpus's
    reference level; peaks are then limited to -0.2 dBFS, so a large positive gain ends lower);
    ``highpass_hz``: the microphone's low cut (2nd order); ``presence_db``: shelf gain above 2 kHz
    (mic colouring, + bright / - dull); ``lowpass_hz``: the channel's top (4th order; None = none);
    ``noise_below_db``: the electrical noise floor (white, added after the gain) this many dB below the
    reference speech level; ``sample_rate`` (Hz) and ``channels`` (1, or 2: the same signal, the second
    channel ``channel_offset_db`` quieter, each with its own noise) of the file."""

    gain_db: float = 0.0
    highpass_hz: float = 50.0
    presence_db: float = 0.0
    lowpass_hz: float | None = None
    noise_below_db: float = 60.0
    sample_rate: int = SR
    channels: int = 1
    channel_offset_db: float = 0.0


RECORDING_SAMPLE_RATES = (8000, 16000, 44100)


def draw_recording(seed: int, index: int) -> RecordingConditions:
    """The recording conditions of interview ``index``: from their own seeded stream (never the plan's,
    so they are independent of the label and leave every plan as it was). Gain U(-20, +4) dB, low cut
    40-200 Hz, presence -6..+6 dB, a 3.4-7.6 kHz top on half of them, noise floor 38-58 dB below the
    speech, sample rate 8, 16 or 44.1 kHz, stereo one time in three."""
    rng = np.random.default_rng([seed, index, 271828])
    return RecordingConditions(
        gain_db=round(float(rng.uniform(-20.0, 4.0)), 2),
        highpass_hz=round(float(rng.uniform(40.0, 200.0)), 1),
        presence_db=round(float(rng.uniform(-6.0, 6.0)), 2),
        lowpass_hz=round(float(rng.uniform(3400.0, 7600.0)), 0) if rng.random() < 0.5 else None,
        noise_below_db=round(float(rng.uniform(38.0, 58.0)), 1),
        sample_rate=int(rng.choice(RECORDING_SAMPLE_RATES)),
        channels=2 if rng.random() < 1 / 3 else 1,
        channel_offset_db=round(float(rng.uniform(0.0, 3.0)), 2),
    )


def record(audio: np.ndarray, cond: RecordingConditions, reference_dbfs: float, seed: int) -> np.ndarray:
    """``audio`` (n,) at 16 kHz as recorded under ``cond``: (m,) or (m, 2) float32 at ``cond.sample_rate``.
    ``reference_dbfs``: the corpus's speech level, which ``cond.noise_below_db`` is relative to."""
    rng = np.random.default_rng([seed, 314159])
    x = sosfilt(butter(2, cond.highpass_hz, btype="high", fs=SR, output="sos"), audio.astype(np.float64))
    if cond.presence_db:
        high = sosfilt(butter(1, 2000.0, btype="high", fs=SR, output="sos"), x)
        x = x + (10 ** (cond.presence_db / 20) - 1.0) * high
    if cond.lowpass_hz is not None:
        x = sosfilt(butter(4, cond.lowpass_hz, btype="low", fs=SR, output="sos"), x)
    x = x * 10 ** (cond.gain_db / 20)
    rate = cond.sample_rate
    x = resample(x.astype(np.float32), SR, rate).astype(np.float64) if rate != SR else x
    noise_rms = 10 ** ((reference_dbfs + cond.gain_db - cond.noise_below_db) / 20)
    chans = [x, x * 10 ** (-cond.channel_offset_db / 20)][: cond.channels]
    out = np.stack([c + noise_rms * rng.standard_normal(len(c)) for c in chans], axis=1)
    peak = np.abs(out).max()
    if peak > 0.98:
        out *= 0.98 / peak
    return (out[:, 0] if cond.channels == 1 else out).astype(np.float32)


def transcript_text(text: str) -> str:
    """DAIC-style transcript text: lower case, no punctuation but apostrophes."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z' ]", " ", text.lower())).strip()


_BLEED_SOS = butter(4, 3400, btype="low", fs=SR, output="sos")


class Timeline:
    """Places clips at sample positions and mixes them over a low noise floor (both generators use it)."""

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


def render_interview(
    plan: InterviewPlan,
    bank: SpeechBank,
    noise_dbfs: float,
    recording: RecordingConditions | None = None,
    bleed_lowpass: bool = True,
) -> RenderedInterview:
    """Render ``plan`` with speech from ``bank``; interviewer speech goes in as low-passed bleed; room
    noise at ``noise_dbfs``. ``recording``: record the result under these conditions (None: 16 kHz mono
    as rendered). ``bleed_lowpass``: False puts the interviewer in unfiltered (one shared microphone)."""
    rng = np.random.default_rng([int(plan.interview_id), 31337])
    tl = Timeline()
    lines: list[Line] = []
    segments: list[Segment] = []
    turns: list[TurnTruth] = []
    bleed_gain = 10 ** (plan.bleed_db / 20)

    def interviewer(text: str) -> float:
        clip = bank.render(text, plan.interviewer)
        clip = (sosfilt(_BLEED_SOS, clip) if bleed_lowpass else clip).astype(np.float32) * bleed_gain
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
            TurnTruth(
                k,
                turn_start,
                stop,
                int(answer.marker),
                turn_start - q_stop,
                n_pauses,
                pause_time,
                text,
                answer.strength,
            )
        )
        tl.skip(answer.gap_after_s)
    interviewer(CLOSING)
    audio = tl.mix(float(rng.uniform(0.8, 1.5)), noise_dbfs, rng)
    if recording is None:
        return RenderedInterview(audio, lines, segments, turns)
    recorded = record(audio, recording, REF_DBFS, int(plan.interview_id))
    return RenderedInterview(recorded, lines, segments, turns, recording.sample_rate)
