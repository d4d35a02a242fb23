"""Explain many interviews with one model and write the two tables (CSV + Parquet) and the HTML report.

Used by ``interview-mil explain`` (a whole split of an experiment) and ``interview-mil score`` (new
recordings). ``interviewer_spans`` reads the interviewer's speech from the recording's speaker source
(DAIC-WOZ transcript, RTTM, STM) for the report's timeline; it is never used as evidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..data.records import Interview, Turn
from ..fileio import write_table
from .report import ReportItem, write_report
from .tables import explain_interview, interview_frame

log = logging.getLogger(__name__)


@dataclass
class ExplainedInterview:
    """One explained recording: ``row`` (interview table), ``turns`` (turn table), ``interviewer``
    (start, end) spans for the timeline, ``duration`` (s)."""

    row: dict
    turns: pd.DataFrame
    interviewer: list[tuple[float, float]] = field(default_factory=list)
    duration: float | None = None

    def report_item(self) -> ReportItem:
        return ReportItem(self.row, self.turns, self.interviewer, self.duration)


def interviewer_spans(interview: Interview) -> list[tuple[float, float]]:
    """(start, end) of the interviewer's lines when a speaker source names them; else an empty list."""
    from ..segmentation.asr import detect_transcript_format
    from ..segmentation.daic import read_daic_lines
    from ..segmentation.speakers import rttm_lines, stm_lines

    try:
        if interview.rttm_path:
            lines = rttm_lines(interview.rttm_path, interview.participant_speaker)
        elif interview.transcript_path:
            fmt = detect_transcript_format(interview.transcript_path)
            if fmt == "daic_woz":
                lines = read_daic_lines(interview.transcript_path)
            elif fmt == "stm":
                lines = stm_lines(interview.transcript_path, interview.participant_speaker)
            elif fmt == "rttm":
                lines = rttm_lines(interview.transcript_path, interview.participant_speaker)
            else:
                return []
        else:
            return []
    except Exception as exc:  # the timeline is a courtesy; the tables do not depend on it
        log.debug("no interviewer spans for %s: %s", interview.interview_id, exc)
        return []
    return [(line.start, line.end) for line in lines if line.role == "interviewer"]


def explain_interviews(model, interviews: Sequence[Interview], turns: Sequence[Sequence[Turn]],
                       bags: Sequence[np.ndarray], prosody: Sequence[pd.DataFrame | None],
                       top_k: int = 3, n_random: int = 20,
                       markers: Sequence[np.ndarray | None] | None = None) -> list[ExplainedInterview]:
    """Both tables for each interview. ``markers``: ground-truth marker flags per turn (synthetic corpus
    only), added to the turn table as ``marker_truth``."""
    out = []
    for k, interview in enumerate(interviews):
        row, table = explain_interview(model, interview.interview_id, turns[k], bags[k], prosody[k],
                                       top_k=top_k, n_random=n_random, seed=k)
        if markers is not None and markers[k] is not None:
            table["marker_truth"] = np.asarray(markers[k], dtype=int)
        out.append(ExplainedInterview(row, table, interviewer_spans(interview), interview.duration))
    return out


def write_tables(items: Sequence[ExplainedInterview], out_dir: str | Path, html: bool = False,
                 title: str = "interview_mil report") -> dict[str, Path]:
    """``interviews.csv/.parquet`` and ``turns.csv/.parquet`` in ``out_dir`` (+ ``report.html``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    interviews = interview_frame([i.row for i in items])
    turns = pd.concat([i.turns for i in items], ignore_index=True) if items else pd.DataFrame()
    paths = {}
    for name, frame in (("interviews", interviews), ("turns", turns)):
        paths[f"{name}_csv"] = write_table(frame, out / f"{name}.csv")
        paths[f"{name}_parquet"] = write_table(frame, out / f"{name}.parquet")
    if html and items:
        paths["report"] = write_report([i.report_item() for i in items], out / "report.html", title)
    return paths


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
