"""Train the experiment's model bundle and evaluate the setting honestly (mean ± sd over seeds).

``train``: one model on ``evaluation.train_splits`` with the first seed → ``EXP/model/``; the bundle
carries the ``FeatureRecipe`` (segmentation and feature settings), so ``score`` reruns them on new
recordings, and the classifier carries everything it fitted (embedding projection, scaling, threshold).
``evaluate``: the one cross-validation harness of the MIL engine (``mil.cross_validate``, also behind
``bags-cv``) over the experiment's bags: ``dev`` mode trains one model per seed on the training splits and
scores the evaluation split; ``cv`` mode runs stratified grouped k-fold CV over the labelled interviews of
``cv_splits``, once per seed. Splits are by participant. Every seed is reported, then mean ± sd; no run
is ever picked.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from .. import SCREENING_DISCLAIMER
from ..errors import FeatureError
from ..features import FeatureRecipe
from ..features.recipe import RECIPE_KEY
from ..fileio import write_json, write_text
from .audit_report import format_evaluation
from .config import ExperimentConfig
from .dataset import Dataset, dataset_truth, load_dataset
from .layout import ExperimentDir, git_commit

log = logging.getLogger(__name__)

REPORTED = ("auc", "balanced_accuracy", "f1_depressed", "f1_control", "macro_f1", "sensitivity", "specificity")
DEFAULT_ALPHA = 0.1  # error rate of the three-way screen unless the user chooses one
N_BOOT = 1000  # subject-bootstrap draws


def classifier_params(config: ExperimentConfig) -> dict:
    """``InterviewClassifier`` keyword arguments of the config (the seed comes from the evaluation)."""
    return {"pooling": config.model.pooling, "embedding_pcs": config.model.embedding_pcs, **config.model.params}


def feature_recipe(config: ExperimentConfig) -> FeatureRecipe:
    """How the experiment's turns and features are made: what ``score`` must redo on a new recording."""
    return FeatureRecipe(
        segmentation=config.segmentation,
        features=config.features,
        parts=tuple(config.model.parts),
        top_k=config.explain.top_k,
    )


def _check_trainable(data: Dataset, idx: np.ndarray, what: str) -> None:
    y = data.labels(idx)
    if len(idx) < 4 or len(np.unique(y)) < 2:
        raise FeatureError(
            f"{what}: {len(idx)} labelled interviews with classes {sorted(set(y.tolist()))}",
            fix="a model needs labelled interviews of both classes in the training splits",
        )


def train(exp: ExperimentDir, config: ExperimentConfig, data: Dataset | None = None, alpha: float = DEFAULT_ALPHA):
    """Fit the model on the training splits and save the bundle in ``EXP/model``; returns the classifier.
    ``alpha``: the error rate of the three-way screen (``mil.conformal``), fitted on the classifier's
    out-of-fold predictions of its training bags and saved in the bundle metadata."""
    from ..mil import InterviewClassifier
    from ..mil.conformal import METADATA_KEY, ConformalScreen, check_alpha, classifier_calibration

    alpha = check_alpha(alpha)

    data = data or load_dataset(exp, config)
    idx = data.indices(config.evaluation.train_splits)
    _check_trainable(data, idx, f"splits {list(config.evaluation.train_splits)}")
    clf = InterviewClassifier(**classifier_params(config), seed=config.evaluation.seeds[0])
    start = time.perf_counter()
    clf.fit(data.X(idx), data.labels(idx), data.groups(idx), data.phq(idx), data.feature_names)
    meta = {
        RECIPE_KEY: feature_recipe(config).to_dict(),
        "experiment": config.name,
        "corpus": config.corpus.name,
        "dropped_columns": data.dropped_columns,
        "train_splits": list(config.evaluation.train_splits),
        "n_train_interviews": int(len(idx)),
        "git_commit": git_commit(),
    }
    cal = classifier_calibration(clf)
    meta[METADATA_KEY] = None if cal is None else ConformalScreen.fit(*cal, alpha).to_dict()
    clf.save(exp.model, metadata=meta)
    exp.record(
        "train",
        n_train=int(len(idx)),
        seconds=round(time.perf_counter() - start, 2),
        threshold=float(clf.threshold_),
        skipped=data.skipped,
        dropped_columns=data.dropped_columns,
    )
    return clf


def _splitter(config: ExperimentConfig, data: Dataset, labelled: np.ndarray):
    """``seed -> [(train, test), ...]`` as positions into ``labelled`` (the labelled bags' positions)."""
    from ..mil import stratified_group_kfold

    ev = config.evaluation
    where = {int(k): i for i, k in enumerate(labelled)}

    def local(idx: np.ndarray) -> np.ndarray:
        return np.asarray([where[int(k)] for k in idx], dtype=int)

    def folds(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        if ev.mode == "dev":
            train, test = data.indices(ev.train_splits), data.indices([ev.eval_split])
            if len(test) == 0:
                raise FeatureError(
                    f"no labelled interviews in split {ev.eval_split!r}",
                    fix="set evaluation.eval_split, or use evaluation.mode=cv",
                )
            pairs = [(train, test)]
        else:
            pool = data.indices(ev.cv_splits)
            pairs = [
                (pool[a], pool[b])
                for a, b in stratified_group_kfold(data.labels(pool), data.groups(pool), ev.folds, seed)
            ]
        for train, _ in pairs:
            _check_trainable(data, train, f"seed {seed}")
        return [(local(a), local(b)) for a, b in pairs]

    return folds


def evaluate_dataset(
    data: Dataset,
    config: ExperimentConfig,
    truth=None,
    progress: bool = True,
    alpha: float = DEFAULT_ALPHA,
    n_boot: int = N_BOOT,
    keep: dict | None = None,
    jobs: int = 1,
) -> dict:
    """Per-seed metrics and mean ± sd over seeds for ``config.model`` on ``data`` (nothing written), with
    subject-bootstrap intervals, calibration and the three-way screen's coverage at ``alpha`` (and at 0.1
    and 0.2). ``truth``: ground-truth marker flags per bag of ``data`` (adds turn-localisation AUC);
    ``keep``: when given, receives the cross-validation's ``CVResult``, positions and splitter (the audit
    reads them); ``jobs``: folds fitted in that many worker processes (the same figures)."""
    from ..mil import cross_validate
    from ..mil.conformal import check_alpha

    alpha = check_alpha(alpha)

    ev = config.evaluation
    lab = data.indices(None)

    def show(record: dict) -> None:
        if progress:
            log.info("seed %d fold %d: AUC %.3f", record["seed"], record["fold"], record["auc"])

    splitter = _splitter(config, data, lab)
    res = cross_validate(
        data.X(lab),
        data.labels(lab),
        data.groups(lab),
        classifier_params(config),
        seeds=tuple(ev.seeds),
        splitter=splitter,
        phq=data.phq(lab),
        gender=data.gender(lab),
        feature_names=data.feature_names,
        instance_truth=None if truth is None else [truth[k] for k in lab],
        baseline=ev.baseline,
        on_fold=show,
        n_jobs=jobs,
    )
    per_seed = []
    for record in res.per_seed:
        seed_folds = [f for f in res.folds if f["seed"] == record["seed"]]
        per_seed.append({**record, "folds": seed_folds})
    names = REPORTED + ("localisation_auc",)
    n_eval = len(data.indices([ev.eval_split])) if ev.mode == "dev" else len(data.indices(ev.cv_splits))
    base = res.baseline_seed_summary
    if keep is not None:
        keep.update(result=res, lab=lab, splitter=splitter)
    return {
        **uncertainty_summary(res, alpha, n_boot),
        "experiment": config.name,
        "mode": ev.mode,
        "pooling": config.model.pooling,
        "parts": list(config.model.parts),
        "n_interviews": len(data.bags),
        "n_evaluated": int(n_eval),
        "seeds": per_seed,
        "summary": {n: res.seed_summary[n] for n in names if n in res.seed_summary},
        "baseline_summary": None if base is None else {n: base[n] for n in REPORTED if n in base},
        "phq8": {
            f"{who}_{m}": res.seed_summary[f"{key}_{m}"]
            for who, key in (("model", "phq8"), ("trivial", "phq8_trivial"))
            for m in ("rmse", "mae", "ccc")
            if f"{key}_{m}" in res.seed_summary
        }
        or None,
        "seconds_per_fit": res.summary.get("seconds_total", float("nan")) / max(1, len(res.folds)),
        "skipped": data.skipped,
        "dropped_columns": data.dropped_columns,
        "disclaimer": SCREENING_DISCLAIMER,
    }


def evaluate(
    exp: ExperimentDir,
    config: ExperimentConfig,
    progress: bool = True,
    alpha: float = DEFAULT_ALPHA,
    n_boot: int = N_BOOT,
    audit: bool = True,
    jobs: int = 1,
) -> dict:
    """``evaluate_dataset`` on the experiment's data, then the shortcut and leakage audit on the same
    folds; writes ``evaluation.json``/``.md``/``.html``, ``reliability.png``, ``audit.json``/``.md``."""
    from ..explain.report import write_reliability_png
    from .audit import run_audit
    from .audit_report import format_audit, render_evaluation_html

    data = load_dataset(exp, config)
    kept: dict = {}
    result = evaluate_dataset(data, config, dataset_truth(data, config), progress, alpha, n_boot, kept, jobs)
    findings = None
    if audit:
        res, lab = kept["result"], kept["lab"]
        seeds = res.settings["seeds"]
        findings = run_audit(exp, data, lab, res.predictions, seeds, kept["splitter"], n_boot, data.gender(lab))
        write_json(exp.root / "audit.json", findings)
        write_text(exp.root / "audit.md", format_audit(findings))
        result["audit_flags"] = findings["flags"]
    write_json(exp.evaluation, result)
    write_text(exp.evaluation.with_suffix(".md"), format_evaluation(result))
    write_reliability_png(result["calibration"], exp.root / "reliability.png", result.get("calibration_uncalibrated"))
    write_text(exp.evaluation.with_suffix(".html"), render_evaluation_html(result, findings))
    exp.record("evaluate", auc_mean=result["summary"]["auc"]["mean"], audit_flags=len(result.get("audit_flags", [])))
    return result


def uncertainty_summary(res, alpha: float, n_boot: int) -> dict:
    """Subject-bootstrap intervals of every reported metric on the pooled out-of-fold predictions of all
    seeds, the baseline's win rate against the model, calibration and the screen's coverage."""
    from ..mil.bootstrap import bootstrap_ci, oof_stat, phq_stat, win_rate
    from ..mil.conformal import cv_coverage

    P = res.predictions
    y, groups, n = P["y"], P["groups"], len(P["y"])
    stat = oof_stat(y, P["prob"], P["pred"])
    intervals = bootstrap_ci(stat, groups, n, n_boot)
    if P.get("phq") is not None and P.get("phq_true") is not None:
        intervals.update(bootstrap_ci(phq_stat(P["phq_true"], P["phq"]), groups, n, n_boot))
    out = {"alpha": alpha, "n_boot": n_boot, "intervals": intervals, "calibration": res.summary["calibration"]}
    out["calibration_uncalibrated"] = res.summary.get("calibration_uncalibrated")
    if P.get("baseline") is not None:
        base = P["baseline"]
        base_stat = oof_stat(y, base, np.where(np.isfinite(base), base >= 0.5, 0))
        out["baseline_intervals"] = bootstrap_ci(base_stat, groups, n, n_boot)
        out["model_beats_baseline"] = win_rate(stat, base_stat, groups, n, n_boot)
    out["conformal"] = [cv_coverage(P, a) for a in sorted({alpha, 0.1, 0.2})]
    return out
