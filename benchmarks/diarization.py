"""Who spoke when in one-channel interviews: the segmentation stage against exact reference turns (issue 22).

    python benchmarks/diarization.py [--quick] [--source diarize] [--json out.json] [--seed 0]

Recordings: the two-speaker set of ``two_speaker.py`` (``--quick``: 6 recordings, 10 min; else 24, 2.5 h;
built once into ``--recordings`` and reused while the generator version, spec and seed match) and the shared
real conversation ``../shared/data/conversation/sample.wav`` with ``sample.rttm`` (its speaker with more
speech, speaker91, is taken as the participant; reported apart from the set). Each recording is segmented
as a user would: ``segment_interview(Interview(...), SegmentationConfig(source=--source))``. Hypothesis:
the ``Segmentation``'s participant turns labelled participant, its interviewer spans labelled interviewer.

Figures per recording, per condition and pooled over the set (time-weighted: pooled numerators over pooled
denominators):
  * DER and JER (``pyannote.metrics``, ``skip_overlap=False``, optimal speaker mapping) with a collar of
    0.25 s on each side of every reference boundary (NIST's "0.25 s collar"; pyannote's ``collar``
    argument is the whole width, 0.5) and with none;
  * participant recall: the reference participant's speech outside overlap that lies in participant turns;
  * interviewer contamination: the share of participant-turn time that is reference interviewer speech
    (overlap included);
  * answers per turn: per participant turn, the reference answers it overlaps by >= 0.2 s (an answer: the
    participant's segments between two questions, a question being an interviewer segment of >= 0.7 s, so
    a backchannel does not end an answer); median, and the share of turns with more than one;
  * participant chosen: the participant turns overlap the reference participant more than the interviewer;
  * real-time factor per core: process CPU seconds of the ``segment_interview`` call per audio second, with
    OMP/MKL/OpenBLAS threads set to 1 before any import (total only: the API reports no stage timings),
    after untimed warm-up calls on the first recording of each sample rate (their CPU time is printed and
    saved apart: model loading, lazy imports and resampler set-up are not a per-audio cost).
Targets (issue 22): contamination <= 0.03, recall >= 0.90, median answers per turn 1, DER (0.25 s collar)
<= 0.05, participant chosen >= 95 %.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import bisect  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from two_speaker import Recording, build_recordings, load_recordings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONVERSATION = ROOT.parent / "shared" / "data" / "conversation"
COLLAR = 0.25  # s on each side of a reference boundary
QUESTION_MIN_S = 0.7
MIN_ANSWER_OVERLAP_S = 0.2
TARGETS = {"contamination": 0.03, "recall": 0.90, "answers_per_turn": 1, "der": 0.05, "chosen": 0.95}

Span = tuple[float, float]


# ---------------------------------------------------------------- spans


def union(spans: Sequence[Span]) -> list[Span]:
    """Sorted, disjoint cover of ``spans`` (s)."""
    out: list[Span] = []
    for a, b in sorted((float(a), float(b)) for a, b in spans if b > a):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def intersect(x: Sequence[Span], y: Sequence[Span]) -> list[Span]:
    """Time covered by both ``x`` and ``y``: sorted, disjoint spans (s)."""
    x, y = union(x), union(y)
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if b > a:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def total(spans: Sequence[Span]) -> float:
    """Seconds covered by ``spans`` (overlaps counted once)."""
    return float(sum(b - a for a, b in union(spans)))


# ---------------------------------------------------------------- reference and hypothesis


@dataclass(frozen=True)
class Reference:
    """Reference speech (s): every ``participant`` and ``interviewer`` segment, and the participant's
    segments grouped by ``answers``."""

    participant: list[Span]
    interviewer: list[Span]
    answers: list[list[Span]]


@dataclass(frozen=True)
class Hypothesis:
    """What segmentation said: participant ``turns`` and ``interviewer`` spans (s)."""

    turns: list[Span]
    interviewer: list[Span]


def answers_from_reference(
    participant: Sequence[Span], interviewer: Sequence[Span], min_question: float = QUESTION_MIN_S
) -> list[list[Span]]:
    """The participant's segments grouped into answers: those that start between the same two question
    starts (a question: an interviewer segment of at least ``min_question`` s)."""
    starts = sorted(a for a, b in interviewer if b - a >= min_question)
    groups: dict[int, list[Span]] = {}
    for seg in sorted(participant):
        groups.setdefault(bisect.bisect_right(starts, seg[0]), []).append(seg)
    return [groups[k] for k in sorted(groups)]


def read_reference(rttm: Path, participant: str | None = None) -> tuple[Reference, dict[str, str]]:
    """Reference of a two-speaker RTTM, and the role each RTTM speaker got. Speakers ``participant`` and
    ``interviewer`` keep their roles; otherwise ``participant`` names it, or the one with more speech is it."""
    from interview_mil.segmentation.speakers import read_rttm

    segs: dict[str, list[Span]] = {}
    for speaker, start, end, _ in read_rttm(rttm):
        segs.setdefault(speaker, []).append((start, end))
    if len(segs) != 2:
        raise ValueError(f"{rttm}: expected two speakers, found {sorted(segs)}")
    if participant is None:
        participant = "participant" if "participant" in segs else max(segs, key=lambda s: total(segs[s]))
    other = next(s for s in segs if s != participant)
    ref = Reference(segs[participant], segs[other], answers_from_reference(segs[participant], segs[other]))
    return ref, {participant: "participant", other: "interviewer"}


# ---------------------------------------------------------------- metrics


@dataclass
class Scores:
    """One recording's figures; the ``*_num``/``*_den`` and the DER/JER components pool over recordings."""

    der: dict[str, dict[str, float]] = field(default_factory=dict)  # collar label -> pyannote components
    jer: dict[str, dict[str, float]] = field(default_factory=dict)
    recall_num: float = 0.0
    recall_den: float = 0.0
    contamination_num: float = 0.0
    contamination_den: float = 0.0
    answers_per_turn: list[int] = field(default_factory=list)
    participant_overlap_s: float = 0.0
    interviewer_overlap_s: float = 0.0

    @property
    def chosen(self) -> bool:
        """The hypothesis participant is the reference participant (by overlap)."""
        return self.participant_overlap_s > self.interviewer_overlap_s


def _annotation(named: dict[str, Sequence[Span]]):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for label, spans in named.items():
        for k, (a, b) in enumerate(spans):
            if b > a:
                ann[Segment(a, b), f"{label}{k}"] = label
    return ann


def score(ref: Reference, hyp: Hypothesis, duration: float) -> Scores:
    """All figures of one recording of ``duration`` s."""
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    out = Scores()
    reference = _annotation({"participant": ref.participant, "interviewer": ref.interviewer})
    hypothesis = _annotation({"participant": hyp.turns, "interviewer": hyp.interviewer})
    uem = Timeline([Segment(0.0, duration)])
    for label, collar in (("0.25", COLLAR), ("0", 0.0)):
        der = DiarizationErrorRate(collar=2 * collar, skip_overlap=False)
        jer = JaccardErrorRate(collar=2 * collar, skip_overlap=False)
        out.der[label] = dict(der.compute_components(reference, hypothesis, uem=uem))
        out.jer[label] = dict(jer.compute_components(reference, hypothesis, uem=uem))
    both = intersect(ref.participant, ref.interviewer)
    in_turns = total(intersect(ref.participant, hyp.turns))
    out.recall_num = in_turns - total(intersect(both, hyp.turns))
    out.recall_den = total(ref.participant) - total(both)
    out.interviewer_overlap_s = total(intersect(ref.interviewer, hyp.turns))
    out.participant_overlap_s = in_turns
    out.contamination_num, out.contamination_den = out.interviewer_overlap_s, total(hyp.turns)
    out.answers_per_turn = [
        sum(total(intersect([turn], answer)) >= MIN_ANSWER_OVERLAP_S for answer in ref.answers) for turn in hyp.turns
    ]
    return out


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else float("nan")


def summary(scores: Sequence[Scores]) -> dict[str, float]:
    """Pooled figures of ``scores`` (one recording, or a group)."""
    out: dict[str, float] = {}
    for label in ("0.25", "0"):
        d = [s.der[label] for s in scores]
        err = sum(c["confusion"] + c["missed detection"] + c["false alarm"] for c in d)
        out[f"der_{label}"] = _ratio(err, sum(c["total"] for c in d))
        j = [s.jer[label] for s in scores]
        out[f"jer_{label}"] = _ratio(sum(c["speaker error"] for c in j), sum(c["speaker count"] for c in j))
    out["recall"] = _ratio(sum(s.recall_num for s in scores), sum(s.recall_den for s in scores))
    out["contamination"] = _ratio(sum(s.contamination_num for s in scores), sum(s.contamination_den for s in scores))
    apt = [n for s in scores for n in s.answers_per_turn]
    out["n_turns"] = len(apt)
    out["answers_per_turn_median"] = float(np.median(apt)) if apt else float("nan")
    out["turns_multi_answer"] = _ratio(sum(n > 1 for n in apt), len(apt))
    out["turns_no_answer"] = _ratio(sum(n == 0 for n in apt), len(apt))
    out["chosen"] = _ratio(sum(s.chosen for s in scores), len(scores))
    return out


# ---------------------------------------------------------------- running


@dataclass
class Result:
    """One recording's run: identity, condition fields, timing (s) and scores."""

    uri: str
    condition: dict
    audio_s: float
    cpu_s: float = float("nan")
    wall_s: float = float("nan")
    n_turns: int = 0
    scores: Scores | None = None
    error: str | None = None


def segment_and_score(uri: str, audio: Path, ref: Reference, duration: float, source: str, condition: dict) -> Result:
    """Segment ``audio`` with ``source`` as a user would, time it, and score it against ``ref``."""
    from interview_mil.data import Interview
    from interview_mil.errors import RECORDING_ERRORS
    from interview_mil.segmentation import NoTurnsWarning, SegmentationConfig, segment_interview

    interview = Interview(interview_id=uri, audio_path=str(audio), corpus="two_speaker", duration=duration)
    result = Result(uri, condition, duration)
    cpu, wall = time.process_time(), time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoTurnsWarning)
            seg = segment_interview(interview, SegmentationConfig(source=source))
    except RECORDING_ERRORS as exc:  # recorded, as segment_manifest does; the other recordings go on
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.cpu_s, result.wall_s = time.process_time() - cpu, time.perf_counter() - wall
    result.n_turns = len(seg.turns)
    hyp = Hypothesis([(t.start, t.end) for t in seg.turns], [(float(a), float(b)) for a, b in seg.interviewer])
    result.scores = score(ref, hyp, duration)
    return result


LENGTHS = ("1-3 min", "4-8 min", "10-20 min")


def length_bucket(minutes: float) -> str:
    """The target length's group in the condition table."""
    return LENGTHS[0] if minutes <= 3 else LENGTHS[1] if minutes <= 8 else LENGTHS[2]


def condition_of(rec: Recording) -> dict:
    """The recording's condition fields and its length group."""
    c = asdict(rec.condition)
    c["length"] = length_bucket(c["minutes"])
    return c


FACTORS = ("level_db", "gender", "backchannels", "overlaps", "channel", "length")
COLUMNS = [
    ("DER.25", "der_0.25", "{:.3f}"),
    ("DER0", "der_0", "{:.3f}"),
    ("JER.25", "jer_0.25", "{:.3f}"),
    ("JER0", "jer_0", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("contam", "contamination", "{:.3f}"),
    ("ans/turn", "answers_per_turn_median", "{:.1f}"),
    (">1 ans", "turns_multi_answer", "{:.2f}"),
    ("turns", "n_turns", "{:.0f}"),
    ("chosen", "chosen", "{:.2f}"),
    ("RTF/core", "rtf", "{:.4f}"),
]


def group_summary(results: Sequence[Result]) -> dict[str, float]:
    """Pooled figures of the recordings that ran, with the real-time factor per core and counts."""
    ok = [r for r in results if r.scores is not None]
    out = summary([r.scores for r in ok]) if ok else {}
    out["rtf"] = _ratio(sum(r.cpu_s for r in ok), sum(r.audio_s for r in ok))
    out["n_recordings"], out["n_failed"] = len(ok), len(results) - len(ok)
    out["audio_min"] = sum(r.audio_s for r in ok) / 60
    return out


def _row(name: str, figures: dict, width: int) -> str:
    cells = [fmt.format(figures.get(key, float("nan"))).rjust(max(8, len(head))) for head, key, fmt in COLUMNS]
    return name.ljust(width) + " " + " ".join(cells)


def condition_label(r: Result) -> str:
    """``uri +6dB diff bc ov tele 4.0m`` for a two-speaker recording; the uri alone otherwise."""
    c = r.condition
    if not c:
        return r.uri
    flags = f"{'bc' if c['backchannels'] else '--'} {'ov' if c['overlaps'] else '--'}"
    return f"{r.uri} {c['level_db']:+.0f}dB {c['gender'][:4]} {flags} {c['channel'][:4]} {r.audio_s / 60:.1f}m"


def print_tables(results: Sequence[Result], by_condition: dict, overall: dict, conversation: dict | None) -> None:
    """Per recording, per condition value and pooled."""
    width = 34
    header = "".ljust(width) + " " + " ".join(head.rjust(max(8, len(head))) for head, _, _ in COLUMNS)
    print(header)
    for r in results:
        label = condition_label(r)
        print(label.ljust(width) + f" FAILED {r.error}" if r.error else _row(label, group_summary([r]), width))
    print("\nby condition (pooled over the two-speaker set)\n" + header)
    for key, groups in by_condition.items():
        for value, figures in groups.items():
            print(_row(f"{key}={value} (n={figures['n_recordings']})", figures, width))
    print(_row("ALL two-speaker", overall, width))
    if conversation:
        print(_row("conversation (real, 30 s)", conversation, width))


def target_checks(figures: dict) -> list[tuple[str, float, str, bool]]:
    """(name, value, target, met) for each of the issue's targets."""
    t = TARGETS
    rows = [
        ("contamination", "contamination", f"<= {t['contamination']}", lambda v: v <= t["contamination"]),
        ("recall", "recall", f">= {t['recall']}", lambda v: v >= t["recall"]),
        ("median answers/turn", "answers_per_turn_median", "= 1", lambda v: v == t["answers_per_turn"]),
        ("DER(0.25)", "der_0.25", f"<= {t['der']}", lambda v: v <= t["der"]),
        ("participant chosen", "chosen", f">= {t['chosen']}", lambda v: v >= t["chosen"]),
    ]
    return [(name, figures.get(key, np.nan), want, bool(ok(figures.get(key, np.nan)))) for name, key, want, ok in rows]


def target_line(source: str, spec: str, figures: dict) -> str:
    """One line: each target's value and whether it is met."""
    checks = target_checks(figures)
    parts = [f"{name} {value:.3f} ({want}: {'met' if met else 'NOT met'})" for name, value, want, met in checks]
    n, minutes = figures.get("n_recordings", 0), figures.get("audio_min", 0)
    return (
        f"source={source} {spec} ({n} recordings, {minutes:.0f} min): {'; '.join(parts)}; "
        f"RTF/core {figures.get('rtf', np.nan):.4f}; targets met {sum(c[3] for c in checks)}/{len(checks)}"
    )


def run_info() -> dict:
    """Machine, date, commit and package version of this run."""
    import interview_mil
    from interview_mil.experiment.layout import git_commit

    cpu = "unknown"
    info = Path("/proc/cpuinfo")
    if info.exists():
        cpu = next(
            (l.split(":", 1)[1].strip() for l in info.read_text().splitlines() if l.startswith("model name")), cpu
        )
    return {
        "machine": platform.node(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": git_commit(ROOT),
        "version": interview_mil.__version__,
        "python": platform.python_version(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="6 short recordings (9 min) instead of 24 (2.5 h)")
    p.add_argument("--source", default="diarize", help="turn source of segment_interview (default: diarize)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--recordings", type=Path, default=None, help="where the set is built (default runs/diarization/)")
    p.add_argument("--conversation", type=Path, default=CONVERSATION, help="folder with sample.wav and sample.rttm")
    p.add_argument("--json", type=Path, default=None, help="write every figure here")
    return p.parse_args(argv)


def by_condition(results: Sequence[Result]) -> dict[str, dict[str, dict]]:
    """``{factor: {value: pooled figures}}`` over the two-speaker results."""

    def order(value):  # lengths in their own order, other values as they sort
        return (value in LENGTHS and LENGTHS.index(value), value)

    return {
        key: {
            str(value): group_summary([r for r in results if r.condition[key] == value])
            for value in sorted({r.condition[key] for r in results}, key=order)
        }
        for key in FACTORS
    }


def result_json(r: Result) -> dict:
    """One recording's run for the JSON file."""
    row = {k: v for k, v in asdict(r).items() if k != "scores"}
    row["figures"] = group_summary([r]) if r.scores else {}
    row["der_components"] = r.scores.der if r.scores else {}
    row["answers_per_turn"] = r.scores.answers_per_turn if r.scores else []
    return row


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    spec = "quick" if args.quick else "default"
    where = args.recordings or ROOT / "runs" / "diarization" / f"recordings-{spec}-seed{args.seed}"
    started = time.perf_counter()
    recordings = load_recordings(where, spec, args.seed)
    if recordings is None:
        print(f"building the {spec} set into {where} ...", flush=True)
        recordings = build_recordings(where, spec, args.seed)
    build_s = time.perf_counter() - started
    warm = time.process_time()  # untimed calls first (model loading, lazy imports, a resampler per sample rate)
    for first in {r.sample_rate: r for r in reversed(recordings)}.values():
        segment_and_score("warm-up", first.path, read_reference(first.rttm)[0], first.duration, args.source, {})
    warm = time.process_time() - warm
    results = []
    for rec in recordings:
        ref, _ = read_reference(rec.rttm)
        results.append(segment_and_score(rec.uri, rec.path, ref, rec.duration, args.source, condition_of(rec)))
        print(f"  {rec.uri}: {results[-1].audio_s / 60:.1f} min, {results[-1].cpu_s:.1f} CPU s", flush=True)
    conv, conv_result, roles = None, None, {}
    wav, rttm = args.conversation / "sample.wav", args.conversation / "sample.rttm"
    if wav.exists() and rttm.exists():
        from interview_mil.data import audio_info

        ref, roles = read_reference(rttm)
        conv_result = segment_and_score("conversation", wav, ref, audio_info(wav).duration, args.source, {})
        conv = group_summary([conv_result])
    groups, overall = by_condition(results), group_summary(results)
    print()
    print_tables(results + ([conv_result] if conv_result else []), groups, overall, conv)
    print("\n" + target_line(args.source, spec, overall))
    if conv:
        print(f"conversation: roles {roles}; " + target_line(args.source, "conversation", conv).split(": ", 1)[1])
    seconds = time.perf_counter() - started
    print(f"(set ready in {build_s:.0f} s; warm-up call {warm:.1f} CPU s; whole run {seconds:.0f} s)")
    if args.json:
        from interview_mil.fileio import write_json

        run = {"source": args.source, "spec": spec, "seed": args.seed, "warmup_cpu_s": warm, "seconds": seconds}
        settings = {"collar_each_side_s": COLLAR, "question_min_s": QUESTION_MIN_S}
        write_json(
            args.json,
            {
                "run": run_info() | run,
                "settings": settings | {"min_answer_overlap_s": MIN_ANSWER_OVERLAP_S},
                "targets": TARGETS,
                "overall": overall,
                "by_condition": groups,
                "recordings": [result_json(r) for r in results],
                "conversation": (result_json(conv_result) | {"roles": roles}) if conv_result else None,
            },
        )
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
