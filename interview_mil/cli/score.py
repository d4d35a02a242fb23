"""``interview-mil score MODEL AUDIO... --out DIR``: screen new recordings with a trained model bundle.

Runs the segmentation and features the model was trained with (read from the bundle), prints a short
summary per recording and writes DIR/interviews.csv and DIR/turns.csv (and Parquet; --html adds
DIR/report.html). ``--transcript``/``--rttm``/``--file-id`` are given once per AUDIO, in the same order.

Every input and DIR are checked before any work. Each recording is saved in DIR/per_recording/ as soon as
it is done, so a stopped batch resumes: run the same command again and finished recordings are reused,
not recomputed. A recording that fails is a row with status "failed" and its reason in interviews.csv;
the others are still scored, and a failure never replaces an earlier good result in DIR. The tables hold
every recording scored into DIR (by this model). ``--engine ray [--address ADDR] [--workers N]`` scores
on a Ray cluster: N actors each load the model once, and this process saves each recording into DIR as
above (docs/scaling.md). Research screening aid, not a diagnosis.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    p.add_argument(
        "--file-id",
        action="append",
        default=[],
        help="the recording's id in an STM/RTTM file that holds several recordings, for each AUDIO, in order "
        "(default: the id named after the audio file)",
    )
    p.add_argument("--channel", type=int, help="channel holding the participant (stereo recordings)")
    p.add_argument("--out", required=True, help="output folder (resumable: rerun the same command to finish it)")
    p.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    p.add_argument("--device", help="device for the speech encoder (cpu, cuda)")
    p.add_argument("--top-k", type=int, default=3, help="top turns printed per recording")
    p.add_argument(
        "--alpha",
        type=float,
        help="error rate of the three-way decision (screen negative / refer / screen positive); default: the one "
        "saved with the model",
    )
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        help="where recordings are scored: local (this process, the default) or ray (a pool of --workers Ray "
        "actors, each loading the model once; needs pip install 'interview-mil[ray]'; docs/scaling.md)",
    )
    p.add_argument(
        "--address",
        help="Ray cluster to join (auto, HEAD_IP:6379; implies --engine ray); default with --engine ray: "
        "$RAY_ADDRESS, else a Ray started on this machine for the run",
    )
    p.add_argument("--workers", type=int, help="--engine ray: scoring actors (default 1)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)
    return p


# Exit codes of `score` (README, "Score a recording"): 0 every recording scored; 1 at least one failed (the
# rest were scored); 2 nothing was done (a usage or input error found before any work); 3 none failed but the
# input quality gate refused at least one (not speech, too little speech, clipped: no probability given).
EXIT_FAILED, EXIT_REFUSED = 1, 3


def _per_audio(values: list[str], n: int, flag: str) -> list:
    from ..errors import ConfigError

    if not values:
        return [None] * n
    if len(values) != n:
        raise ConfigError(
            f"{len(values)} {flag} file(s) for {n} recording(s)", fix=f"give {flag} once per AUDIO, in the same order"
        )
    return values


def _runner(args: argparse.Namespace):
    """None (score in this process) or the ``RayRunner`` the options ask for; checked before any work."""
    from ..errors import ConfigError

    if args.engine == "local" or (args.engine is None and args.address is None):
        for flag, value in (("--address", args.address), ("--workers", args.workers)):
            if value is not None:
                raise ConfigError(f"{flag} goes with --engine ray (a Ray cluster)", fix="add --engine ray")
        return None
    from ..explain.batch_ray import RayRunner, require_ray

    require_ray()  # the install hint now, before any input is read
    return RayRunner(args.model, workers=1 if args.workers is None else args.workers, address=args.address)


def run(args: argparse.Namespace) -> int:
    from .. import SCREENING_DISCLAIMER
    from ..errors import ConfigError
    from ..explain.batch_jobs import check_jobs
    from ..explain.batch_store import check_out_dir
    from ..pipeline import ScreeningPipeline

    n = len(args.audio)
    if args.top_k < 1:
        raise ConfigError(f"--top-k must be at least 1, got {args.top_k}", fix="e.g. --top-k 3")
    transcripts = _per_audio(args.transcript, n, "--transcript")
    rttms = _per_audio(args.rttm, n, "--rttm")
    file_ids = _per_audio(args.file_id, n, "--file-id")
    jobs = [
        {"audio": a, "transcript": t, "rttm": r, "participant": args.participant, "channel": args.channel}
        | ({} if f is None else {"file_id": f})
        for a, t, r, f in zip(args.audio, transcripts, rttms, file_ids)
    ]
    runner = _runner(args)
    if args.device is not None:
        from ..features.encoders.loading import check_device

        check_device(args.device)
    if args.alpha is not None:
        from ..mil.conformal import check_alpha

        check_alpha(args.alpha)
    check_jobs(jobs)  # every input file, before the model is even loaded
    check_out_dir(args.out)  # made only once the model has loaded
    pipe = ScreeningPipeline.from_pretrained(args.model, device=args.device, alpha=args.alpha)
    result = pipe.score_batch(
        jobs,
        args.out,
        html=args.html,
        title="interview_mil screening report",
        progress=not args.no_progress,
        model_name=str(args.model),
        runner=runner,
    )
    reused = {Path(a).resolve() for a in result.reused}
    for item in result.items:
        if item.row.status != "failed":  # scored, or refused by the input quality gate (with its reasons)
            again = Path(item.audio_path).resolve() in reused
            print(("(reused: the same audio and model scored earlier) " if again else "") + item.summary(args.top_k))
    print(SCREENING_DISCLAIMER)
    ok = sum(item.row.status == "ok" for item in result.items)
    print(
        f"{ok} of {n} recordings scored ({len(result.scored)} now, {len(result.reused)} reused from an earlier "
        f"run) → {args.out}"
        + (f"; the tables also keep {result.n_earlier} recording(s) scored earlier into it" if result.n_earlier else "")
    )
    for name, path in result.paths.items():
        print(f"  {name}: {path}")
    refused = [item for item in result.items if item.row.status not in ("ok", "failed")]
    if refused:
        print(f"{len(refused)} refused by the input quality gate (not scored; the reason is in quality_reason):")
        for item in refused:
            print(f"  {item.audio_path}: {item.row.quality_reason}")
    if result.failures:
        print(f"{len(result.failures)} failed (rows with status 'failed' in interviews.csv):", file=sys.stderr)
        for audio, reason in result.failures.items():
            print(f"  {audio}: {reason}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_REFUSED if refused else 0
