"""Calibration and conformal coverage of the default interview model on a suite cell.

    python benchmarks/calibration.py [--cell syn-few] [--seeds 0 1 2 3 4] [--work runs/suite]

Grouped stratified 5-fold CV once per seed (the suite's protocol, ``benchmarks/suite.py``; the corpus is
generated and featurized on first use), the out-of-fold predictions of all seeds pooled: Brier score and
expected calibration error (10 equal-width bins) of the calibrated probabilities next to the uncalibrated
ones, and the coverage and share referred of the split-conformal screen at alpha 0.1 and 0.2 (each fold's
screen fitted on that classifier's own held-out predictions, as a saved model does). Synthetic interviews:
a research benchmark, not a clinical result.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from suite import CELLS, CONF, cell_overrides

from interview_mil.experiment import ExperimentDir, load_experiment_config, run_missing_stages
from interview_mil.experiment.dataset import load_dataset
from interview_mil.experiment.training import classifier_params
from interview_mil.mil import cross_validate
from interview_mil.mil.conformal import cv_coverage


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cell", default="syn-few", choices=list(CELLS), help="a suite cell (default syn-few)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--work", default="runs/suite", help="corpora and experiment folders (reused)")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    work = Path(args.work).resolve()
    config = load_experiment_config(CONF, cell_overrides(args.cell, work))
    exp = ExperimentDir(work / f"exp_{args.cell}_{'encoder' if config.features.encoder else 'prosody'}")
    run_missing_stages(exp, config, progress=False)
    data = load_dataset(exp, config)
    lab = data.indices(None)
    start = time.perf_counter()
    res = cross_validate(
        data.X(lab),
        data.labels(lab),
        data.groups(lab),
        classifier_params(config),
        folds=5,
        seeds=args.seeds,
        feature_names=data.feature_names,
        n_jobs=args.jobs,
    )
    print("Synthetic or manipulated speech; research benchmark, not a clinical result.", file=sys.stderr)
    auc = res.seed_summary["auc"]
    print(f"{args.cell}: {len(lab)} interviews, {len(res.folds)} fits in {time.perf_counter() - start:.0f} s")
    print(f"bag AUC {auc['mean']:.3f} ± {auc['sd']:.3f} (mean ± sd over seeds)")
    for name, key in (("calibrated", "calibration"), ("uncalibrated", "calibration_uncalibrated")):
        cal = res.summary.get(key)
        if cal:
            print(f"{name:>12}: Brier {cal['brier']:.3f}  ECE {cal['ece']:.3f}  ({cal['n']} pooled predictions)")
    for alpha in (0.1, 0.2):
        c = cv_coverage(res.predictions, alpha)
        print(f"alpha {alpha}: coverage {c['coverage']:.3f} (target {1 - alpha:.2f}), referred {c['referred']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
