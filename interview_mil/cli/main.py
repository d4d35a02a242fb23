"""``interview-mil`` entry point. Subcommands are the modules of this package that define
``add_parser(subparsers)``; each sets ``func`` on its parser. ``ORDER`` sorts them in ``--help``."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import pkgutil
import sys
import warnings

from .. import SCREENING_DISCLAIMER, __version__
from ..errors import InterviewMilError


def _command_modules():
    import interview_mil.cli as package

    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in ("main",) or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "add_parser"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interview-mil",
        description="Depression screening from interview speech with multiple-instance learning over "
        "response turns. " + SCREENING_DISCLAIMER,
    )
    parser.add_argument("--version", action="version", version=f"interview-mil {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.add_parser(subparsers)
    return parser


@contextlib.contextmanager
def _plain_warnings():
    """Warnings as ``warning: <message>`` lines: a user of the command needs the message (which names the
    file), not the line of our source code that issued it."""
    original = warnings.formatwarning
    warnings.formatwarning = lambda message, category, filename, lineno, line=None: f"warning: {message}\n"
    try:
        yield
    finally:
        warnings.formatwarning = original


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _plain_warnings():
            code = args.func(args)
    except InterviewMilError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; finished work is kept on disk, rerun the same command to resume", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
