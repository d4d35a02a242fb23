"""Single-channel two-speaker "interviews" from real LibriSpeech voices, with exact reference turns.

    build_recordings(out_dir, spec="default" | "quick", seed=0) -> list[Recording]

Each recording: an interviewer asks a short question (one phrase of 1-4 s), pauses 0.3-1.5 s, the
participant answers (phrases of one speaker, 2-20 s of speech in all, log-uniform, 0.2-0.8 s pauses between
the phrases), a pause of 0.3-1.5 s, the next question, and so on; the interviewer speaks first and the
recording stops after the answer that passes the target length (so it runs up to ~25 s longer). A
low-passed noise floor at -65 dBFS lies under everything; the interviewer's median phrase is at -26 dBFS
(a recording whose peak would pass 0.98 is scaled down as a whole, so the level relations stay).

Conditions (a fixed list; the seed only draws speakers, phrases, pauses and the length order):
  * ``level_db``: participant 0, +6 or -6 dB relative to the interviewer;
  * ``gender``: ``same`` or ``different``, from the project's F0 estimate
    (``corpora.realvoice.render.estimate_gender``: median F0 < 165 Hz is ``M``; the shared LibriSpeech copy
    has no SPEAKERS.TXT, so this is an estimate, not LibriSpeech's own list; it gives 5 F and 5 M voices);
  * ``backchannels``: in every third multi-phrase answer (the 1st, 4th, ...) the interviewer says a 0.3-0.6 s
    snippet of their own speech (the loudest stretch of one of their phrases, "mm-hm"-like) in a pause of
    the answer;
  * ``overlaps``: every third question (the 2nd, 5th, ...) starts 0.2-0.8 s before the previous answer ends;
  * ``channel``: ``wideband`` (16 kHz) or ``telephone`` (band-pass 300-3400 Hz, written at 8 kHz).

``default``: 24 recordings, every (level, gender, backchannels, overlaps) combination once, half of them
telephone (balanced over each factor), target lengths 1-20 min (147 min of targets; 151 min = 2.5 h of audio
with seed 0). ``quick``: 6 recordings of 1-2 min (10 min of audio) covering each condition at least once.

Voices: the 10 test-other speakers (55-90 s of phrases each; ``corpora.realvoice.phrases`` cuts their
utterances at pauses). A long recording needs far more speech than that, so phrases repeat within a
recording (each speaker's phrases are dealt from a shuffled deck, reshuffled when it runs out);
``distinct_participant_s`` in the manifest is how much different participant audio a recording holds.
Reference spans are each clip's speech extent (first to last 10 ms frame within 30 dB of the clip's
loudest frame; the clip is cut there with 5 ms fades), so the RTTM holds no padding.

Written per recording: ``<uri>.wav`` (int16), ``<uri>.rttm`` (speakers ``interviewer`` and
``participant``; an overlap is two overlapping lines); and for the set ``manifest.json`` (generator version,
spec, seed, one row per recording) and ``manifest.csv`` (the same rows).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import butter, sosfiltfilt

from interview_mil.corpora.realvoice.phrases import SR, frame_levels, phrases_by_speaker
from interview_mil.corpora.realvoice.render import estimate_gender, speaker_gain_db
from interview_mil.corpora.synthetic.render import Timeline
from interview_mil.data.audio import resample, write_audio
from interview_mil.fileio import read_json, write_json, write_table, write_text

GENERATOR_VERSION = 1
SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "librispeech"
INTERVIEWER, PARTICIPANT = "interviewer", "participant"
INTERVIEWER_DBFS = -26.0  # median phrase level of the interviewer
NOISE_DBFS = -65.0
TELEPHONE_SR = 8_000
QUESTION_S = (1.0, 4.0)  # question phrase length (s)
ANSWER_S = (2.0, 20.0)  # speech per answer (s)
BACKCHANNEL_S = (0.3, 0.6)
OVERLAP_S = (0.2, 0.8)  # how long before the answer's end the next question starts
EVENT_EVERY = 3  # every 3rd multi-phrase answer has a backchannel / question overlaps, when the condition is on
TRIM_DB = 30.0
FADE_S = 0.005
MIN_PHRASES = 8  # a voice needs this many phrases (the test-other speakers)


@dataclass(frozen=True)
class Condition:
    """One recording's condition: ``level_db`` participant re interviewer (dB); ``gender`` ``same`` or
    ``different``; ``channel`` ``wideband`` or ``telephone``; ``minutes``: target length."""

    level_db: float
    gender: str
    backchannels: bool
    overlaps: bool
    channel: str
    minutes: float


@dataclass(frozen=True)
class RefSegment:
    """A reference span (s): ``speaker`` interviewer/participant; ``kind`` question, answer or backchannel."""

    speaker: str
    start: float
    end: float
    kind: str


@dataclass(frozen=True)
class Recording:
    """One built recording: files, condition, voices and what it holds (durations in s, ``sample_rate``
    Hz of the file)."""

    uri: str
    path: Path
    rttm: Path
    condition: Condition
    interviewer: str
    participant: str
    interviewer_gender: str
    participant_gender: str
    duration: float
    sample_rate: int
    n_answers: int
    n_backchannels: int
    n_overlaps: int
    participant_speech_s: float
    interviewer_speech_s: float
    distinct_participant_s: float

    def row(self, root: Path) -> dict:
        """Flat manifest row; paths relative to ``root``."""
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "condition"}
        row.update(dataclasses.asdict(self.condition))
        row["path"], row["rttm"] = self.path.relative_to(root).as_posix(), self.rttm.relative_to(root).as_posix()
        return row

    @classmethod
    def from_row(cls, row: dict, root: Path) -> Recording:
        cond = Condition(**{f.name: row[f.name] for f in dataclasses.fields(Condition)})
        names = {f.name for f in dataclasses.fields(cls)} - {"condition", "path", "rttm"}
        kwargs = {k: row[k] for k in names}
        return cls(path=root / row["path"], rttm=root / row["rttm"], condition=cond, **kwargs)


@dataclass(frozen=True)
class Voice:
    """A speaker's material: trimmed ``answers`` clips, ``questions`` (clips of 1-4 s), gender, base gain."""

    speaker: str
    gender: str
    answers: tuple[np.ndarray, ...]
    questions: tuple[np.ndarray, ...]
    gain_db: float  # puts the median phrase at 0 dBFS (add the wanted level)


def conditions(spec: str, seed: int) -> list[Condition]:
    """The deterministic condition list of ``spec`` (``default`` or ``quick``)."""
    if spec == "quick":
        rows = [
            (0.0, "same", False, False, "wideband", 1.0),
            (6.0, "different", True, False, "wideband", 1.5),
            (-6.0, "different", False, True, "wideband", 2.0),
            (0.0, "different", True, True, "telephone", 1.0),
            (6.0, "same", False, True, "telephone", 1.5),
            (-6.0, "same", True, False, "telephone", 2.0),
        ]
        return [Condition(*r) for r in rows]
    if spec != "default":
        raise ValueError(f"unknown spec {spec!r}: use 'default' or 'quick'")
    minutes = [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 8, 8, 10, 10, 12, 12, 15, 20]
    order = np.random.default_rng([seed, 1]).permutation(len(minutes))
    out = []
    modes = [(False, False), (True, False), (False, True), (True, True)]
    for k, (i, j, m) in enumerate(itertools.product(range(3), range(2), range(4))):
        channel = "telephone" if (i + j + m) % 2 else "wideband"
        level, gender = (0.0, 6.0, -6.0)[i], ("same", "different")[j]
        out.append(Condition(level, gender, *modes[m], channel, float(minutes[order[k]])))
    return out


def speech_extent(samples: np.ndarray, below_peak_db: float = TRIM_DB) -> tuple[int, int]:
    """(first, stop) sample of the speech in a clip: first to last 10 ms frame within ``below_peak_db`` of
    its loudest frame."""
    levels = frame_levels(samples, 0.01)
    loud = np.flatnonzero(levels >= levels.max() - below_peak_db)
    hop = SR // 100
    return int(loud[0] * hop), int((loud[-1] + 1) * hop)


def faded(samples: np.ndarray, fade_s: float = FADE_S) -> np.ndarray:
    """A copy with raised-cosine fades of ``fade_s`` at both ends: (n,) float32."""
    out = np.array(samples, dtype=np.float32)
    n = min(int(fade_s * SR), len(out) // 2)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))
    out[:n] *= ramp
    out[len(out) - n :] *= ramp[::-1]
    return out


def trimmed(samples: np.ndarray) -> np.ndarray:
    """The clip cut to its speech extent, with short fades."""
    a, b = speech_extent(samples)
    return faded(samples[a:b])


def loudest_snippet(samples: np.ndarray, seconds: float) -> np.ndarray:
    """The ``seconds``-long stretch of ``samples`` with the most energy (10 ms steps), faded: (n,)."""
    hop = SR // 100
    power = 10 ** (frame_levels(samples, 0.01) / 10)
    n = max(1, min(len(power), int(round(seconds * 100))))
    best = int(np.argmax(np.convolve(power, np.ones(n), mode="valid")))
    return faded(samples[best * hop : (best + n) * hop], 0.02)


def load_voices(speech_dir: Path = SPEECH_DIR) -> dict[str, Voice]:
    """Every speaker with at least ``MIN_PHRASES`` phrases, as a ``Voice``."""
    voices = {}
    for speaker, phrases in phrases_by_speaker(speech_dir).items():
        if len(phrases) < MIN_PHRASES:
            continue
        clips = tuple(trimmed(p.samples) for p in phrases)
        questions = tuple(c for c in clips if QUESTION_S[0] <= len(c) / SR <= QUESTION_S[1])
        gain = speaker_gain_db(phrases, 0.0)
        voices[speaker] = Voice(speaker, estimate_gender(phrases), clips, questions, gain)
    return voices


def _deck(items: Sequence, rng: np.random.Generator) -> Iterator[int]:
    """Indices of ``items`` in shuffled order, reshuffled each time the deck runs out."""
    while True:
        yield from rng.permutation(len(items)).tolist()


def choose_pair(voices: dict[str, Voice], cond: Condition, participant: str, rng: np.random.Generator) -> str:
    """An interviewer for ``participant`` with the gender relation ``cond.gender`` asks for."""
    pg = voices[participant].gender
    same = cond.gender == "same"
    options = [s for s, v in voices.items() if s != participant and (v.gender == pg) == same]
    if not options:
        raise ValueError(f"no {cond.gender}-gender interviewer for speaker {participant}")
    return str(rng.choice(options))


def compose(
    cond: Condition, interviewer: Voice, participant: Voice, rng: np.random.Generator
) -> tuple[np.ndarray, list[RefSegment], float]:
    """The 16 kHz mix ((n,) float32), its reference segments, and the distinct participant audio (s)."""
    tl = Timeline()
    segs: list[RefSegment] = []
    g_int = 10 ** ((interviewer.gain_db + INTERVIEWER_DBFS) / 20)
    g_par = 10 ** ((participant.gain_db + INTERVIEWER_DBFS + cond.level_db) / 20)
    questions, answers = _deck(interviewer.questions, rng), _deck(participant.answers, rng)
    used: set[int] = set()
    target = cond.minutes * 60
    tl.skip(rng.uniform(0.5, 1.5))
    n_questions = n_multi = 0
    while tl.pos / SR < target:
        n_questions += 1
        if cond.overlaps and n_questions % EVENT_EVERY == 2:
            tl.skip(-rng.uniform(*OVERLAP_S))
        else:
            tl.skip(rng.uniform(0.3, 1.5))
        a, b = tl.put(interviewer.questions[next(questions)] * g_int)
        segs.append(RefSegment(INTERVIEWER, a, b, "question"))
        tl.skip(rng.uniform(0.3, 1.5))
        want = float(np.exp(rng.uniform(*np.log(ANSWER_S))))
        clips, total = [], 0.0
        while total < want:
            k = next(answers)
            length = len(participant.answers[k]) / SR
            if total + length > ANSWER_S[1]:
                fits = [j for j, c in enumerate(participant.answers) if total + len(c) / SR <= ANSWER_S[1]]
                if not fits:
                    break
                k = int(rng.choice(fits))
                length = len(participant.answers[k]) / SR
            clips.append(k)
            total += length
        backchannel_at = -1
        n_multi += len(clips) > 1
        if cond.backchannels and len(clips) > 1 and n_multi % EVENT_EVERY == 1:
            backchannel_at = int(rng.integers(1, len(clips)))
        for j, k in enumerate(clips):
            if j == backchannel_at:
                tl.skip(rng.uniform(0.15, 0.35))
                source = interviewer.questions[int(rng.integers(len(interviewer.questions)))]
                a, b = tl.put(loudest_snippet(source, rng.uniform(*BACKCHANNEL_S)) * g_int)
                segs.append(RefSegment(INTERVIEWER, a, b, "backchannel"))
                tl.skip(rng.uniform(0.15, 0.35))
            elif j:
                tl.skip(rng.uniform(0.2, 0.8))
            a, b = tl.put(participant.answers[k] * g_par)
            segs.append(RefSegment(PARTICIPANT, a, b, "answer"))
            used.add(k)
    audio = tl.mix(rng.uniform(0.5, 1.5), NOISE_DBFS, rng)
    distinct = sum(len(participant.answers[k]) for k in used) / SR
    return audio, sorted(segs, key=lambda s: (s.start, s.end)), distinct


def telephone(audio: np.ndarray) -> np.ndarray:
    """Band-pass 300-3400 Hz (4th order, zero phase) and resample 16 kHz → 8 kHz: (n // 2,) float32."""
    sos = butter(4, [300, 3400], btype="bandpass", fs=SR, output="sos")
    return resample(sosfiltfilt(sos, audio).astype(np.float32), SR, TELEPHONE_SR)


def rttm_text(uri: str, segs: Sequence[RefSegment]) -> str:
    """RTTM SPEAKER lines for ``segs`` (times to the millisecond)."""
    return "".join(
        f"SPEAKER {uri} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> {s.speaker} <NA> <NA>\n" for s in segs
    )


def n_overlaps(segs: Sequence[RefSegment]) -> int:
    """Number of interviewer/participant segment pairs that overlap in time."""
    par = [s for s in segs if s.speaker == PARTICIPANT]
    return sum(1 for s in segs if s.speaker == INTERVIEWER for p in par if min(s.end, p.end) > max(s.start, p.start))


def build_recordings(
    out_dir: Path, spec: str = "default", seed: int = 0, speech_dir: Path = SPEECH_DIR
) -> list[Recording]:
    """Build the ``spec`` set into ``out_dir`` (WAV + RTTM per recording, manifest.json/.csv); see the
    module docstring. Deterministic in (``GENERATOR_VERSION``, ``spec``, ``seed``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    conds = conditions(spec, seed)
    voices = load_voices(speech_dir)
    speakers = sorted(voices, key=int)
    participants = np.random.default_rng([seed, 2]).permutation(speakers).tolist()
    recordings = []
    for i, cond in enumerate(conds):
        rng = np.random.default_rng([seed, 3, i])
        par = voices[participants[i % len(participants)]]
        inter = voices[choose_pair(voices, cond, par.speaker, rng)]
        audio, segs, distinct = compose(cond, inter, par, rng)
        uri = f"{spec}-{i:02d}"
        sr = TELEPHONE_SR if cond.channel == "telephone" else SR
        path = write_audio(out_dir / f"{uri}.wav", telephone(audio) if sr == TELEPHONE_SR else audio, sr)
        rttm = write_text(out_dir / f"{uri}.rttm", rttm_text(uri, segs))
        speech = {who: sum(s.end - s.start for s in segs if s.speaker == who) for who in (INTERVIEWER, PARTICIPANT)}
        recordings.append(
            Recording(
                uri=uri,
                path=path,
                rttm=rttm,
                condition=cond,
                interviewer=inter.speaker,
                participant=par.speaker,
                interviewer_gender=inter.gender,
                participant_gender=par.gender,
                duration=len(audio) / SR,
                sample_rate=sr,
                n_answers=sum(1 for s in segs if s.kind == "question"),
                n_backchannels=sum(1 for s in segs if s.kind == "backchannel"),
                n_overlaps=n_overlaps(segs),
                participant_speech_s=round(speech[PARTICIPANT], 3),
                interviewer_speech_s=round(speech[INTERVIEWER], 3),
                distinct_participant_s=round(distinct, 3),
            )
        )
    rows = [r.row(out_dir) for r in recordings]
    write_table(pd.DataFrame(rows), out_dir / "manifest.csv")
    write_json(
        out_dir / "manifest.json",
        {"generator_version": GENERATOR_VERSION, "spec": spec, "seed": seed, "recordings": rows},
    )
    return recordings


def load_recordings(out_dir: Path, spec: str, seed: int) -> list[Recording] | None:
    """The recordings of an earlier ``build_recordings`` into ``out_dir`` with this generator version,
    ``spec`` and ``seed``; None when there is none (or its files are missing)."""
    manifest = Path(out_dir) / "manifest.json"
    if not manifest.exists():
        return None
    data = read_json(manifest)
    if (data.get("generator_version"), data.get("spec"), data.get("seed")) != (GENERATOR_VERSION, spec, seed):
        return None
    recordings = [Recording.from_row(row, Path(out_dir)) for row in data["recordings"]]
    return recordings if all(r.path.exists() and r.rttm.exists() for r in recordings) else None
