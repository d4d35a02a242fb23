"""``interview-mil demo [--out DIR]``: the whole system on the built-in synthetic corpus, offline.

Generates a small synthetic interview corpus, segments it, computes prosody and (when available) Whisper
encoder features, trains an attention-MIL model, evaluates it by grouped cross-validation (mean ± sd over
seeds), scores the held-out recordings as new audio, and writes the explanation tables and HTML report.
"""

from __future__ import annotations

import argparse

from ._experiment import add_set_option

ORDER = 5


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", help="run the whole pipeline on a synthetic corpus (offline, minutes)", description=__doc__
    )
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument(
        "--encoder",
        help="speech encoder: a CTranslate2 Whisper folder or an HF id/path available "
        "offline (default: the bundled Whisper tiny.en when the whisper-ct2 extra is installed)",
    )
    p.add_argument(
        "--n-interviews", type=int, default=40, help="number of synthetic interviews, about 1 minute each (default 40)"
    )
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    add_set_option(p, "dotted override of the demo's experiment config, e.g. --set evaluation.seeds=[0] (repeatable)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    result = run_demo(
        args.out, args.encoder, args.n_interviews, args.seed, progress=not args.no_progress, overrides=args.overrides
    )
    return 1 if result["failures"] else 0
