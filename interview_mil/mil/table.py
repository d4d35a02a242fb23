"""Bags from a table of instances (one row per instance, a bag id column, a bag label column).

The generic path behind ``interview-mil bags-cv``: any CSV/Parquet (optionally ``.csv.gz``) of
instances becomes a list of bags. A column named ``instance_label`` is never used as a feature: in
benchmark tables it is a copy of the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ManifestError
from ..fileio import read_table, table_format
from .bags import check_labels

NEVER_FEATURES = ("instance_label",)


@dataclass
class TableBags:
    """Bags read from a table: ``bag_ids`` (n_bags,), ``bags`` list of (n_i, F) float arrays in the order of
    first appearance, ``y`` (n_bags,) 0/1, ``groups`` (n_bags,) or None, ``feature_names`` (F,), and
    ``excluded``: columns left out automatically, with the reason."""

    bag_ids: list
    bags: list[np.ndarray]
    y: np.ndarray
    groups: np.ndarray | None
    feature_names: list[str]
    excluded: dict[str, str]


def bags_from_table(
    path: str | Path,
    bag_col: str = "bag_id",
    label_col: str = "bag_label",
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    group_col: str | None = None,
) -> TableBags:
    """Read ``path`` and group its rows into bags.

    ``features``: the feature columns to use (None: every numeric column other than the id, label,
    group, ``exclude`` and ``instance_label`` columns). Raises :class:`ManifestError` naming the file
    for missing columns, non-numeric features, a requested ``instance_label`` feature, or a bag whose
    rows disagree on the label or group.
    """
    path = Path(path)
    required = [bag_col, label_col] + ([group_col] if group_col else []) + list(features or []) + list(exclude)
    df = read_table(path)
    missing = [c for c in dict.fromkeys(required) if c not in df.columns]
    if missing:
        shown = ", ".join(map(str, list(df.columns)[:12])) + (" ..." if len(df.columns) > 12 else "")
        raise ManifestError(
            f"missing column(s) {missing} (the table has {len(df.columns)} columns: {shown})",
            path=path,
            fix="check the column names (--bag-col, --label-col, --group-col, --features)",
        )
    id_cols = {bag_col, label_col} | ({group_col} if group_col else set())
    excluded: dict[str, str] = {}
    if features is not None:
        leaked = [c for c in features if c in NEVER_FEATURES]
        if leaked:
            raise ManifestError(
                f"column(s) {leaked} cannot be features: they hold the instance labels (the answer)",
                path=path,
                fix="remove them from --features",
            )
        names = list(features)
        for c in names:
            if not pd.api.types.is_numeric_dtype(df[c]):
                _refuse_text_cells(df, c, path, "choose numeric columns with --features")
    else:
        names = []
        for c in df.columns:
            if c in id_cols:
                continue
            if c in NEVER_FEATURES:
                excluded[c] = "instance labels are the answer, never a feature"
            elif c in exclude:
                excluded[c] = "excluded on request"
            elif pd.api.types.is_bool_dtype(df[c]):
                excluded[c] = "not numeric"
            elif not pd.api.types.is_numeric_dtype(df[c]):
                if pd.to_numeric(df[c], errors="coerce").notna().any():  # numbers with a few text cells
                    _refuse_text_cells(df, c, path, f"or leave the column out with --exclude-cols {c}")
                excluded[c] = "not numeric"
            else:
                names.append(c)
        if not names:
            raise ManifestError(
                "no numeric feature columns found", path=path, fix="name the feature columns with --features"
            )
    if df[bag_col].isna().any() or df[label_col].isna().any():
        raise ManifestError(
            f"empty {bag_col!r} or {label_col!r} values", path=path, fix="give every row a bag id and a bag label"
        )
    grouped = df.groupby(bag_col, sort=False)
    labels = grouped[label_col].nunique()
    if (labels > 1).any():
        bad_bags = labels.index[labels > 1].tolist()[:5]
        raise ManifestError(
            f"bag(s) {bad_bags} have rows with different {label_col!r} values",
            path=path,
            fix="give every instance of a bag the same bag label",
        )
    groups = None
    if group_col:
        if (grouped[group_col].nunique() > 1).any():
            raise ManifestError(
                f"a bag spans several {group_col!r} values",
                path=path,
                fix="a bag (interview) must belong to one group (participant)",
            )
        groups = grouped[group_col].first().to_numpy()
    values = df[names].to_numpy(dtype=np.float64)
    codes = grouped.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(grouped.ngroups + 1))
    bags = [values[order[bounds[i] : bounds[i + 1]]] for i in range(grouped.ngroups)]
    first_labels = grouped[label_col].first()  # indexed by bag id, in order of first appearance
    y = check_labels(first_labels.to_numpy(), len(bags), source=str(path))
    return TableBags(first_labels.index.tolist(), bags, y, groups, names, excluded)


def _refuse_text_cells(df: pd.DataFrame, column: str, path: Path, fix: str) -> None:
    """``ManifestError`` naming ``column`` and its first cell that is not a number (by file line for CSV)."""
    values = df[column]
    bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
    first = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
    where = f"line {first + 2}" if table_format(path) == "csv" else f"row {first + 1}"
    raise ManifestError(
        f"column {column!r} holds text where numbers are expected: {values.iloc[first]!r} at {where} "
        f"({int(bad.sum())} such cell(s))",
        path=path,
        fix=f"write a number there (an empty cell for a missing value), {fix}",
    )
