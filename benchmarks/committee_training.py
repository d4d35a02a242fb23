"""Cost of one fit of the default interview classifier: committee members trained one by one (the path
before ``mil.batched``) versus together as one batched network, in the same run.

    python benchmarks/committee_training.py [--bags 40 150] [--repeats 1]

Bags are random turn features of the default core set's width (14 columns, 8-30 turns per interview), a
planted shift in some turns of positive bags; the classifier is the recipes' default
(``experiment.config.INTERVIEW_PARAMS``: 5 members, 40 epochs, no validation split, interview head with 3
inner folds, so 20 member fits per fit). Prints seconds per fit of each path and their ratio; the
absolute times are of the machine it runs on (name it when quoting them).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from interview_mil.experiment.config import INTERVIEW_PARAMS
from interview_mil.mil import InterviewClassifier, committee
from interview_mil.mil.metrics import roc_auc


def bags_of(n: int, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 5 < 2).astype(int)
    bags = []
    for label in y:
        b = rng.normal(size=(int(rng.integers(8, 31)), 14))
        if label:
            b[rng.choice(len(b), max(1, len(b) // 6), replace=False), :3] += 1.0
        bags.append(b)
    return bags, y


def time_fit(bags, y, batched: bool, seed: int) -> tuple[float, float]:
    real = committee.can_batch
    if not batched:
        committee.can_batch = lambda *a: False  # the one-by-one path, as before mil.batched
    try:
        clf = InterviewClassifier(pooling="attention", **INTERVIEW_PARAMS, seed=seed)
        start = time.perf_counter()
        clf.fit(bags, y, groups=np.arange(len(bags)))
        seconds = time.perf_counter() - start
    finally:
        committee.can_batch = real
    test_bags, test_y = bags_of(60, seed=99)
    return seconds, roc_auc(test_y, clf.predict_proba(test_bags)[:, 1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bags", type=int, nargs="+", default=[40, 150])
    p.add_argument("--repeats", type=int, default=1)
    args = p.parse_args(argv)
    print(f"machine: {platform.processor() or platform.machine()}; default interview classifier, one fit")
    for n in args.bags:
        bags, y = bags_of(n)
        rows = {}
        for batched in (False, True):
            runs = [time_fit(bags, y, batched, seed) for seed in range(args.repeats)]
            rows[batched] = (np.mean([r[0] for r in runs]), np.mean([r[1] for r in runs]))
        (t_seq, auc_seq), (t_bat, auc_bat) = rows[False], rows[True]
        print(
            f"{n:>4} bags: one by one {t_seq:6.1f} s (held-out AUC {auc_seq:.3f}); batched {t_bat:6.1f} s "
            f"(AUC {auc_bat:.3f}); speed-up {t_seq / t_bat:.2f}x",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
