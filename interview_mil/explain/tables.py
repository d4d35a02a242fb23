"""Turn-level and interview-level explanation tables.

Turn table (one row per participant turn): where it is (``start``/``end``), what was said (``text``),
how much it weighed (``weight``: attention weight, or for noisy-or the normalised instance
probability; sums to 1 per interview), the turn's own score (``instance_score``, probability),
``rank`` (1 = most influential), ``contribution`` and ``contribution_kind``, and its readable prosody
with a z-score against the same interview's other turns. ``contribution`` is exact where the pooling
gives exact contributions (``additive``: the turn's signed share of the logit of the interview's
calibrated probability; the shares plus an interview-level part — the network's bias, and where there
is one the interview head's functionals model, and the calibration offset — sum to it; kind
``logit_share``), else the interview probability minus the
probability with the turn left out (kind ``leave_one_out``).

Interview table: probability, decision at the model's threshold, number of turns, the top turns, the
PHQ-8 estimate when the model has the head, and a faithfulness check: how much the probability drops
when the top-k turns are removed versus k random turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.records import Turn
from ..errors import FeatureError
from ..features.bags import Bag
from ..mil import POOLINGS, BagExplanation, InterviewClassifier
from ..mil.conformal import screen_of
from ..mil.state import logit_share_scale
from ..mil.uncertainty import probability_interval
from .records import ExplainedInterview, InterviewRow, Span

# Readable prosody shown to a clinician: column in the prosody table → label in reports.
READABLE_PROSODY = {
    "f0_range_st": "F0 range (semitones)",
    "intensity_mean_db": "loudness (dB)",
    "intensity_sd_db": "loudness variability (dB)",
    "speech_rate_syl_per_s": "speech rate (syllables/s)",
    "pause_ratio": "pause ratio",
    "response_latency_s": "response latency (s)",
}

TURN_COLUMNS = [
    "interview_id",
    "audio_path",
    "turn_id",
    "turn_index",
    "start",
    "end",
    "duration",
    "prompt_text",
    "text",
    "weight",
    "instance_score",
    "rank",
    "contribution",
    "contribution_kind",
]


@dataclass(frozen=True)
class Faithfulness:
    """Probability drops when the ``k`` highest-weighted turns, or ``k`` random turns (mean over
    ``n_random`` draws), are removed. ``faithful``: the top-k drop is the larger one."""

    k: int
    drop_top_k: float
    drop_random_k: float

    @property
    def faithful(self) -> bool:
        return bool(self.drop_top_k > self.drop_random_k)


def faithfulness(
    model: InterviewClassifier, bag: np.ndarray, weights: np.ndarray, k: int = 3, n_random: int = 20, seed: int = 0
) -> Faithfulness | None:
    """Faithfulness of ``weights`` for one bag ``(n, d)``; None when the bag has too few turns (n <= k)."""
    n = len(bag)
    k = min(k, n - 1)
    if k < 1:
        return None
    rng = np.random.default_rng(seed)
    top = set(np.argsort(-weights, kind="stable")[:k].tolist())
    reduced = [bag[[i for i in range(n) if i not in top]]]
    for _ in range(n_random):
        drop = set(rng.choice(n, size=k, replace=False).tolist())
        reduced.append(bag[[i for i in range(n) if i not in drop]])
    probs = model.predict_proba([bag] + reduced)[:, 1]
    return Faithfulness(k, float(probs[0] - probs[1]), float(probs[0] - probs[2:].mean()))


def _zscores(values: pd.Series) -> pd.Series:
    sd = values.std(ddof=0)
    if not np.isfinite(sd) or sd == 0:
        return pd.Series(np.where(values.notna(), 0.0, np.nan), index=values.index)
    return (values - values.mean()) / sd


def turn_table(
    interview_id: str,
    turns: Sequence[Turn],
    explanation: BagExplanation,
    contributions: np.ndarray,
    prosody: pd.DataFrame | None = None,
    audio_path: str | None = None,
) -> pd.DataFrame:
    """The turn table of one interview (rows in turn order). ``prosody``: indexed by ``turn_id``."""
    weights = np.asarray(explanation.weights, dtype=float)
    order = np.argsort(-weights, kind="stable")
    rank = np.empty(len(weights), dtype=int)
    rank[order] = np.arange(1, len(weights) + 1)
    df = pd.DataFrame(
        {
            "interview_id": interview_id,
            "audio_path": audio_path,
            "turn_id": [t.turn_id for t in turns],
            "turn_index": [t.turn_index for t in turns],
            "start": [round(t.start, 3) for t in turns],
            "end": [round(t.end, 3) for t in turns],
            "duration": [round(t.duration, 3) for t in turns],
            "prompt_text": [t.prompt_text for t in turns],
            "text": [t.text for t in turns],
            "weight": weights,
            "instance_score": np.asarray(explanation.instance_probabilities, dtype=float),
            "rank": rank,
            "contribution": np.asarray(contributions, dtype=float),
        }
    )
    if prosody is not None:
        for column in READABLE_PROSODY:
            if column in prosody.columns:
                values = prosody[column].reindex(df["turn_id"]).to_numpy(dtype=float)
                df[column] = values
                df[f"{column}_z"] = _zscores(pd.Series(values)).to_numpy()
    return df


def interview_row(
    interview_id: str,
    audio_path: str,
    explanation: BagExplanation,
    threshold: float,
    table: pd.DataFrame,
    top_k: int = 3,
    phq8_estimate: float | None = None,
    faith: Faithfulness | None = None,
    label: int | None = None,
) -> InterviewRow:
    """One row of the interview table."""
    top = table.sort_values("rank").head(top_k)["turn_id"].tolist()
    return InterviewRow(
        interview_id=interview_id,
        audio_path=audio_path,
        probability=round(explanation.probability, 6),
        decision=int(explanation.probability >= threshold),
        threshold=round(float(threshold), 6),
        n_turns=int(len(table)),
        top_turn_ids=";".join(top),
        phq8_estimate=None if phq8_estimate is None else round(float(phq8_estimate), 2),
        faithfulness_k=None if faith is None else faith.k,
        prob_drop_top_k=None if faith is None else round(faith.drop_top_k, 6),
        prob_drop_random_k=None if faith is None else round(faith.drop_random_k, 6),
        faithful=None if faith is None else faith.faithful,
        label=label,
    )


def explain_bag(
    model: InterviewClassifier,
    bag: Bag,
    interviewer: Sequence[Span] = (),
    duration: float | None = None,
    top_k: int = 3,
    n_random: int = 20,
    seed: int = 0,
    label: int | None = None,
    alpha: float | None = None,
    interval: str | None = "bootstrap",
) -> ExplainedInterview:
    """Score and explain one interview. ``bag.X``: the raw turn features (n_turns, d) the model was trained
    on; ``interviewer``: spans for the timeline; ``duration``: the recording's length (s). ``interval``: how
    the probability's interval is found (``mil.uncertainty``: ``bootstrap`` over turns, ``committee``, or
    None for none); ``alpha``: error rate of the three-way screen (None: the one saved in the bundle)."""
    iid = bag.interview_id
    if len(bag.turns) != len(bag.X):
        raise FeatureError(
            f"interview {iid}: {len(bag.turns)} turns but {len(bag.X)} feature rows",
            fix="features and turns are out of step: rerun featurize on the current turns",
        )
    explanation = model.explain([bag.X])[0]
    exact = bool(getattr(POOLINGS.get(model.model_config_.pooling), "exact_contributions", False))
    contributions = explanation.instance_scores * logit_share_scale(model) if exact else model.leave_one_out(bag.X)
    table = turn_table(iid, bag.turns, explanation, contributions, bag.prosody, bag.interview.audio_path)
    table.insert(
        table.columns.get_loc("contribution") + 1, "contribution_kind", "logit_share" if exact else "leave_one_out"
    )
    phq = None
    if model.model_config_.phq_head:
        phq = float(model.predict_phq8([bag.X])[0])
    faith = faithfulness(model, bag.X, explanation.weights, k=top_k, n_random=n_random, seed=seed)
    row = interview_row(iid, bag.interview.audio_path, explanation, model.threshold_, table, top_k, phq, faith, label)
    error = getattr(model, "phq_error_", None) if phq is not None else None
    if error:
        row.phq8_rmse, row.phq8_ccc = round(float(error["rmse"]), 2), round(float(error["ccc"]), 3)
    if interval is not None:
        low, high = probability_interval(model, [bag.X], method=interval, seed=seed)[0]
        # a percentile interval of resampled turns can miss the estimate itself (the probability is not the
        # median of its resamplings): widened to hold it, so no table or terminal shows a point outside it
        p = float(explanation.probability)
        row.probability_low, row.probability_high = round(min(float(low), p), 6), round(max(float(high), p), 6)
    screen = screen_of(model, alpha)
    if screen is not None:
        row.screen, row.alpha = screen.decide([explanation.probability])[0], screen.alpha
    return ExplainedInterview(row, table, list(interviewer), duration)
