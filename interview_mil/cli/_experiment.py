"""Shared pieces of the experiment commands (prepare, train, evaluate, explain)."""

from __future__ import annotations

import argparse


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="experiment config YAML (see recipes/*/conf/)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="dotted overrides, e.g. model.pooling=noisy_or evaluation.seeds=[0,1]")
    p.add_argument("--out", required=True, help="experiment folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def load(args: argparse.Namespace):
    from ..experiment import ExperimentDir, load_experiment_config

    return ExperimentDir(__import__("pathlib").Path(args.out)), load_experiment_config(args.config, args.overrides)


def print_evaluation(result: dict) -> None:
    from ..experiment.training import format_evaluation

    print(format_evaluation(result))
