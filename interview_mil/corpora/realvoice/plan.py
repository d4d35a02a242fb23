"""The plan of a real-voice corpus: who is interviewed, with which phrases, and where markers go.

Each participant is one LibriSpeech speaker whose phrases are the answers; the label, PHQ-8 score and
marker strength belong to the participant (shared by all of its interviews). Every random choice comes
from its own seeded stream (``stream(seed, NAME, *keys)``), so changing one knob leaves the others'
draws where they were: the labels do not move when marker strengths change, the marker positions do not
move when the answer counts of other speakers change, and so on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..common import grouped_stratified_splits
from .markers import CORE_MARKERS, MARKERS

MARKER_MODES = ("local", "global", "mixture", "none")
SPEAKER_SETS = ("all", "even", "odd")
INTERVIEWER_MIN_PHRASES = 10  # the interviewer is a speaker of the same set with this many phrases (if any)

# one id per random stream
_PHRASES, _ANSWERS, _CAP, _LABELS, _POSITIONS, _STRENGTHS, _PHQ, _LAYOUT, _SPLITS, _NOISE = range(1, 11)


def stream(seed: int, name: int, *keys: int) -> np.random.Generator:
    """The random stream ``name`` for ``keys`` (speaker number, interview of that speaker, ...). The key
    count goes into the seed: numpy's seeding reads ``[a, b]`` and ``[a, b, 0]`` as the same entropy."""
    return np.random.default_rng([int(seed), int(name), len(keys), *map(int, keys)])


@dataclass(frozen=True)
class RealVoiceConfig:
    """Settings of a real-voice corpus (the experiment's ``corpus.synth`` for ``name: realvoice``).

    speech_dir: LibriSpeech folder (test-other/, train-clean-100/); relative to the working directory.
    n_interviews: at most this many interviews (None: every one the phrases allow).
    speakers: ``all``, or ``even`` / ``odd``: the speakers at even / odd positions of the numerically
    sorted ids of every speaker with a file, so two corpora can use disjoint voices.
    interviews_per_speaker: interviews a speaker gives at most, each with phrases of its own.
    answers: (lo, hi) answers per interview, limited by the speaker's phrases (one phrase per answer).
    marker_mode: ``local``: marker answers of depressed participants (plus a marker-like answer of some
    controls); ``global``: every answer of a depressed participant at ``global_strength`` x its strength,
    no marker answers; ``mixture``: marker answers plus every answer at half that global shift;
    ``none``: nothing planted in anyone, labels independent of the voice (the no-signal cell).
    marker_fraction: range of the share of a depressed interview's answers that are marker answers.
    marker_strength / control_marker_strength: range of a depressed / control participant's strength
    (drawn once per participant), as a share of ``label_strength``; overlapping ranges put the planted
    ceiling below 1. control_marker_prob: chance a control interview has one marker-like answer.
    markers: the measures planted in a marker answer (``markers.MARKERS``).
    base_latency_s: range of a participant's own response latency (s), before the latency marker.
    bleed_db: the interviewer's level re the participant (close-talk mic, as in DAIC-WOZ), dB.
    bleed_lowpass: low-pass the interviewer at 3.4 kHz (bleed into the participant's close-talk mic);
    false: the interviewer as recorded (one shared microphone, with ``bleed_db`` near 0).
    speech_dbfs: every speaker's median phrase RMS (dBFS) before markers; noise_dbfs: the noise floor.
    resynthesize_all: pass every answer through PSOLA (marked or not), so the processing itself is no cue.
    """

    speech_dir: str = "../shared/data/librispeech"
    n_interviews: int | None = None
    seed: int = 1
    speakers: str = "all"
    interviews_per_speaker: int = 1
    answers: tuple[int, int] = (3, 20)
    depressed_fraction: float = 0.4
    marker_mode: str = "local"
    marker_fraction: tuple[float, float] = (0.1, 0.3)
    marker_strength: tuple[float, float] = (0.6, 1.0)
    control_marker_prob: float = 0.2
    control_marker_strength: tuple[float, float] = (0.25, 0.6)
    global_strength: float = 0.35
    markers: tuple[str, ...] = CORE_MARKERS
    label_strength: float = 0.8
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    first_id: int = 2000
    base_latency_s: tuple[float, float] = (0.4, 1.2)
    bleed_db: tuple[float, float] = (-30.0, -24.0)
    bleed_lowpass: bool = True
    speech_dbfs: float = -26.0
    noise_dbfs: float = -65.0
    resynthesize_all: bool = True

    def __post_init__(self) -> None:
        if self.speakers not in SPEAKER_SETS:
            raise ValueError(f"speakers must be one of {SPEAKER_SETS}")
        if self.marker_mode not in MARKER_MODES:
            raise ValueError(f"marker_mode must be one of {MARKER_MODES}")
        unknown = sorted(set(self.markers) - set(MARKERS))
        if unknown or len(set(self.markers)) != len(self.markers):
            raise ValueError(f"markers must be distinct names from {list(MARKERS)} (got {list(self.markers)})")
        if self.n_interviews is not None and self.n_interviews < 1:
            raise ValueError("n_interviews must be at least 1 (or null for all)")
        if self.interviews_per_speaker < 1:
            raise ValueError("interviews_per_speaker must be at least 1")
        if len(self.answers) != 2 or not 1 <= self.answers[0] <= self.answers[1]:
            raise ValueError("answers must be (lo, hi) with 1 <= lo <= hi")
        if not 0.0 < self.depressed_fraction < 1.0 or not 0.0 <= self.control_marker_prob <= 1.0:
            raise ValueError("depressed_fraction must lie in (0, 1) and control_marker_prob in [0, 1]")
        lo, hi = self.marker_fraction
        if not 0.0 < lo <= hi <= 1.0:
            raise ValueError("marker_fraction must be (lo, hi) with 0 < lo <= hi <= 1")
        for name in ("marker_strength", "control_marker_strength"):
            lo, hi = getattr(self, name)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"{name} must be (lo, hi) with 0 <= lo <= hi <= 1")
        for name in ("label_strength", "global_strength"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]")
        if len(self.split_fractions) != 3 or min(self.split_fractions) < 0 or abs(sum(self.split_fractions) - 1) > 1e-6:
            raise ValueError("split_fractions must be three non-negative shares (train, dev, test) summing to 1")
        if not 0.0 <= self.base_latency_s[0] <= self.base_latency_s[1]:
            raise ValueError("base_latency_s must be (lo, hi) seconds with 0 <= lo <= hi")


@dataclass(frozen=True)
class AnswerPlan:
    """One question and answer. ``strength``: the strength planted in this answer (0 = as recorded);
    ``marker``: a marker answer (local evidence) rather than unmarked or only globally shifted;
    ``latency_s``: the participant's own latency (s) before the latency marker; ``gap_after_s``: silence
    before the next question (s); ``seed``: the answer's noise seed."""

    phrase_id: str
    question_id: str
    marker: bool
    strength: float
    latency_s: float
    gap_after_s: float
    seed: int


@dataclass(frozen=True)
class InterviewPlan:
    """One interview: ``speaker`` answers ``interviewer``'s questions; label and score are the speaker's.
    ``participant_strength``: the participant's own strength (already x ``label_strength``)."""

    interview_id: str
    speaker: str
    interviewer: str
    label: int
    phq8_score: int
    phq8_items: tuple[int, ...]
    participant_strength: float
    split: str
    bleed_db: float
    lead_in_s: float
    closing_id: str
    answers: tuple[AnswerPlan, ...]
    noise_seed: int

    @property
    def marker_fraction(self) -> float:
        """Share of marker answers."""
        return float(np.mean([a.marker for a in self.answers])) if self.answers else 0.0


def speaker_set(all_ids: Sequence[str], which: str) -> list[str]:
    """The speakers of partition ``which`` among ``all_ids`` (positions in numeric order)."""
    ordered = sorted(all_ids, key=int)
    return ordered if which == "all" else ordered[(0 if which == "even" else 1) :: 2]


def answer_counts(n_phrases: int, cfg: RealVoiceConfig, speaker: int) -> list[int]:
    """Answers in each interview speaker ``speaker`` gives: each draws its count from ``answers`` and takes
    what is left when fewer remain; another interview follows while ``answers[0]`` phrases remain, up to
    ``interviews_per_speaker``. Raising that cap adds interviews and leaves the earlier ones as they were."""
    lo, hi = cfg.answers
    rng, left, out = stream(cfg.seed, _ANSWERS, speaker), n_phrases, []
    while left >= lo and len(out) < cfg.interviews_per_speaker:
        out.append(min(int(rng.integers(lo, hi + 1)), left))
        left -= out[-1]
    return out


def _labels(participants: list[str], cfg: RealVoiceConfig) -> dict[str, int]:
    n = len(participants)
    n_pos = int(round(n * cfg.depressed_fraction))
    if n > 1:
        n_pos = min(max(n_pos, 1), n - 1)
    positive = set(stream(cfg.seed, _LABELS).permutation(n)[:n_pos].tolist())  # nested as the share grows
    return {p: int(k in positive) for k, p in enumerate(participants)}


def _phq8(label: int, u: float, cfg: RealVoiceConfig, speaker: int) -> tuple[int, tuple[int, ...]]:
    """PHQ-8 score (controls 0-9; depressed 10-24, rising with the strength quantile ``u``) and items."""
    rng = stream(cfg.seed, _PHQ, speaker)
    jitter, control = float(rng.normal(0.0, 1.0)), int(rng.integers(0, 10))
    score = int(np.clip(round(10 + 14 * u + jitter), 10, 24)) if label else control
    items = np.zeros(8, dtype=int)
    for _ in range(score):
        items[rng.choice(np.flatnonzero(items < 3))] += 1
    return score, tuple(int(v) for v in items)


def _strengths(
    label: int, p: float, n: int, cfg: RealVoiceConfig, key: tuple[int, int]
) -> tuple[list[bool], list[float]]:
    """(marker flags, planted strength) per answer of one interview of a participant with strength ``p``."""
    rng = stream(cfg.seed, _POSITIONS, *key)
    r_frac, r_control, order = float(rng.random()), float(rng.random()), rng.permutation(n)
    jitter = stream(cfg.seed, _STRENGTHS, *key).uniform(0.8, 1.0, size=n)  # answer-to-answer variation
    mode, n_markers = cfg.marker_mode, 0
    if mode in ("local", "mixture"):
        lo, hi = cfg.marker_fraction
        n_markers = (
            int(np.clip(round((lo + (hi - lo) * r_frac) * n), 1, n))
            if label
            else int(r_control < cfg.control_marker_prob)
        )
    marked = set(order[:n_markers].tolist())
    shift = p * cfg.global_strength * {"global": 1.0, "mixture": 0.5}.get(mode, 0.0) if label else 0.0
    flags, out = [], []
    for k in range(n):
        local = p * jitter[k] if k in marked else 0.0
        flags.append(k in marked)
        out.append(round(float(1.0 - (1.0 - local) * (1.0 - shift * jitter[k])), 4))
    return flags, out


def plan_corpus(
    phrase_ids: Mapping[str, Sequence[str]], all_ids: Sequence[str], cfg: RealVoiceConfig
) -> list[InterviewPlan]:
    """Every interview of the corpus. ``phrase_ids``: ``{speaker: [phrase id, ...]}`` of the speakers with
    phrases; ``all_ids``: every speaker with a file (the partition is taken over these, so it does not
    depend on the phrase rules). Interviews are numbered from ``first_id`` in (speaker, interview) order."""
    chosen = [s for s in speaker_set(all_ids, cfg.speakers) if s in phrase_ids]
    slots: list[tuple[str, int, list[str]]] = []
    for speaker in chosen:
        mine = [str(p) for p in stream(cfg.seed, _PHRASES, int(speaker)).permutation(list(phrase_ids[speaker]))]
        start = 0
        for j, n in enumerate(answer_counts(len(mine), cfg, int(speaker))):
            slots.append((speaker, j, mine[start : start + n]))
            start += n
    if cfg.n_interviews is not None and cfg.n_interviews < len(slots):
        keep = sorted(stream(cfg.seed, _CAP).permutation(len(slots))[: cfg.n_interviews].tolist())
        slots = [slots[k] for k in keep]
    participants = sorted({s for s, _, _ in slots}, key=int)
    labels = _labels(participants, cfg)
    splits = grouped_stratified_splits(
        participants,
        [labels[p] for p in participants],
        int(stream(cfg.seed, _SPLITS).integers(2**31)),
        tuple(cfg.split_fractions),
    )
    plans = []
    for index, (speaker, j, phrases) in enumerate(slots):
        spk, label = int(speaker), labels[speaker]
        u = float(stream(cfg.seed, _STRENGTHS, spk).random())
        span = cfg.marker_strength if label else cfg.control_marker_strength
        p = 0.0 if cfg.marker_mode == "none" else cfg.label_strength * (span[0] + (span[1] - span[0]) * u)
        score, items = _phq8(label, u, cfg, spk)
        flags, planted = _strengths(label, p, len(phrases), cfg, (spk, j))
        base = float(stream(cfg.seed, _LAYOUT, spk).uniform(*cfg.base_latency_s))
        rng = stream(cfg.seed, _LAYOUT, spk, j)
        others = [s for s in chosen if s != speaker] or [speaker]
        readers = [s for s in others if len(phrase_ids[s]) >= INTERVIEWER_MIN_PHRASES] or others
        interviewer = str(rng.choice(readers))
        questions = [str(q) for q in rng.permutation(list(phrase_ids[interviewer]))]
        asked = [questions[k % len(questions)] for k in range(len(phrases) + 1)]
        answers = tuple(
            AnswerPlan(
                phrase,
                asked[k],
                flags[k],
                planted[k],
                round(max(0.2, base + float(rng.uniform(-0.15, 0.15))), 4),
                round(float(rng.uniform(0.4, 1.2)), 4),
                int(stream(cfg.seed, _NOISE, spk, j, k).integers(2**31)),
            )
            for k, phrase in enumerate(phrases)
        )
        plans.append(
            InterviewPlan(
                interview_id=str(cfg.first_id + index),
                speaker=speaker,
                interviewer=interviewer,
                label=label,
                phq8_score=score,
                phq8_items=items,
                participant_strength=round(p, 4),
                split=splits[speaker],
                bleed_db=round(float(rng.uniform(*cfg.bleed_db)), 2),
                lead_in_s=round(float(rng.uniform(0.8, 1.5)), 4),
                closing_id=asked[-1],
                answers=answers,
                noise_seed=int(stream(cfg.seed, _NOISE, spk, j).integers(2**31)),
            )
        )
    return plans
