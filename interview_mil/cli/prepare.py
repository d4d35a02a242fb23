"""``interview-mil prepare CONF --out EXP``: write the experiment's config files and interview manifest
(the synthetic corpus is generated first when its folder does not exist)."""

from __future__ import annotations

import argparse

ORDER = 30


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ._experiment import add_config_args

    p = subparsers.add_parser(
        "prepare", help="experiment stage 1: corpus → interview manifest with splits", description=__doc__
    )
    add_config_args(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..experiment import prepare
    from ._experiment import load

    exp, config = load(args)
    interviews = prepare(exp, config, progress=not args.no_progress)
    splits: dict[str, int] = {}
    for i in interviews:
        splits[str(i.split)] = splits.get(str(i.split), 0) + 1
    print(
        f"{len(interviews)} interviews ({', '.join(f'{k}: {v}' for k, v in sorted(splits.items()))}) → {exp.manifest}"
    )
    print(f"next: interview-mil segment --exp {exp.root}")
    return 0
