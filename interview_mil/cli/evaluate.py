"""``interview-mil evaluate EXP``: the experiment's evaluation (its corpus's dev split or grouped CV, as
the config says), mean ± sd over seeds, next to the interview-mean baseline."""

from __future__ import annotations

import argparse

ORDER = 55


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("evaluate", help="experiment stage 5: metrics, mean ± sd over seeds", description=__doc__)
    p.add_argument("experiment", help="experiment folder (written by prepare/train)")
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="evaluation.* overrides only (the model settings are the trained ones), e.g. evaluation.mode=cv "
        "evaluation.seeds=[0,1,2,3,4]",
    )
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from ..config import apply_overrides, from_dict
    from ..errors import ConfigError
    from ..experiment import ExperimentConfig, config_dict, evaluate
    from ._experiment import open_experiment, print_evaluation

    exp, config = open_experiment(args.experiment)
    if args.overrides:
        bad = [o for o in args.overrides if not o.startswith("evaluation.")]
        if bad:
            raise ConfigError(
                f"evaluate takes evaluation.* overrides only, not {bad}: the evaluation must describe the "
                f"model trained in {exp.root}",
                fix="to evaluate other model or data settings, train them into a new folder: "
                "`interview-mil train CONF model.pooling=noisy_or --out NEW_EXP`, then "
                "`interview-mil evaluate NEW_EXP`",
            )
        config = from_dict(ExperimentConfig, apply_overrides(config_dict(config), args.overrides), source="overrides")
    result = evaluate(exp, config, progress=not args.no_progress)
    print_evaluation(result)
    print(f"written: {exp.evaluation} and {exp.evaluation.with_suffix('.md')}")
    return 0
