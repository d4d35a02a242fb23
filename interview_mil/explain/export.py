"""Explain many interviews with one model and write the two tables (CSV + Parquet) and the HTML report.

Used by ``interview-mil explain`` (a whole split of an experiment) and ``interview-mil score`` (new
recordings). The interviewer's spans come with the segmentation record (never re-read from a transcript
here); they only draw the report's timeline and are never used as evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..features.bags import Bag
from ..fileio import write_table
from .records import ExplainedInterview, Span, interview_frame
from .report import write_report
from .tables import TURN_COLUMNS, explain_bag


def explain_bags(
    model,
    bags: Sequence[Bag],
    interviewer: Mapping[str, Sequence[Span]] | None = None,
    top_k: int = 3,
    n_random: int = 20,
    markers: Sequence[np.ndarray | None] | None = None,
) -> list[ExplainedInterview]:
    """``explain_bag`` for each bag (the known label goes into the row). ``interviewer``: spans per
    interview id; ``markers``: ground-truth marker flags per turn (synthetic corpus only), added to the turn
    table as ``marker_truth``."""
    out = []
    for k, bag in enumerate(bags):
        spans = (interviewer or {}).get(bag.interview_id, ())
        item = explain_bag(
            model, bag, spans, bag.interview.duration, top_k=top_k, n_random=n_random, seed=k, label=bag.interview.label
        )
        if markers is not None and markers[k] is not None:
            item.turns["marker_truth"] = np.asarray(markers[k], dtype=int)
        out.append(item)
    return out


def write_tables(
    items: Sequence[ExplainedInterview], out_dir: str | Path, html: bool = False, title: str = "interview_mil report"
) -> dict[str, Path]:
    """``interviews.csv/.parquet`` and ``turns.csv/.parquet`` in ``out_dir`` (+ ``report.html``), each written
    atomically. Failed recordings (``row.status == "failed"``) are interview rows with their reason and have
    no turns; the report shows the scored ones."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    interviews = _nullable_ints(interview_frame(list(items)))
    scored = [i for i in items if i.row.status == "ok"]
    turns = pd.concat([i.turns for i in scored], ignore_index=True) if scored else pd.DataFrame(columns=TURN_COLUMNS)
    paths = {}
    for name, frame in (("interviews", interviews), ("turns", turns)):
        paths[f"{name}_csv"] = write_table(spreadsheet_safe(frame), out / f"{name}.csv")
        paths[f"{name}_parquet"] = write_table(frame, out / f"{name}.parquet")
    if html and scored:
        paths["report"] = write_report(scored, out / "report.html", title)
    return paths


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas: a cell that starts with ``=``, ``+``,
    ``-``, ``@``, a tab or a carriage return (a transcript line such as ``=HYPERLINK(...)``) gets a leading
    apostrophe, which spreadsheets show as text. For the CSV only: the Parquet tables keep the text as said."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = [
                "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v for v in out[column].tolist()
            ]
    return out


def _nullable_ints(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer and flag columns that hold an empty cell (a failed recording, no label) stay integers
    (``1``, not ``1.0``) instead of turning into floats."""
    for column, dtype in (("decision", "Int64"), ("n_turns", "Int64"), ("label", "Int64"), ("faithful", "boolean")):
        if column in frame and frame[column].isna().any() and frame[column].notna().any():
            frame[column] = frame[column].astype(dtype)
    return frame


def precision_at_k(items: Sequence[ExplainedInterview], k: int = 3, positives_only: bool = True) -> float:
    """Share of the top-k turns that are ground-truth marker turns (needs ``marker_truth``), pooled over
    interviews (with ``positives_only``, only those that have at least one marker turn).

    Its ceiling is below 1 whenever an interview has fewer than k marker turns (a 5-turn interview with
    one marker turn allows at most 1/3 at k = 3): read it next to ``precision_ceiling``."""
    hits, total = 0, 0
    for t in _marked(items, positives_only):
        top = t.sort_values("rank").head(k)
        hits += int(top["marker_truth"].sum())
        total += len(top)
    return hits / total if total else float("nan")


def precision_ceiling(items: Sequence[ExplainedInterview], k: int = 3, positives_only: bool = True) -> float:
    """The highest ``precision_at_k`` any ranking could reach on these interviews (marker turns first)."""
    hits, total = 0, 0
    for t in _marked(items, positives_only):
        n = min(k, len(t))
        hits += min(n, int(t["marker_truth"].sum()))
        total += n
    return hits / total if total else float("nan")


def _marked(items: Sequence[ExplainedInterview], positives_only: bool):
    for item in items:
        t = item.turns
        if "marker_truth" not in t.columns or (positives_only and not t["marker_truth"].any()):
            continue
        yield t
