"""``interview-mil train CONF [KEY=VALUE ...] --out EXP``: train the model bundle into EXP/model.

Stages not yet run in EXP (prepare, segment, featurize) are run first with the same config; finished
stages are reused. The resolved config, package version and git commit are saved in EXP.
"""

from __future__ import annotations

import argparse

ORDER = 50


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ._experiment import add_config_args

    p = subparsers.add_parser(
        "train",
        help="experiment stage 4: train the MIL model (runs missing stages first)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_args(p)
    p.add_argument("--workers", type=int, default=1, help="processes for prosody features (when featurizing)")
    p.add_argument("--device", help="device for the speech encoder (cpu, cuda)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..experiment import run_missing_stages, train
    from ._experiment import load

    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}", fix="e.g. --workers 2")
    exp, config = load(args)  # the whole config is checked here, before any stage runs
    run_missing_stages(exp, config, workers=args.workers, device=args.device, progress=not args.no_progress)
    clf = train(exp, config)
    print(
        f"model ({config.model.pooling} pooling, {clf.n_features_in_} features, threshold "
        f"{clf.threshold_:.3f}) → {exp.model}"
    )
    print(f"next: interview-mil evaluate {exp.root}")
    return 0
