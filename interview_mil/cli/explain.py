"""``interview-mil explain EXP --split dev --out DIR [--html]``: turn-level and interview-level explanation
tables (CSV + Parquet) for every interview of a split, made with EXP's model."""

from __future__ import annotations

import argparse
from pathlib import Path

ORDER = 60


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "explain", help="experiment stage 6: explanation tables (+ HTML report)", description=__doc__
    )
    p.add_argument("experiment", help="experiment folder with a trained model")
    p.add_argument("--split", default="dev", help="split to explain (train, dev, test or all; default dev)")
    p.add_argument("--out", help="output folder (default EXP/explain/SPLIT)")
    p.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    p.set_defaults(func=run)
    return p


SPLITS = ("train", "dev", "test", "all")


def _check_inputs(exp, args: argparse.Namespace):
    """The experiment's config and model bundle, the split name and the output folder, checked before
    the features are loaded; returns the config."""
    from ..errors import ConfigError
    from ..explain.batch_store import check_out_dir
    from ..mil.bundle import read_bundle

    config = exp.read_config()
    if args.split not in SPLITS:
        raise ConfigError(f"--split {args.split!r} is not a split", fix=f"use one of {list(SPLITS)}")
    if not exp.model.exists():
        raise ConfigError(
            "the experiment has no trained model yet",
            path=exp.model,
            fix=f"run `interview-mil train {exp.config_path} --out {exp.root}` first",
        )
    read_bundle(exp.model)  # a damaged bundle is a clear error now, not after loading every feature
    check_out_dir(args.out or exp.explain_dir(args.split))
    return config


def run(args: argparse.Namespace) -> int:
    import math

    from ..experiment import ExperimentDir, explain_split

    exp = ExperimentDir(Path(args.experiment))
    config = _check_inputs(exp, args)
    summary = explain_split(exp, config, args.split, args.out, html=args.html)
    print(f"{summary['n_interviews']} interviews explained → {summary['out']}")
    print(
        f"faithfulness: removing the top-k turns lowered the probability more than removing k random "
        f"turns in {summary['faithful_share']:.0%} of interviews"
    )
    if "precision_at_k" in summary and not math.isnan(summary["precision_at_k"]):
        print(
            f"precision@{summary['k']} of the top turns against the synthetic marker turns: "
            f"{summary['precision_at_k']:.3f} (highest reachable with these marker counts: "
            f"{summary['precision_ceiling']:.3f})"
        )
    for name, path in summary["paths"].items():
        print(f"  {name}: {path}")
    return 0
