"""``interview-mil score MODEL AUDIO... --out DIR``: screen new recordings with a trained model bundle.

Runs the segmentation and features the model was trained with (read from the bundle), prints a short
summary per recording and writes DIR/interviews.csv and DIR/turns.csv (and Parquet; --html adds
DIR/report.html). ``--transcript``/``--rttm`` are given once per AUDIO, in the same order. Failures are
listed at the end and the other recordings are still scored. Research screening aid, not a diagnosis.
"""

from __future__ import annotations

import argparse
import sys

ORDER = 65


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "score",
        help="screen new recordings with a trained model",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model bundle folder (EXP/model)")
    p.add_argument("audio", nargs="+", help="recordings (any format libsndfile reads)")
    p.add_argument(
        "--transcript",
        action="append",
        default=[],
        help="transcript (DAIC-WOZ/E-DAIC CSV or STM) for each AUDIO, in order (repeat the option)",
    )
    p.add_argument("--rttm", action="append", default=[], help="RTTM file for each AUDIO, in order")
    p.add_argument("--participant", help="participant speaker name in the STM/RTTM files")
    p.add_argument("--channel", type=int, help="channel holding the participant (stereo recordings)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    p.add_argument("--device", help="device for the speech encoder (cpu, cuda)")
    p.add_argument("--top-k", type=int, default=3, help="top turns printed per recording")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)
    return p


def _per_audio(values: list[str], n: int, flag: str) -> list:
    from ..errors import ConfigError

    if not values:
        return [None] * n
    if len(values) != n:
        raise ConfigError(
            f"{len(values)} {flag} file(s) for {n} recording(s)", fix=f"give {flag} once per AUDIO, in the same order"
        )
    return values


def run(args: argparse.Namespace) -> int:
    from .. import SCREENING_DISCLAIMER
    from ..explain import write_tables
    from ..pipeline import ScreeningPipeline

    n = len(args.audio)
    transcripts = _per_audio(args.transcript, n, "--transcript")
    rttms = _per_audio(args.rttm, n, "--rttm")
    pipe = ScreeningPipeline.from_pretrained(args.model, device=args.device)
    jobs = [
        {"audio": a, "transcript": t, "rttm": r, "participant": args.participant, "channel": args.channel}
        for a, t, r in zip(args.audio, transcripts, rttms)
    ]
    results, failures = pipe.apply_many(jobs, progress=not args.no_progress)
    for result in results:
        print(result.summary(args.top_k))
    paths = write_tables(results, args.out, html=args.html, title="interview_mil screening report")
    print(SCREENING_DISCLAIMER)
    print(f"{len(results)} of {n} recordings scored → {args.out}")
    for name, path in paths.items():
        print(f"  {name}: {path}")
    if failures:
        print(f"{len(failures)} failed:", file=sys.stderr)
        for audio, message in failures.items():
            print(f"  {audio}: {message}", file=sys.stderr)
        return 1
    return 0
