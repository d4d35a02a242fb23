"""Shared pieces of the experiment commands (prepare, segment/featurize --exp, train, evaluate, explain)."""

from __future__ import annotations

import argparse
from pathlib import Path

_NOT_OPTIONS = {"func", "command", "verbose", "no_progress"}


def add_set_option(p: argparse.ArgumentParser, help_text: str) -> None:
    """``--set KEY=VALUE`` (repeatable, collected in ``args.overrides``): dotted config overrides."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text)


def add_config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="experiment config YAML (see recipes/*/conf/)")
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="dotted overrides, e.g. model.pooling=noisy_or evaluation.seeds=[0,1]",
    )
    p.add_argument("--out", required=True, help="experiment folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def load(args: argparse.Namespace):
    """``(ExperimentDir(--out), config from CONF + overrides)`` of a command made with ``add_config_args``."""
    from ..experiment import ExperimentDir, load_experiment_config

    return ExperimentDir(Path(args.out)), load_experiment_config(args.config, args.overrides)


def open_experiment(path: str | Path):
    """``(ExperimentDir, its resolved config)`` of an existing experiment folder (``ConfigError`` if none)."""
    from ..experiment import ExperimentDir

    exp = ExperimentDir(Path(path))
    return exp, exp.read_config()


def refuse_other_options(args: argparse.Namespace, allowed: tuple[str, ...], names: dict[str, str]) -> None:
    """``ConfigError`` naming every option given beside ``--exp`` other than ``allowed`` (argument names):
    an experiment stage takes its inputs and settings from the experiment folder."""
    from ..errors import ConfigError

    given = sorted(
        names.get(k, "--" + k.replace("_", "-"))
        for k, v in vars(args).items()
        if k not in _NOT_OPTIONS | {"exp", *allowed} and v is not None and v is not False and v != []
    )
    if given:
        raise ConfigError(
            f"--exp takes its inputs and settings from the experiment folder; {given} cannot be combined with it",
            fix="change settings in the experiment config and run it into a new EXP folder",
        )


def print_evaluation(result: dict) -> None:
    from ..experiment.training import format_evaluation

    print(format_evaluation(result))
