"""Bags for the MIL stage: the turns of each interview with their feature rows, in turn order.

``load_dataset`` joins the manifest, the turns table and the feature store. An interview without turns
or without features is left out and listed in ``skipped`` with the reason (never silently).
``marker_truth`` maps segmented turns of the synthetic corpus to its ground-truth marker turns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..data.records import Interview, Turn
from ..errors import FeatureError
from .config import ExperimentConfig
from .layout import ExperimentDir
from .stages import load_manifest, load_turns

log = logging.getLogger(__name__)


@dataclass
class Dataset:
    """``bags[i]``: (n_turns_i, n_features) float32 (NaN kept) for ``interviews[i]`` and ``turns[i]``;
    ``prosody[i]``: the turn's prosody table indexed by turn_id (or None)."""

    interviews: list[Interview]
    turns: list[list[Turn]]
    bags: list[np.ndarray]
    prosody: list[pd.DataFrame | None]
    feature_names: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)

    def drop_empty_columns(self) -> None:
        """Remove feature columns that are NaN in every turn of every interview (e.g. response latency
        when no source names the interviewer); they carry no information and cannot be standardised."""
        stacked = np.concatenate(self.bags, axis=0)
        empty = ~np.isfinite(stacked).any(axis=0)
        if not empty.any():
            return
        keep = np.flatnonzero(~empty)
        self.dropped_columns = [n for n, e in zip(self.feature_names, empty) if e]
        log.warning("feature column(s) %s are missing in every turn and are left out", self.dropped_columns)
        self.bags = [np.ascontiguousarray(b[:, keep]) for b in self.bags]
        self.feature_names = [self.feature_names[j] for j in keep]

    def indices(self, splits: Sequence[str] | None = None, labelled: bool = True) -> np.ndarray:
        """Positions of interviews in ``splits`` (None: all) that have a label (when ``labelled``)."""
        keep = [k for k, i in enumerate(self.interviews)
                if (splits is None or i.split in splits) and (not labelled or i.label is not None)]
        return np.asarray(keep, dtype=int)

    def labels(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray([self.interviews[k].label for k in idx], dtype=int)

    def groups(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray([self.interviews[k].group for k in idx], dtype=object)

    def phq(self, idx: np.ndarray) -> np.ndarray | None:
        values = np.asarray([np.nan if self.interviews[k].phq8_score is None else self.interviews[k].phq8_score
                             for k in idx], dtype=float)
        return values if np.isfinite(values).any() else None

    def subset_bags(self, idx: np.ndarray) -> list[np.ndarray]:
        return [self.bags[k] for k in idx]


def bag_from_features(features, turns: Sequence[Turn], parts: Sequence[str],
                      columns: Sequence[str] | None = None) -> tuple[np.ndarray, list[str], pd.DataFrame | None]:
    """Feature rows of ``features`` (a TurnFeatures) in the order of ``turns``: (bag, names, prosody).
    ``columns``: keep exactly these feature columns, in this order (a trained model's inputs)."""
    matrix, names = features.matrix(tuple(parts))
    if columns is not None:
        where = {n: j for j, n in enumerate(names)}
        absent = [c for c in columns if c not in where]
        if absent:
            raise FeatureError(f"interview {features.interview_id}: the model needs feature columns the "
                               f"features lack: {absent[:5]}",
                               fix="use the feature settings and interview-mil version the model was trained with")
        matrix, names = matrix[:, [where[c] for c in columns]], list(columns)
    position = {tid: k for k, tid in enumerate(features.turn_ids)}
    missing = [t.turn_id for t in turns if t.turn_id not in position]
    if missing:
        raise FeatureError(f"interview {features.interview_id}: no features for turns {missing[:5]}",
                           fix="features are older than the turns table: rerun featurize")
    order = [position[t.turn_id] for t in turns]
    prosody = None
    if features.prosody is not None:
        prosody = features.prosody.iloc[order].copy()
        prosody.index = [t.turn_id for t in turns]
    return np.ascontiguousarray(matrix[order], dtype=np.float32), list(names), prosody


def load_dataset(exp: ExperimentDir, config: ExperimentConfig) -> Dataset:
    """All interviews of the experiment that have turns and features, as bags."""
    from ..features import FeatureStore

    store = FeatureStore(exp.features_root, config.features)
    all_turns = load_turns(exp)
    data = Dataset([], [], [], [], [])
    for interview in load_manifest(exp):
        iid = interview.interview_id
        turns = all_turns.get(iid, [])
        if not turns:
            data.skipped[iid] = "no participant turns"
            continue
        if not store.has(iid):
            data.skipped[iid] = "no features (featurize failed or was not run)"
            continue
        bag, names, prosody = bag_from_features(store.load(iid), turns, config.model.parts)
        if data.feature_names and names != data.feature_names:
            raise FeatureError(f"interview {iid}: feature columns differ from the other interviews",
                               path=exp.features_root, fix="rerun featurize into a fresh store")
        data.feature_names = names
        data.interviews.append(interview)
        data.turns.append(list(turns))
        data.bags.append(bag)
        data.prosody.append(prosody)
    if not data.bags:
        raise FeatureError("no interview has both turns and features", path=exp.root,
                           fix="run the segment and featurize stages (see segment_report.json)")
    data.drop_empty_columns()
    return data


def synthetic_truth_table(corpus_root: str | Path) -> pd.DataFrame | None:
    """The synthetic corpus's ground-truth turns table, or None for other corpora."""
    path = Path(corpus_root) / "ground_truth" / "turns.csv"
    if not path.exists():
        return None
    table = pd.read_csv(path)
    table["Participant_ID"] = table["Participant_ID"].astype(str)
    return table


def marker_truth(truth: pd.DataFrame, interview_id: str, turns: Sequence[Turn]) -> np.ndarray:
    """1 for each turn whose largest time overlap is with a ground-truth marker turn, else 0."""
    rows = truth[truth["Participant_ID"] == str(interview_id)]
    starts, stops = rows["start_time"].to_numpy(float), rows["stop_time"].to_numpy(float)
    markers = rows["marker"].to_numpy(int)
    out = np.zeros(len(turns), dtype=int)
    for k, t in enumerate(turns):
        overlap = np.minimum(stops, t.end) - np.maximum(starts, t.start)
        if overlap.size and overlap.max() > 0:
            out[k] = markers[int(np.argmax(overlap))]
    return out
