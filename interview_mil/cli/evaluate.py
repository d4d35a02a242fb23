"""``interview-mil evaluate EXP``: the experiment's evaluation (its corpus's dev split or grouped CV, as
the config says), mean ± sd over seeds with subject-bootstrap intervals, next to the interview-level
baseline; calibration (Brier, ECE, reliability.png), the three-way screen's coverage at ``--alpha``, and the
shortcut and leakage audit (audit.json / audit.md). Splits that share a participant stop it with an error."""

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
    p.add_argument(
        "--alpha",
        type=float,
        default=0.1,
        help="error rate of the three-way screen (screen negative / refer / screen positive) whose coverage is "
        "reported (0.1 and 0.2 are always reported too)",
    )
    p.add_argument("--n-boot", type=int, default=1000, help="subject-bootstrap draws for the intervals")
    p.add_argument("--no-audit", action="store_true", help="skip the shortcut and leakage audit (audit.json/.md)")
    p.add_argument(
        "--jobs", type=int, default=1, help="folds fitted in parallel worker processes (same figures; 2 on 2 cores)"
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
    from ..mil.conformal import check_alpha

    check_alpha(args.alpha)  # before any data is read
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: at least one process is needed", fix="use --jobs 1 or more")
    if args.n_boot < 100:
        raise ConfigError(f"--n-boot {args.n_boot} is too few draws for a 95 % interval", fix="use --n-boot 1000")
    result = evaluate(
        exp,
        config,
        progress=not args.no_progress,
        alpha=args.alpha,
        n_boot=args.n_boot,
        audit=not args.no_audit,
        jobs=args.jobs,
    )
    print_evaluation(result)
    written = [exp.evaluation.name, "evaluation.md", "evaluation.html", "reliability.png"]
    written += [] if args.no_audit else ["audit.json", "audit.md"]
    print(f"written in {exp.root}: {', '.join(written)}")
    return 0
