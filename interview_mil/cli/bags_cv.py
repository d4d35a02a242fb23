"""``interview-mil bags-cv``: repeated grouped cross-validation of a MIL model on any table of instances."""

from __future__ import annotations

import argparse
import sys
import time

ORDER = 70


def _csv_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def _threshold(text: str) -> str | float:
    if text in ("f1",):
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use 'f1' or a number such as 0.5") from None


def _defaults() -> dict:
    """The engine's best-known setting on generic bags: the classifier's own architecture and optimiser
    defaults (candidate "E" of ``benchmarks/mil_benchmarks.py``) trained as a committee of five for 25
    epochs on all training bags (the ``bags-benchmark`` preset of ``mil.presets``: E+noval25+ens5, chosen on
    inner holdouts only: Musk1 0.878, Musk2 0.837, Tiger 0.839 bag accuracy in 5 × 10-fold CV)."""
    from ..mil.classifier import InterviewClassifier
    from ..mil.presets import BAGS_BENCHMARK

    return {**InterviewClassifier().get_params(), **BAGS_BENCHMARK.classifier_params()}


def add_parser(subparsers) -> argparse.ArgumentParser:
    from ..mil.pooling import POOLINGS

    p = subparsers.add_parser(
        "bags-cv",
        help="cross-validate a MIL model on a CSV/Parquet table of instances (generic bags)",
        description="Repeated stratified k-fold CV (grouped by --group-col when given) of a MIL model on a "
        "table with one row per instance, a bag id column and a bag label column. Prints mean ± standard "
        "error of bag accuracy and AUC over folds; --out writes them (accuracy_mean, accuracy_se, auc_mean, "
        "auc_se), every fold and all settings as JSON. A column named instance_label is never used as a "
        "feature.",
    )
    p.add_argument("table", help="CSV (.csv, .csv.gz) or Parquet table of instances")
    p.add_argument("--bag-col", default="bag_id")
    p.add_argument("--label-col", default="bag_label", help="0/1 (or -1/+1) bag label, the same on every row of a bag")
    p.add_argument("--group-col", default=None, help="participant id: bags of one group never straddle a split")
    cols = p.add_mutually_exclusive_group()
    cols.add_argument("--features", default=None, help="comma-separated feature columns (default: all numeric)")
    cols.add_argument("--exclude-cols", default=None, help="comma-separated columns to leave out of the features")
    p.add_argument("--pooling", default="attention", choices=POOLINGS.names())
    p.add_argument("--folds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument(
        "--seed", type=int, default=0, help="first seed: repetition r splits the bags and seeds the model with seed + r"
    )
    d = _defaults()
    p.add_argument(
        "--hidden", default=",".join(map(str, d["hidden"])), help="encoder widths, comma-separated ('' for none)"
    )
    p.add_argument("--dropout", type=float, default=d["dropout"])
    p.add_argument("--input-dropout", type=float, default=d["input_dropout"])
    p.add_argument("--lr", type=float, default=d["lr"])
    p.add_argument("--weight-decay", type=float, default=d["weight_decay"])
    p.add_argument("--batch-size", type=int, default=d["batch_size"])
    p.add_argument("--max-epochs", type=int, default=d["max_epochs"])
    p.add_argument("--patience", type=int, default=d["patience"])
    p.add_argument(
        "--val-fraction",
        type=float,
        default=d["val_fraction"],
        help="share of each training side held out (by group) for early stopping; 0 trains "
        "--max-epochs epochs on all training bags (the classic-benchmark setting uses 0 and 25)",
    )
    p.add_argument(
        "--refit",
        action=argparse.BooleanOptionalAction,
        default=d["refit"],
        help="after early stopping, retrain on all training bags for the early-stopped number of epochs",
    )
    p.add_argument(
        "--n-models",
        type=int,
        default=d["n_models"],
        help="train a committee of this many networks per fold (seeds seed..seed+n-1) and average "
        "their outputs; the classic-benchmark setting uses 5",
    )
    p.add_argument(
        "--threshold",
        type=_threshold,
        default=0.5,
        help="decision threshold: a number (default 0.5, as in the MIL literature), or 'f1' to "
        "choose it on each fold's validation split",
    )
    p.add_argument(
        "--calibration",
        choices=["platt", "none"],
        default="platt",
        help="Platt scaling of the probabilities on the validation split (none without one; default platt)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest for small models)")
    p.add_argument("--jobs", type=int, default=1, help="folds fitted in parallel worker processes (same figures)")
    p.add_argument("--out", default=None, help="write the result JSON here")
    p.add_argument("--quiet", action="store_true", help="do not print a line per fold")
    p.set_defaults(func=run)
    return p


def _check_args(args: argparse.Namespace) -> None:
    """Every option's range, before the table is read or anything is trained."""
    from ..errors import ConfigError

    at_least_one = ("folds", "repeats", "batch_size", "max_epochs", "n_models", "threads", "jobs")
    for name in at_least_one:
        if getattr(args, name) < 1:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} must be at least 1, got {getattr(args, name)}", fix=f"give {flag} 1 or more")
    if args.folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {args.folds}", fix="use --folds 2 or more (default 10)")
    ranges = {
        "val_fraction": (0 <= args.val_fraction < 1, "[0, 1) (e.g. 0.2; 0: no validation split)"),
        "dropout": (0 <= args.dropout < 1, "[0, 1)"),
        "input_dropout": (0 <= args.input_dropout < 1, "[0, 1)"),
        "lr": (args.lr > 0, "(0, inf)"),
        "weight_decay": (args.weight_decay >= 0, "[0, inf)"),
        "patience": (args.patience >= 0, "[0, inf)"),
    }
    for name, (ok, allowed) in ranges.items():
        if not ok:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} {getattr(args, name)} is outside {allowed}", fix=f"give {flag} a value in range")
    if isinstance(args.threshold, float) and not 0 <= args.threshold <= 1:
        raise ConfigError(f"--threshold {args.threshold} is outside [0, 1]", fix="give a probability, or 'f1'")


def _check_out(out: str | None) -> None:
    """``--out`` must name a JSON file that can be written (checked before the cross-validation runs)."""
    import os
    from pathlib import Path

    from ..errors import ConfigError

    if out is None:
        return
    path = Path(out)
    if path.is_dir():
        raise ConfigError(
            "--out is a folder; it names the result JSON file",
            path=path,
            fix=f"give a file name, e.g. --out {path / 'cv.json'}",
        )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError("cannot write the result here", path=path, fix="choose a writable place for --out")


def run(args: argparse.Namespace) -> int:
    from .. import __version__
    from ..errors import ConfigError
    from ..fileio import write_json
    from ..mil.evaluation import cross_validate
    from ..mil.splits import check_folds
    from ..mil.table import bags_from_table

    try:
        hidden = tuple(int(h) for h in _csv_list(args.hidden) or [])
    except ValueError:
        raise ConfigError(f"--hidden {args.hidden!r} is not a comma-separated list of integers") from None
    if any(h < 1 for h in hidden):
        raise ConfigError(f"--hidden {args.hidden!r}: every width must be at least 1", fix="e.g. --hidden 128,64")
    _check_args(args)
    _check_out(args.out)
    tb = bags_from_table(
        args.table,
        args.bag_col,
        args.label_col,
        _csv_list(args.features),
        _csv_list(args.exclude_cols) or (),
        args.group_col,
    )
    for col, why in tb.excluded.items():
        print(f"note: column {col!r} is not used as a feature ({why})", file=sys.stderr)
    check_folds(tb.y, tb.groups, args.folds, "groups" if args.group_col else "bags", source=args.table)
    print(
        f"{args.table}: {len(tb.bags)} bags ({int(tb.y.sum())} positive), "
        f"{sum(len(b) for b in tb.bags)} instances, {len(tb.feature_names)} features; "
        f"{args.repeats} × {args.folds}-fold CV with {args.pooling} pooling",
        file=sys.stderr,
    )
    params = {
        "pooling": args.pooling,
        "hidden": hidden,
        "dropout": args.dropout,
        "input_dropout": args.input_dropout,
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "batch_size": args.batch_size,
        "max_epochs": args.max_epochs,
        "patience": args.patience,
        "val_fraction": args.val_fraction,
        "refit": args.refit,
        "threshold": args.threshold,
        "n_models": args.n_models,
        "n_threads": args.threads,
        "calibration": args.calibration,
    }

    def show(r: dict) -> None:
        if not args.quiet:
            print(
                f"  repeat {r['repeat']} fold {r['fold']}: accuracy {r['accuracy']:.3f} auc {r['auc']:.3f} "
                f"({r['seconds']:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    start = time.perf_counter()
    # repetition r: split seed and model seed args.seed + r
    res = cross_validate(
        tb.bags,
        tb.y,
        tb.groups,
        params,
        folds=args.folds,
        seeds=range(args.seed, args.seed + args.repeats),
        feature_names=tb.feature_names,
        on_fold=show,
        n_jobs=args.jobs,
    )
    flat = res.flat_summary()
    print(
        f"bag accuracy {flat['accuracy_mean']:.3f} ± {flat['accuracy_se']:.3f}  "
        f"AUC {flat['auc_mean']:.3f} ± {flat['auc_se']:.3f}  "
        f"(mean ± standard error over {len(res.folds)} folds; {time.perf_counter() - start:.0f} s)"
    )
    if args.out:
        write_json(
            args.out,
            {
                **flat,
                "per_repeat": res.summary["per_repeat"],
                "settings": {
                    "table": str(args.table),
                    "bag_col": args.bag_col,
                    "label_col": args.label_col,
                    "group_col": args.group_col,
                    "features": tb.feature_names,
                    "excluded_columns": tb.excluded,
                    **res.settings,
                    "seed": args.seed,
                    "params": {**res.settings["params"], "seed": args.seed},
                },
                "package_version": __version__,
                "seconds": time.perf_counter() - start,
                "folds": res.folds,
            },
        )
        print(f"wrote {args.out}")
    return 0
