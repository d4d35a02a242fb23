"""The plan of a synthetic interview, drawn from a seeded RNG before any audio exists.

A participant gets a voice that does not depend on the label (pitch, pitch range, rate, loudness, latency,
verbosity, pausing). A depressed participant has a minority of *marker* turns spoken the way the clinical
literature describes depressed speech: flatter F0, lower and flatter loudness, slower, more and longer pauses
inside the answer, longer response latency, more or less strongly (``marker_strength``). Controls have none
or one milder marker-like turn (an odd flat answer, ``control_marker_strength``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .script import FOLLOW_UP, QUESTIONS, SENTENCES
from .voices import VoiceParams


@dataclass(frozen=True)
class SynthConfig:
    """Settings of a synthetic corpus.

    label_strength: 0..1, how strongly a marker turn departs from the speaker's own neutral speech.
    marker_strength: range of a depressed participant's own strength, as a share of ``label_strength``
    (drawn once per participant: some are barely marked, some clearly; also scales the global shift).
    control_marker_strength: range of the strength of a control's marker-like turn, as a share of
    ``label_strength`` (an odd flat answer is milder than a depressed speaker's markers, so the marker
    turns alone do not cap what any model can reach; the suite reports that ceiling).
    marker_fraction: range of the share of marker turns in a depressed interview.
    control_marker_prob: chance that a control interview has one marker-like turn.
    marker_mode: where the evidence sits. ``local``: in a minority of a depressed participant's turns
    (marker turns); ``global``: every turn of a depressed participant is slightly flatter, quieter, slower
    and later (``global_strength`` × label_strength; no marker turns in any interview); ``mixture``: both
    (marker turns, plus a global shift at half that strength).
    shortcut: a planted non-vocal shortcut for testing the audit (``none`` by default). ``length``: a
    depressed participant is asked ``shortcut_factor`` times as many questions (a longer interview, more
    turns); ``prompt``: a depressed participant gets one extra, long interviewer prompt (``script.FOLLOW_UP``)
    as the first question. With a shortcut no interview has voice markers: the label is in the interview's
    length or the interviewer's prompts only.
    vary_recording: record each interview under its own conditions (``render.draw_recording``: gain over
    24 dB, mic colouring, noise floor, 8/16/44.1 kHz, mono or stereo), drawn independently of the label, so
    recording level and channel carry no label information; False writes every interview 16 kHz mono at
    one level.
    bleed_db: the interviewer's level re the participant (dB); bleed_lowpass: interviewer low-passed at 3.4 kHz
    (bleed into a close-talk mic); false: as rendered (one shared microphone, ``bleed_db`` near 0).
    """

    n_interviews: int = 20
    seed: int = 1
    target_duration_s: float = 120.0
    label_strength: float = 0.8
    depressed_fraction: float = 0.4
    marker_fraction: tuple[float, float] = (0.15, 0.40)
    control_marker_prob: float = 0.2
    marker_strength: tuple[float, float] = (0.6, 1.0)
    control_marker_strength: tuple[float, float] = (0.25, 0.6)
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    bleed_db: tuple[float, float] = (-30.0, -24.0)
    bleed_lowpass: bool = True
    noise_dbfs: float = -62.0
    first_id: int = 1000
    marker_mode: str = "local"
    global_strength: float = 0.35
    shortcut: str = "none"
    shortcut_factor: float = 1.6
    vary_recording: bool = True

    def __post_init__(self) -> None:
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut must be one of {SHORTCUTS}")
        if not self.shortcut_factor >= 1.0:
            raise ValueError("shortcut_factor must be at least 1")
        if self.marker_mode not in MARKER_MODES:
            raise ValueError(f"marker_mode must be one of {MARKER_MODES}")
        if not 0.0 <= self.global_strength <= 1.0:
            raise ValueError("global_strength must lie in 0..1")
        if not 0.0 < self.depressed_fraction < 1.0 or not 0.0 <= self.control_marker_prob <= 1.0:
            raise ValueError("depressed_fraction must lie in (0, 1) and control_marker_prob in [0, 1]")
        if len(self.split_fractions) != 3 or min(self.split_fractions) < 0 or sum(self.split_fractions) > 1 + 1e-9:
            raise ValueError("split_fractions must be three non-negative shares (train, dev, test) summing to 1")
        if not self.target_duration_s > 0:
            raise ValueError("target_duration_s must be positive")
        if self.n_interviews < 1:
            raise ValueError("n_interviews must be at least 1")
        if not 0.0 <= self.label_strength <= 1.0:
            raise ValueError("label_strength must lie in 0..1")
        lo, hi = self.marker_fraction
        if not 0.0 < lo <= hi < 1.0:
            raise ValueError("marker_fraction must be (lo, hi) with 0 < lo <= hi < 1")
        for name in ("marker_strength", "control_marker_strength"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"{name} must be (lo, hi) with 0 <= lo <= hi <= 1")


MARKER_MODES = ("local", "global", "mixture")
SHORTCUTS = ("none", "length", "prompt")


@dataclass(frozen=True)
class Participant:
    """A speaker's neutral voice and habits (independent of the label)."""

    gender: str
    voice: VoiceParams
    latency_s: tuple[float, float]
    sentences_per_answer: float
    pause_scale: float


@dataclass(frozen=True)
class AnswerPlan:
    question: str
    sentences: tuple[str, ...]
    marker: bool
    voice: VoiceParams
    latency_s: float
    pauses_s: tuple[float, ...]  # gap after each sentence but the last
    mid_pauses_s: tuple[float, ...]  # pause inserted inside each sentence (0 = none)
    gap_after_s: float  # silence before the interviewer's next line
    strength: float = 0.0  # how strongly this turn is marked (0 = neutral speech)


@dataclass(frozen=True)
class InterviewPlan:
    interview_id: str
    label: int
    phq8_score: int
    phq8_items: tuple[int, ...]
    participant: Participant
    interviewer: VoiceParams
    bleed_db: float
    answers: tuple[AnswerPlan, ...] = field(default=())

    @property
    def marker_fraction(self) -> float:
        return float(np.mean([a.marker for a in self.answers])) if self.answers else 0.0


def draw_participant(rng: np.random.Generator) -> Participant:
    gender = "F" if rng.random() < 0.5 else "M"
    if gender == "F":
        median, formant = rng.uniform(170, 235), rng.uniform(1.10, 1.20)
    else:
        median, formant = rng.uniform(90, 135), rng.uniform(0.95, 1.05)
    voice = VoiceParams(
        pitch_median_hz=float(median),
        formant_shift=float(formant),
        pitch_range=float(rng.uniform(0.45, 1.6)),
        rate=float(rng.uniform(0.8, 1.25)),
        gain_db=float(rng.uniform(-4.0, 3.0)),
        flatten_loudness=float(rng.uniform(0.0, 0.7)),
    )
    # Speakers differ as much in the traits the markers move (pitch range, loudness and its
    # dynamics, pauses, latency) as the markers move them, so an interview average cannot give the
    # label away; only the contrast between a speaker's own turns can.
    lat_lo = float(rng.uniform(0.3, 2.8))
    return Participant(
        gender,
        voice,
        (lat_lo, lat_lo + float(rng.uniform(0.4, 1.2))),
        float(rng.uniform(1.3, 2.8)),
        float(rng.uniform(0.6, 2.4)),
    )


def marker_voice(neutral: VoiceParams, strength: float, rng: np.random.Generator) -> VoiceParams:
    """The speaker's own voice made flat, quiet, even and slow by ``strength`` (0..1)."""
    s = strength * float(rng.uniform(0.8, 1.0))
    return VoiceParams(
        pitch_median_hz=neutral.pitch_median_hz * (1 - 0.06 * s),
        pitch_range=neutral.pitch_range * (1 - 0.75 * s),
        formant_shift=neutral.formant_shift,
        rate=neutral.rate * (1 + 0.3 * s),
        gain_db=neutral.gain_db - 6.0 * s,
        flatten_loudness=neutral.flatten_loudness + (1.0 - neutral.flatten_loudness) * 0.85 * s,
    )


def shifted_participant(who: Participant, strength: float, rng: np.random.Generator) -> Participant:
    """The same speaker with every turn a little flatter, quieter, slower, later and more paused."""
    lo, hi = who.latency_s
    extra = strength * float(rng.uniform(0.8, 1.6))
    return Participant(
        who.gender,
        marker_voice(who.voice, strength, rng),
        (lo + extra, hi + extra),
        who.sentences_per_answer,
        who.pause_scale * (1.0 + strength),
    )


def _phq8_items(score: int, rng: np.random.Generator) -> tuple[int, ...]:
    items = np.zeros(8, dtype=int)
    for _ in range(score):
        free = np.flatnonzero(items < 3)
        items[rng.choice(free)] += 1
    return tuple(int(v) for v in items)


def _answer(question: str, strength: float, who: Participant, rng: np.random.Generator, pool: list[str]) -> AnswerPlan:
    """Plan one answer, a marker turn when ``strength`` > 0; its sentences are taken from ``pool`` (so a
    speaker never repeats one)."""
    marker = strength > 0
    n_sent = int(np.clip(rng.poisson(who.sentences_per_answer - 1) + 1, 1, 4))
    if len(pool) < n_sent:
        pool.extend(str(s) for s in rng.permutation(SENTENCES))
    sentences = tuple(pool.pop() for _ in range(n_sent))
    s = strength
    pauses = tuple(
        float(who.pause_scale * rng.uniform(0.25, 0.7) + s * rng.uniform(0.6, 1.8)) for _ in range(n_sent - 1)
    )
    mid = tuple(float(s * rng.uniform(0.4, 1.2)) if marker and rng.random() < 0.6 * s else 0.0 for _ in range(n_sent))
    latency = float(rng.uniform(*who.latency_s) + s * rng.uniform(1.0, 2.5))
    voice = marker_voice(who.voice, s, rng) if marker else who.voice
    return AnswerPlan(question, sentences, marker, voice, latency, pauses, mid, float(rng.uniform(0.4, 1.2)), s)


def expected_answer_seconds(who: Participant) -> float:
    """Rough length of one answer (s): piper's sentences here average about 2 s at rate 1."""
    return 2.0 * who.sentences_per_answer * who.voice.rate + 0.5 * who.pause_scale * (who.sentences_per_answer - 1)


def plan_interview(index: int, label: int, cfg: SynthConfig) -> InterviewPlan:
    """Plan interview number ``index`` with the given label; depends only on (cfg.seed, index)."""
    rng = np.random.default_rng([cfg.seed, index, 7919])
    who = draw_participant(rng)
    per_answer = 2.3 + float(np.mean(who.latency_s)) + expected_answer_seconds(who) + 0.8
    n_q = int(np.clip(round((cfg.target_duration_s - 10.0) / per_answer), 3, len(QUESTIONS)))
    if label == 1:
        score = int(rng.integers(10, 25))
        lo, hi = cfg.marker_fraction
        frac = lo + (hi - lo) * ((score - 10) / 14) * 0.6 + rng.uniform(0, 0.4) * (hi - lo)
        n_markers = int(np.clip(round(frac * n_q), 1, max(1, n_q // 2)))
    else:
        score = int(rng.integers(0, 10))
        n_markers = int(rng.random() < cfg.control_marker_prob)
    if cfg.marker_mode == "global":
        n_markers = 0
    markers = set(rng.choice(n_q, size=n_markers, replace=False).tolist()) if n_markers else set()
    # strengths come from their own stream, so the rest of the plan does not depend on them
    srng = np.random.default_rng([cfg.seed, index, 104651])
    strength = cfg.label_strength * float(
        srng.uniform(*(cfg.marker_strength if label == 1 else cfg.control_marker_strength))
    )
    if label == 1 and cfg.marker_mode != "local":
        share = 1.0 if cfg.marker_mode == "global" else 0.5
        who = shifted_participant(who, strength * cfg.global_strength * share, rng)
    if cfg.shortcut != "none":  # the planted shortcut is the only label information: no voice markers
        markers = set()
        if label == 1 and cfg.shortcut == "length":
            n_q = int(min(len(QUESTIONS), round(n_q * cfg.shortcut_factor)))
    questions = [str(q) for q in rng.choice(QUESTIONS, size=n_q, replace=False)]
    if cfg.shortcut == "prompt" and label == 1:
        questions = [FOLLOW_UP] + questions
    pool = [str(s) for s in rng.permutation(SENTENCES)]
    answers = tuple(_answer(q, strength if i in markers else 0.0, who, rng, pool) for i, q in enumerate(questions))
    interviewer = VoiceParams(
        pitch_median_hz=float(rng.uniform(195, 215)), pitch_range=1.1, formant_shift=1.16, rate=1.0
    )
    return InterviewPlan(
        interview_id=str(cfg.first_id + index),
        label=label,
        phq8_score=score,
        phq8_items=_phq8_items(score, rng),
        participant=who,
        interviewer=interviewer,
        bleed_db=float(rng.uniform(*cfg.bleed_db)),
        answers=answers,
    )


def draw_labels(cfg: SynthConfig) -> list[int]:
    """Labels for all interviews: round(n * depressed_fraction) positives (at least one when n > 1)."""
    rng = np.random.default_rng([cfg.seed, 104729])
    n_pos = int(round(cfg.n_interviews * cfg.depressed_fraction))
    if cfg.n_interviews > 1:
        n_pos = min(max(n_pos, 1), cfg.n_interviews - 1)
    labels = np.zeros(cfg.n_interviews, dtype=int)
    labels[rng.choice(cfg.n_interviews, size=n_pos, replace=False)] = 1
    return labels.tolist()


def assign_splits(labels: list[int], cfg: SynthConfig) -> list[str]:
    """Stratified train/dev/test assignment (each split gets both classes when there are enough)."""
    rng = np.random.default_rng([cfg.seed, 15485863])
    splits = [""] * len(labels)
    fr_train, fr_dev, _ = cfg.split_fractions
    for cls in (0, 1):
        idx = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(idx)
        n = len(idx)
        n_test = int(round(n * (1 - fr_train - fr_dev)))
        n_dev = int(round(n * fr_dev))
        if n >= 3:
            n_test, n_dev = max(n_test, 1), max(n_dev, 1)
        for k, i in enumerate(idx):
            splits[i] = "test" if k < n_test else "dev" if k < n_test + n_dev else "train"
    return splits
