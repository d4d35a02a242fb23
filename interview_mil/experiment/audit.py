"""The evaluation audits itself: could something other than how the participant speaks explain the figures?

Run by ``evaluate`` on the same interviews and the same folds as the model (``audit.json``/``audit.md``):

- **participant overlap** between the training and the evaluation side of every split: an error that
  stops ``evaluate`` before any training (``mil.cv_checks.check_participants``); the audit records that
  it was checked.
- **control models** (mean, sd, 10th and 90th percentile of each control column per interview, standardised,
  L2 logistic regression) fitted on the same folds and seeds as the model, on the interview's structure,
  which should not predict depression: ``position_timing`` (each turn's index, the number of turns, its
  start relative to the interview's end and its share of the interview's turn time) and ``interviewer``
  (each interviewer span's index, the number of spans, its relative start and its duration; only where
  the source names the interviewer). Timing is relative so that a participant's own slowness (a vocal
  marker: long latencies and pauses lengthen an interview) does not count as a shortcut; the absolute
  ``interview_length`` is reported beside them, never flagged. A control is **flagged** when its AUC
  reaches the main model's subject-bootstrap interval (control AUC ≥ the interval's lower end) while its
  own interval lies above chance (lower end > 0.5): the model's figure cannot be told apart from what the
  interview's structure alone gives.
- **speaker-identity probe** on the turn vectors of the configured encoder (the prosody features when
  there is no encoder): how well a linear probe names the participant of a held-out turn (accuracy
  against chance) next to how well it predicts the label from one turn (grouped by participant). High
  identity with near-chance labels says the vectors carry who is speaking more than how.
- **metrics per gender** with the gap and its subject-bootstrap interval; flagged when the AUC gap's
  interval excludes 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..data.manifest import read_spans
from ..mil.bootstrap import bootstrap_ci, group_gap_stat, oof_stat
from ..mil.metrics import roc_auc
from ..mil.peers import functionals
from ..mil.splits import stratified_group_kfold
from .dataset import Dataset
from .layout import ExperimentDir

Splits = Callable[[int], Iterable[tuple[np.ndarray, np.ndarray]]]
PROBE_DIMS = 32  # principal components of the turn vectors the speaker probe reads
POSITION_COLUMNS = ("turn_index", "n_turns", "relative_start", "duration_share")
INTERVIEWER_COLUMNS = ("prompt_index", "n_prompts", "relative_start", "prompt_duration_s")
LENGTH_COLUMNS = ("interview_length_s",)


def _relative(rows: np.ndarray) -> np.ndarray:
    """(n, 2) start, duration (s) → start ÷ end of the last row, duration ÷ total duration."""
    end = max(float(rows[-1, 0] + rows[-1, 1]), 1e-9)
    return np.c_[rows[:, 0] / end, rows[:, 1] / max(float(rows[:, 1].sum()), 1e-9)]


def position_bags(data: Dataset, idx: np.ndarray) -> list[np.ndarray]:
    """Per interview (n_turns, 4): turn index, number of turns, start ÷ end of the last turn, duration ÷ the
    interview's total turn time. Relative, so a participant who speaks slowly (a vocal marker) does not
    move them; a protocol that asks some participants more questions does."""
    out = []
    for k in idx:
        turns = data.bags[k].turns
        timing = _relative(np.asarray([[t.start, t.duration] for t in turns], dtype=float))
        out.append(np.c_[np.asarray([[t.turn_index, len(turns)] for t in turns], dtype=float), timing])
    return out


def length_bags(data: Dataset, idx: np.ndarray) -> list[np.ndarray]:
    """Per interview (1, 1): the end of its last turn (s). Informational: it moves with the protocol and
    with how slowly the participant speaks alike, so it is reported, never flagged."""
    return [np.asarray([[max(t.end for t in data.bags[k].turns)]], dtype=float) for k in idx]


def interviewer_bags(spans: dict[str, list[tuple[float, float]]], data: Dataset, idx: np.ndarray) -> list | None:
    """Per interview (n_spans, 4): span index, number of spans, start ÷ end of the last span, duration (s);
    None when an interview has no interviewer spans (its source does not name the interviewer)."""
    out = []
    for k in idx:
        mine = sorted(spans.get(data.bags[k].interview_id, []))
        if not mine:
            return None
        rows = np.asarray([[a, b - a] for a, b in mine], dtype=float)
        start = _relative(rows)[:, 0]
        out.append(np.c_[np.arange(len(mine)), np.full(len(mine), len(mine)), start, rows[:, 1]])
    return out


def control_features(bags: list[np.ndarray]) -> np.ndarray:
    """(n_bags, 4F): mean, sd, 10th and 90th percentile of each control column per interview."""
    return np.stack([functionals(np.asarray(b, dtype=float)) for b in bags])


def control_predictions(
    bags: list[np.ndarray], y: np.ndarray, groups: np.ndarray, seeds: Sequence[int], splits: Splits
) -> np.ndarray:
    """(n_seeds, n_bags) out-of-fold probabilities of the control model on the same folds (NaN: not scored):
    standardised interview statistics of the control columns, L2 logistic regression (C = 1, balanced)."""
    X = control_features(bags)
    prob = np.full((len(seeds), len(bags)), np.nan)
    for r, seed in enumerate(seeds):
        for train, test in splits(seed):
            model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
            prob[r, test] = model.fit(X[train], y[train]).predict_proba(X[test])[:, 1]
    return prob


def control_report(
    name: str, prob: np.ndarray, y: np.ndarray, groups, main_ci: dict, columns, n_boot: int, flaggable: bool = True
) -> dict:
    """A control's AUC with its interval, and whether it is flagged against the main model's interval."""
    ci = bootstrap_ci(oof_stat(y, prob, calibration=False), groups, len(y), n_boot)["auc"]
    flagged = bool(flaggable and ci["estimate"] >= main_ci["lo"] and ci["lo"] > 0.5)
    return {"name": name, "columns": list(columns), "auc": ci, "flagged": flagged, "flaggable": flaggable}


def speaker_probe(data: Dataset, idx: np.ndarray, seed: int = 0) -> dict:
    """Participant identification from single turns against label prediction from single turns.

    Identification: each participant's turns alternate between a training and a test half; a multinomial
    logistic regression names the participant of each test turn (``identity_accuracy``; chance is one over
    the number of participants). Label: grouped k-fold by participant, the interview's label from one turn
    (``label_auc``, ``label_balanced_accuracy``). Both read the same standardised vectors reduced to at most
    ``PROBE_DIMS`` principal components."""
    names = list(data.feature_names)
    emb = [j for j, n in enumerate(names) if n.startswith("emb_")]
    cols = emb or list(range(len(names)))
    X = np.concatenate([data.bags[k].X[:, cols] for k in idx]).astype(float)
    who = np.concatenate([[str(data.bags[k].interview.group)] * len(data.bags[k].X) for k in idx])
    label = np.concatenate([[data.bags[k].interview.label] * len(data.bags[k].X) for k in idx]).astype(int)
    X = StandardScaler().fit_transform(SimpleImputer(strategy="median", keep_empty_features=True).fit_transform(X))
    if X.shape[1] > PROBE_DIMS:
        X = X @ np.linalg.svd(X - X.mean(0), full_matrices=False)[2][:PROBE_DIMS].T
    order = np.zeros(len(who), dtype=int)
    for g in np.unique(who):
        order[who == g] = np.arange((who == g).sum())
    counts = {g: (who == g).sum() for g in np.unique(who)}
    usable = np.asarray([counts[g] >= 4 for g in who])
    train, test = usable & (order % 2 == 0), usable & (order % 2 == 1)
    n_people = len(set(who[usable].tolist()))
    identity = float("nan")
    if n_people >= 2:
        clf = LogisticRegression(C=1.0, max_iter=2000).fit(X[train], who[train])
        identity = float(np.mean(clf.predict(X[test]) == who[test]))
    score = np.full(len(label), np.nan)
    for tr, te in stratified_group_kfold(label, who, min(5, n_people), seed) if n_people >= 2 else []:
        lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(X[tr], label[tr])
        score[te] = lr.predict_proba(X[te])[:, 1]
    known = np.isfinite(score)
    pred = score[known] >= 0.5
    sens = float(np.mean(pred[label[known] == 1])) if (label[known] == 1).any() else float("nan")
    spec = float(np.mean(~pred[label[known] == 0])) if (label[known] == 0).any() else float("nan")
    return {
        "vectors": "encoder embeddings (emb_*)" if emb else "turn features (no encoder configured)",
        "n_dims": int(X.shape[1]),
        "n_participants": n_people,
        "n_turns": int(usable.sum()),
        "identity_accuracy": identity,
        "identity_chance": 1.0 / n_people if n_people else float("nan"),
        "label_auc": roc_auc(label[known], score[known]),
        "label_balanced_accuracy": float(np.nanmean([sens, spec])),
    }


def gender_report(y, prob, pred, gender, groups, n_boot: int, main: dict | None = None) -> dict | None:
    """AUC, sensitivity and specificity per gender, the gaps and their intervals; None without two genders.
    A gap is flagged when its interval excludes 0 *and* the model beats chance overall (``main``: the
    interval of its AUC lies above 0.5): for a model without signal both per-gender AUCs are noise around
    0.5, and the percentile interval of their difference on a few dozen people excluded 0 for one null model
    in ten (simulated), so a model without signal was flagged as unfair."""
    if gender is None:
        return None
    stat = group_gap_stat(y, prob, pred, gender)
    ci = bootstrap_ci(stat, groups, len(y), n_boot)
    if not any(k.endswith("_gap") for k in ci):
        return {"metrics": ci, "flagged": False, "note": "fewer than two genders recorded"}
    gap = ci["auc_gap"]
    excludes_zero = bool(gap["lo"] > 0 or gap["hi"] < 0)
    above_chance = main is None or bool(main["lo"] > 0.5)
    report = {"metrics": ci, "flagged": excludes_zero and above_chance}
    if excludes_zero and not above_chance:
        report["note"] = "gap interval excludes 0, but the model does not beat chance overall: not a finding"
    return report


def run_audit(
    exp: ExperimentDir,
    data: Dataset,
    lab: np.ndarray,
    predictions: dict,
    seeds: Sequence[int],
    splits: Splits,
    n_boot: int = 1000,
    gender: np.ndarray | None = None,
) -> dict:
    """The audit of one evaluation: ``lab`` are the bag positions evaluated, ``predictions`` the
    cross-validation's arrays (``mil.CVResult.predictions``), ``splits(seed)`` its folds (positions into
    ``lab``). Returns the JSON-able audit with ``flags`` (one line per finding)."""
    y, groups = predictions["y"], predictions["groups"]
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    main = bootstrap_ci(oof_stat(y, predictions["prob"], calibration=False), groups, len(y), n_boot)["auc"]
    n_splits = sum(len(list(splits(s))) for s in seeds)
    controls = [
        control_report(
            "position_timing",
            control_predictions(position_bags(data, lab), y, groups, seeds, splits),
            y,
            groups,
            main,
            POSITION_COLUMNS,
            n_boot,
        ),
        control_report(
            "interview_length",
            control_predictions(length_bags(data, lab), y, groups, seeds, splits),
            y,
            groups,
            main,
            LENGTH_COLUMNS,
            n_boot,
            flaggable=False,
        ),
    ]
    spans = read_spans(exp.interviewer_spans) if exp.interviewer_spans.exists() else {}
    prompts = interviewer_bags(spans, data, lab)
    if prompts is None:
        skipped = {"name": "interviewer", "skipped": "the source does not name the interviewer in every interview"}
    else:
        prob = control_predictions(prompts, y, groups, seeds, splits)
        controls.append(control_report("interviewer", prob, y, groups, main, INTERVIEWER_COLUMNS, n_boot))
        skipped = None
    audit = {
        "participant_overlap": {"checked_splits": n_splits, "shared_participants": []},
        "main_auc": main,
        "controls": controls + ([skipped] if skipped else []),
        "speaker_probe": speaker_probe(data, lab, int(seeds[0])),
        "gender": gender_report(y, predictions["prob"], predictions["pred"], gender, groups, n_boot, main),
    }
    flags = [
        f"shortcut: the {c['name']} control reaches AUC {c['auc']['estimate']:.3f} (main model {main['estimate']:.3f}, "
        f"interval {main['lo']:.3f}–{main['hi']:.3f})"
        for c in controls
        if c["flagged"]
    ]
    if audit["gender"] and audit["gender"]["flagged"]:
        gap = audit["gender"]["metrics"]["auc_gap"]
        flags.append(
            f"gender: AUC gap {gap['estimate']:+.3f} (interval {gap['lo']:+.3f} to {gap['hi']:+.3f}) excludes 0"
        )
    audit["flags"] = flags
    return audit
