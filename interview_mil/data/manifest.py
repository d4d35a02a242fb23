"""Manifests on disk: interviews as JSONL or Parquet, turns as a CSV/Parquet table.

A manifest is validated before it is written, and again when it is read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from ..errors import ManifestError
from ..fileio import atomic_path, read_table, write_table
from .records import Interview, Turn, validate_manifest

TURN_COLUMNS = [
    "interview_id",
    "turn_id",
    "turn_index",
    "start",
    "end",
    "duration",
    "speaker",
    "text",
    "response_latency",
    "n_pauses",
    "pause_time",
    "longest_pause",
    "source",
    "parent_turn_id",
    "prompt_start",
    "prompt_end",
    "prompt_text",
]


def write_manifest(interviews: Sequence[Interview], path: str | Path) -> Path:
    """Validate and write ``interviews`` to ``path`` (``.jsonl`` or ``.parquet``) atomically."""
    path = Path(path)
    validate_manifest(interviews, source=str(path))
    if path.suffix == ".parquet":
        rows = [i.to_dict() for i in interviews]
        for row in rows:
            row["meta"] = json.dumps(row["meta"], sort_keys=True)
        write_table(pd.DataFrame(rows), path)
        return path
    if path.suffix != ".jsonl":
        raise ManifestError("unknown manifest format", path=path, fix="use .jsonl or .parquet")
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            for interview in interviews:
                handle.write(json.dumps(interview.to_dict(), sort_keys=False) + "\n")
    return path


def read_manifest(path: str | Path) -> list[Interview]:
    """Read and validate a manifest written by ``write_manifest`` (or by hand, same fields)."""
    path = Path(path)
    if not path.exists():
        raise ManifestError("manifest not found", path=path, fix="run the corpus's prepare step first")
    rows: list[dict] = []
    if path.suffix == ".parquet":
        df = read_table(path, required=["interview_id", "audio_path"])
        for row in df.to_dict(orient="records"):
            meta = row.get("meta")
            row["meta"] = json.loads(meta) if isinstance(meta, str) and meta else {}
            rows.append(row)
    else:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ManifestError(f"line {lineno} is not valid JSON ({exc})", path=path) from None
    interviews = []
    for n, row in enumerate(rows, 1):
        for key in ("interview_id", "audio_path"):
            if row.get(key) in (None, ""):
                raise ManifestError(f"record {n} has no {key!r}", path=path)
        interviews.append(Interview.from_dict(row))
    validate_manifest(interviews, source=str(path))
    return interviews


def turns_to_frame(turns: Iterable[Turn]) -> pd.DataFrame:
    """One row per turn, columns in ``TURN_COLUMNS`` order."""
    rows = [t.to_dict() for t in turns]
    df = pd.DataFrame(rows, columns=TURN_COLUMNS)
    return df.astype({"turn_index": "int64"}) if len(df) else df


def write_turns(turns: Iterable[Turn], path: str | Path) -> Path:
    """Write a turns table (CSV or Parquet by suffix) atomically."""
    return write_table(turns_to_frame(turns), path)


END_TOLERANCE_S = 0.01  # rounding of times written with a few decimals


def read_turns(path: str | Path) -> dict[str, list[Turn]]:
    """Read a turns table into ``{interview_id: [Turn, ...]}`` ordered by ``turn_index``."""
    df = read_table(path, required=["interview_id", "turn_id", "turn_index", "start"])
    if "duration" not in df.columns and "end" not in df.columns:
        raise ManifestError("turns table needs a 'duration' or an 'end' column", path=path)
    if "duration" in df.columns and "end" in df.columns:
        both = df["duration"].notna() & df["end"].notna()
        off = both & ((df["start"] + df["duration"] - df["end"]).abs() > END_TOLERANCE_S)
        if off.any():
            bad = df[off].head(3)
            shown = "; ".join(
                f"{r.turn_id}: start {r.start:g} + duration {r.duration:g} = {r.start + r.duration:g} but end {r.end:g}"
                for r in bad.itertuples()
            )
            raise ManifestError(
                f"{int(off.sum())} turn(s) whose 'end' and 'duration' disagree ({shown})",
                path=path,
                fix="correct them, or drop one of the two columns (the other then gives the turn's length)",
            )
    by_interview: dict[str, list[Turn]] = defaultdict(list)
    for row in df.to_dict(orient="records"):
        turn = Turn.from_dict(row)
        by_interview[turn.interview_id].append(turn)
    return {k: sorted(v, key=lambda t: t.turn_index) for k, v in by_interview.items()}


SPAN_COLUMNS = ["interview_id", "start", "end"]


def write_spans(spans: dict[str, Sequence[tuple[float, float]]], path: str | Path) -> Path:
    """Speech spans per interview (e.g. the interviewer's, for report timelines) as a table with columns
    ``interview_id, start, end`` (seconds); CSV or Parquet by suffix, written atomically."""
    rows = [(iid, float(a), float(b)) for iid, items in spans.items() for a, b in items]
    return write_table(pd.DataFrame(rows, columns=SPAN_COLUMNS), path)


def read_spans(path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """``{interview_id: [(start, end), ...]}`` from a table written by ``write_spans``."""
    table = read_table(path)
    missing = [c for c in SPAN_COLUMNS if c not in table.columns]
    if missing:
        raise ManifestError(
            f"span table lacks column(s) {missing}",
            path=path,
            fix="write it with interview_mil.data.manifest.write_spans (rerun the segment stage)",
        )
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for iid, a, b in table[SPAN_COLUMNS].itertuples(index=False):
        out[str(iid)].append((float(a), float(b)))
    return dict(out)
