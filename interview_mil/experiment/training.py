"""Train the experiment's model bundle and evaluate the setting honestly (mean ± sd over seeds).

``train``: one model on ``evaluation.train_splits`` with the first seed → ``EXP/model/`` (the bundle
carries the segmentation and feature settings, so ``score`` can rerun them on new recordings).
``evaluate``: ``dev`` mode trains one model per seed on the training splits and scores the evaluation
split; ``cv`` mode runs stratified grouped k-fold CV over the labelled interviews, once per seed. Splits
are by participant. Every seed is reported, then mean ± sd; no run is ever picked.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .. import SCREENING_DISCLAIMER
from ..config import to_dict
from ..errors import FeatureError
from ..fileio import write_json, write_text
from .config import ExperimentConfig
from .dataset import Dataset, load_dataset, marker_truth, synthetic_truth_table
from .layout import ExperimentDir, git_commit
from .projection import fit_projection, project

log = logging.getLogger(__name__)

REPORTED = ("auc", "balanced_accuracy", "f1_depressed", "f1_control", "macro_f1", "sensitivity", "specificity")


def make_classifier(config: ExperimentConfig, seed: int):
    from ..mil import InterviewClassifier

    return InterviewClassifier(pooling=config.model.pooling, seed=seed, **config.model.params)


def model_metadata(config: ExperimentConfig, data: Dataset, idx: np.ndarray) -> dict:
    """What ``score`` needs to treat a new recording exactly like the training data."""
    return {"experiment": config.name, "corpus": config.corpus.name,
            "segmentation": to_dict(config.segmentation), "features": to_dict(config.features),
            "parts": list(config.model.parts), "feature_names": data.feature_names,
            "dropped_columns": data.dropped_columns,
            "train_splits": list(config.evaluation.train_splits), "n_train_interviews": int(len(idx)),
            "git_commit": git_commit(), "top_k": config.explain.top_k}


def _check_trainable(data: Dataset, idx: np.ndarray, what: str) -> None:
    y = data.labels(idx)
    if len(idx) < 4 or len(np.unique(y)) < 2:
        raise FeatureError(f"{what}: {len(idx)} labelled interviews with classes {sorted(set(y.tolist()))}",
                           fix="a model needs labelled interviews of both classes in the training splits")


def train(exp: ExperimentDir, config: ExperimentConfig, data: Dataset | None = None):
    """Fit the model on the training splits and save the bundle in ``EXP/model``; returns the classifier."""
    data = data or load_dataset(exp, config)
    idx = data.indices(config.evaluation.train_splits)
    _check_trainable(data, idx, f"splits {list(config.evaluation.train_splits)}")
    clf = make_classifier(config, config.evaluation.seeds[0])
    start = time.perf_counter()
    proj = fit_projection(data.subset_bags(idx), data.feature_names, config.model.embedding_pcs)
    names = data.feature_names if proj is None else proj.output_names
    clf.fit(project(data.subset_bags(idx), proj), data.labels(idx), data.groups(idx), data.phq(idx), names)
    meta = model_metadata(config, data, idx)
    meta["projection"] = None if proj is None else proj.to_dict()
    clf.save(exp.model, metadata=meta)
    exp.record("train", n_train=int(len(idx)), seconds=round(time.perf_counter() - start, 2),
               threshold=float(clf.threshold_), skipped=data.skipped, dropped_columns=data.dropped_columns)
    return clf


def _localisation(clf, data: Dataset, idx: np.ndarray, bags, truth) -> float:
    """Turn-localisation AUC over the positive interviews: weight × n_turns vs. the marker turns."""
    from ..mil import localisation_auc

    if truth is None:
        return float("nan")
    explanations = clf.explain(bags)
    scores = [e.weights * len(e.weights) for e in explanations]
    flags = [marker_truth(truth, data.interviews[k].interview_id, data.turns[k]) for k in idx]
    return localisation_auc(scores, flags, data.labels(idx))


def _fold_record(clf, data: Dataset, test: np.ndarray, bags, truth, baseline) -> dict:
    from ..mil import binary_metrics

    y = data.labels(test)
    prob = clf.predict_proba(bags)[:, 1]
    record = {k: v for k, v in binary_metrics(y, prob, clf.threshold_).items()}
    record["threshold"] = float(clf.threshold_)
    record["localisation_auc"] = _localisation(clf, data, test, bags, truth)
    if baseline is not None:
        base = binary_metrics(y, baseline.predict_proba(bags)[:, 1], 0.5)
        record["baseline"] = {k: base[k] for k in REPORTED if k in base}
    return record


def _folds(config: ExperimentConfig, data: Dataset, seed: int):
    """(train, test) position arrays of one seed."""
    ev = config.evaluation
    if ev.mode == "dev":
        train, test = data.indices(ev.train_splits), data.indices([ev.eval_split])
        if len(test) == 0:
            raise FeatureError(f"no labelled interviews in split {ev.eval_split!r}",
                               fix="set evaluation.eval_split, or use evaluation.mode=cv")
        yield train, test
        return
    from ..mil import stratified_group_kfold

    pool = data.indices(ev.cv_splits)
    for fold_train, fold_test in stratified_group_kfold(data.labels(pool), data.groups(pool), ev.folds, seed):
        yield pool[fold_train], pool[fold_test]


def _summary(records: list[dict], key: str | None = None) -> dict:
    from ..mil import summarize

    names = REPORTED + (("localisation_auc",) if key is None else ())
    pick = (lambda r: r) if key is None else (lambda r: r.get(key, {}))
    return {n: summarize([pick(r).get(n, np.nan) for r in records]) for n in names}


def evaluate_dataset(data: Dataset, config: ExperimentConfig, truth=None, progress: bool = True) -> dict:
    """Per-seed metrics and mean ± sd over seeds for ``config.model`` on ``data`` (nothing written).
    ``truth``: the synthetic corpus's ground-truth turns (adds turn-localisation AUC)."""
    from ..mil import interview_mean_baseline, summarize

    per_seed = []
    for seed in config.evaluation.seeds:
        folds = []
        for train_idx, test_idx in _folds(config, data, seed):
            _check_trainable(data, train_idx, f"seed {seed}")
            clf = make_classifier(config, seed)
            proj = fit_projection(data.subset_bags(train_idx), data.feature_names, config.model.embedding_pcs)
            names = data.feature_names if proj is None else proj.output_names
            train_bags = project(data.subset_bags(train_idx), proj)
            clf.fit(train_bags, data.labels(train_idx), data.groups(train_idx), data.phq(train_idx), names)
            baseline = None
            if config.evaluation.baseline:
                baseline = interview_mean_baseline(train_bags, data.labels(train_idx), feature_names=names, seed=seed)
            folds.append(_fold_record(clf, data, test_idx, project(data.subset_bags(test_idx), proj), truth,
                                      baseline))
        seed_record = {"seed": seed, "folds": folds,
                       **{n: summarize([f.get(n, np.nan) for f in folds])["mean"]
                          for n in REPORTED + ("localisation_auc",)}}
        if config.evaluation.baseline:
            seed_record["baseline"] = {n: summarize([f["baseline"][n] for f in folds])["mean"] for n in REPORTED}
        per_seed.append(seed_record)
        if progress:
            log.info("seed %d: AUC %.3f, balanced accuracy %.3f", seed, seed_record["auc"],
                     seed_record["balanced_accuracy"])
    ev = config.evaluation
    n_eval = len(data.indices([ev.eval_split])) if ev.mode == "dev" else len(data.indices(ev.cv_splits))
    return {"experiment": config.name, "mode": ev.mode, "pooling": config.model.pooling,
            "parts": list(config.model.parts), "n_interviews": len(data.interviews), "n_evaluated": int(n_eval),
            "seeds": per_seed, "summary": _summary(per_seed),
            "baseline_summary": _summary(per_seed, "baseline") if ev.baseline else None,
            "skipped": data.skipped, "dropped_columns": data.dropped_columns, "disclaimer": SCREENING_DISCLAIMER}


def evaluate(exp: ExperimentDir, config: ExperimentConfig, progress: bool = True) -> dict:
    """``evaluate_dataset`` on the experiment's data; writes ``evaluation.json`` and ``evaluation.md``."""
    data = load_dataset(exp, config)
    truth = synthetic_truth_table(config.corpus.root) if config.corpus.name == "synthetic" else None
    result = evaluate_dataset(data, config, truth, progress)
    write_json(exp.evaluation, result)
    write_text(exp.evaluation.with_suffix(".md"), format_evaluation(result))
    exp.record("evaluate", auc_mean=result["summary"]["auc"]["mean"])
    return result


def format_evaluation(result: dict) -> str:
    """A plain-text table of mean ± sd over seeds (MIL model and, when run, the interview-mean baseline)."""
    n_seeds = len(result["seeds"])
    where = "dev split" if result["mode"] == "dev" else "grouped cross-validation"
    lines = [f"# {result['experiment']}: {result['pooling']} pooling on {'+'.join(result['parts'])} features",
             f"{where}, {result['n_evaluated']} interviews, mean ± sd over {n_seeds} seed(s)", "",
             "| metric | MIL model | interview-mean baseline |", "|---|---|---|"]
    base = result.get("baseline_summary") or {}
    for name, stats in result["summary"].items():
        b = base.get(name)
        b_text = f"{b['mean']:.3f} ± {b['sd']:.3f}" if b and np.isfinite(b["mean"]) else "–"
        sd = f"{stats['sd']:.3f}" if np.isfinite(stats["sd"]) else "n/a"
        m = f"{stats['mean']:.3f} ± {sd}" if np.isfinite(stats["mean"]) else "–"
        lines.append(f"| {name} | {m} | {b_text} |")
    lines += ["", SCREENING_DISCLAIMER, ""]
    return "\n".join(lines)
