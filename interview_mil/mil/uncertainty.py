"""How sure the model is of one interview's probability: an interval around it.

Two sources, both through the fitted classifier's public attributes only:

- ``turn_bootstrap_interval`` (the default): the interview's turns resampled with replacement
  ``n_boot`` times and each resampled interview scored with ``predict_proba`` (calibrated, with the
  interview head when there is one); the interval is the central ``level`` share of those probabilities.
  It says how much the answer depends on which turns happened to be recorded: one decisive turn, or a
  short interview, gives a wide interval.
- ``committee_interval``: the spread of the committee members' probabilities (``n_models`` > 1): how much
  the answer depends on the network's training split and initialisation. Each member's logit goes through
  the interview head (when fitted); the classifier's calibration is carried over as the affine map of
  logits that takes the committee's uncalibrated probabilities to its calibrated ones on the same
  interviews (exact for temperature and Platt scaling).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ConfigError
from .committee import forward_batches, torch_threads
from .hybrid import head_inputs

N_BOOT = 50
LEVEL = 0.9
METHODS = ("bootstrap", "committee")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def turn_bootstrap_interval(
    clf, bags: Sequence[np.ndarray], n_boot: int = N_BOOT, level: float = LEVEL, seed: int = 0
) -> np.ndarray:
    """(n_bags, 2) lower and upper probability of each raw bag (n_i, F): the central ``level`` share of
    ``predict_proba`` over ``n_boot`` resamplings of its turns. A bag of one turn gets its own probability
    twice (no resampling can change it)."""
    rng = np.random.default_rng([seed, 4242])
    out = np.empty((len(bags), 2))
    tail = (1.0 - level) / 2 * 100
    for i, bag in enumerate(bags):
        bag = np.asarray(bag, dtype=float)
        resampled = [bag[rng.integers(0, len(bag), len(bag))] for _ in range(int(n_boot))]
        probs = clf.predict_proba(resampled)[:, 1]
        out[i] = np.percentile(probs, [tail, 100 - tail])
    return out


def member_probabilities(clf, bags: Sequence[np.ndarray]) -> np.ndarray:
    """(n_members, n_bags) uncalibrated positive-class probability of each committee member (one row for a
    single network), with the interview head applied to each member's logit when the classifier has one."""
    projected = clf.transform(bags)
    scaled = clf.scaler_.transform(projected)
    members = list(getattr(clf.model_, "members", [clf.model_]))
    head = getattr(clf, "head_", None)
    rows = []
    with torch_threads(getattr(clf, "n_threads", 1)):
        for member in members:
            logit = np.concatenate([o.bag_logit.double().numpy() for o, _ in forward_batches(member, scaled)])
            if head is not None:
                logit = head.combine(logit, head_inputs(clf, bags))
            rows.append(1.0 / (1.0 + np.exp(-logit)))
    return np.stack(rows)


def _calibration_map(clf, bags: Sequence[np.ndarray]):
    """``f(uncalibrated probabilities) -> calibrated`` as the classifier applies it: its ``calibration_``
    (a map of logits) when it has one; else, where it calibrates inside ``predict_proba``, the least-squares
    affine map of logits estimated on ``bags`` (one bag: a shift); else the identity."""
    fitted = getattr(clf, "calibration_", None)
    if fitted is not None and callable(getattr(fitted, "apply", None)):
        return lambda p: 1.0 / (1.0 + np.exp(-np.asarray(fitted.apply(_logit(p)), dtype=np.float64)))
    raw = getattr(clf, "predict_proba_uncalibrated", None)
    if raw is None:
        return lambda p: p
    cal = _logit(clf.predict_proba(bags)[:, 1])
    unc = _logit(np.asarray(raw(bags))[:, 1])
    if len(unc) >= 2 and np.ptp(unc) > 1e-6:
        a, b = np.polyfit(unc, cal, 1)
    else:
        a, b = 1.0, float(np.mean(cal - unc))
    return lambda p: 1.0 / (1.0 + np.exp(-(a * _logit(p) + b)))


def committee_interval(clf, bags: Sequence[np.ndarray], level: float = LEVEL) -> np.ndarray:
    """(n_bags, 2) lower and upper probability of each raw bag: the central ``level`` share of the committee
    members' calibrated probabilities. Needs a committee (``n_models`` > 1)."""
    members = member_probabilities(clf, bags)
    if members.shape[0] < 2:
        raise ConfigError(
            "a committee interval needs a model trained with n_models > 1",
            fix="use the turn bootstrap (method='bootstrap'), or train with model.params.n_models=5",
        )
    calibrated = _calibration_map(clf, bags)(members)
    tail = (1.0 - level) / 2 * 100
    return np.percentile(calibrated, [tail, 100 - tail], axis=0).T


def probability_interval(
    clf,
    bags: Sequence[np.ndarray],
    method: str = "bootstrap",
    level: float = LEVEL,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> np.ndarray:
    """(n_bags, 2) interval of each bag's probability by ``method`` (``bootstrap`` or ``committee``)."""
    if not 0.0 < level < 1.0:
        raise ConfigError(f"interval level must lie in (0, 1), got {level}", fix="e.g. level=0.9")
    if method == "bootstrap":
        return turn_bootstrap_interval(clf, bags, n_boot, level, seed)
    if method == "committee":
        return committee_interval(clf, bags, level)
    raise ConfigError(f"unknown interval method {method!r}", fix=f"use one of {list(METHODS)}")
