"""The experiment's bags: one ``Bag`` per interview that has turns and features, in manifest order.

``load_dataset`` joins the manifest, the turns table and the feature store. An interview without turns
or without features is left out and listed in ``skipped`` with the reason (never silently). Feature
columns missing in every turn are dropped (listed in ``dropped_columns``). ``marker_truth`` maps
segmented turns of the synthetic corpus to its ground-truth marker turns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.records import Turn
from ..errors import FeatureError
from ..features import Bag, FeatureStore, bag_from_features
from ..features.sets import feature_set_columns
from .config import ExperimentConfig
from .layout import ExperimentDir

log = logging.getLogger(__name__)


@dataclass
class Dataset:
    """``bags``: one ``Bag`` per usable interview (all with the same ``feature_names``)."""

    bags: list[Bag]
    feature_names: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)

    def drop_empty_columns(self) -> None:
        """Remove feature columns that are NaN in every turn of every interview (e.g. response latency
        when no source names the interviewer); they carry no information and cannot be standardised."""
        stacked = np.concatenate([b.X for b in self.bags], axis=0)
        empty = ~np.isfinite(stacked).any(axis=0)
        if not empty.any():
            return
        keep = np.flatnonzero(~empty)
        self.dropped_columns = [n for n, e in zip(self.feature_names, empty) if e]
        log.warning("feature column(s) %s are missing in every turn and are left out", self.dropped_columns)
        self.bags = [b.select(keep) for b in self.bags]
        self.feature_names = [self.feature_names[j] for j in keep]

    def indices(self, splits: Sequence[str] | None = None, labelled: bool = True) -> np.ndarray:
        """Positions of interviews in ``splits`` (None: all) that have a label (when ``labelled``)."""
        keep = [
            k
            for k, b in enumerate(self.bags)
            if (splits is None or b.interview.split in splits) and (not labelled or b.interview.label is not None)
        ]
        return np.asarray(keep, dtype=int)

    def labels(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray([self.bags[k].interview.label for k in idx], dtype=int)

    def groups(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray([self.bags[k].interview.group for k in idx], dtype=object)

    def phq(self, idx: np.ndarray) -> np.ndarray | None:
        values = np.asarray(
            [np.nan if self.bags[k].interview.phq8_score is None else self.bags[k].interview.phq8_score for k in idx],
            dtype=float,
        )
        return values if np.isfinite(values).any() else None

    def gender(self, idx: np.ndarray) -> np.ndarray | None:
        values = [self.bags[k].interview.gender for k in idx]
        return None if all(v is None for v in values) else np.asarray(values, dtype=object)

    def X(self, idx: np.ndarray) -> list[np.ndarray]:
        """The raw feature matrices of the bags at ``idx``."""
        return [self.bags[k].X for k in idx]


def load_dataset(exp: ExperimentDir, config: ExperimentConfig) -> Dataset:
    """All interviews of the experiment that have turns and features, as bags."""
    store = FeatureStore(exp.features_root, config.features)
    all_turns = exp.load_turns()
    data = Dataset([], [])
    for interview in exp.load_manifest():
        iid = interview.interview_id
        turns = all_turns.get(iid, [])
        if not turns:
            data.skipped[iid] = "no participant turns"
            continue
        if not store.has(iid):
            data.skipped[iid] = "no features (featurize failed or was not run)"
            continue
        bag = bag_from_features(interview, turns, store.load(iid), config.model.parts)
        if data.feature_names and bag.feature_names != data.feature_names:
            raise FeatureError(
                f"interview {iid}: feature columns differ from the other interviews",
                path=exp.features_root,
                fix="rerun featurize into a fresh store",
            )
        data.feature_names = bag.feature_names
        data.bags.append(bag)
    if not data.bags:
        raise FeatureError(
            "no interview has both turns and features",
            path=exp.root,
            fix="run the segment and featurize stages (see segment_report.json)",
        )
    keep = feature_set_columns(data.feature_names, config.model.feature_set)
    if len(keep) < len(data.feature_names):
        data.bags = [b.select(keep) for b in data.bags]
        data.feature_names = [data.feature_names[j] for j in keep]
    data.drop_empty_columns()
    return data


def synthetic_truth_table(corpus_root: str | Path) -> pd.DataFrame | None:
    """The corpus's ground-truth turns table (``ground_truth/turns.csv``: Participant_ID, start_time,
    stop_time, marker; written by the synthetic and real-voice generators, or shipped by a user's corpus with
    known marker answers), or None where the corpus has none."""
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


def dataset_truth(data: Dataset, config: ExperimentConfig) -> list[np.ndarray] | None:
    """Ground-truth marker flags per bag (a corpus with ``ground_truth/turns.csv``), or None."""
    truth = synthetic_truth_table(config.corpus.root)
    if truth is None:
        return None
    return [marker_truth(truth, b.interview_id, b.turns) for b in data.bags]
