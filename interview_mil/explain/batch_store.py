"""``BatchStore``: the output folder of a batch of scored recordings, written one recording at a time.

    OUT/interviews.csv|.parquet, turns.csv|.parquet, report.html   every recording in the store
    OUT/per_recording/run.json              which model the results come from (refuses another model)
    OUT/per_recording/log.jsonl             one line per recording and run: scored, reused or failed
    OUT/per_recording/<key>.turns.parquet   a scored recording's turn table
    OUT/per_recording/<key>.json            its interview row, inputs' fingerprint, time; written last

Each recording's files are written atomically as soon as it is done, its ``.json`` last (it marks the
recording finished), so a killed batch loses at most the recording in progress. The tables are always
rebuilt from the stored records, so a resumed batch gives the same tables as one that was never stopped.
A recording is identified by its resolved audio path and its inputs by their content (SHA-256): the same
content is reused, changed content is scored again. A failure is stored as a row with ``status: failed``;
it does not replace an earlier good result of the same audio content, but audio replaced by a file that
fails is not answered by the old result. Results are keyed by the whole bundle's hash and the screen's alpha.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConfigError, InputError, InterviewMilError
from ..fileio import read_table, write_json, write_table
from .export import write_tables
from .records import ExplainedInterview, InterviewRow
from .tables import TURN_COLUMNS

STORE_DIR = "per_recording"
RUN_FILE = "run.json"
LOG_FILE = "log.jsonl"
TABLE_FILES = ("interviews.csv", "interviews.parquet", "turns.csv", "turns.parquet", "report.html")


def describe_failure(exc: BaseException, audio: str | Path) -> str:
    """One line for a failed recording: the reason and the fix, the file named only when it is not the
    recording itself (the row already names the audio)."""
    if isinstance(exc, InputError):
        named = exc.path is not None and Path(exc.path) != Path(audio)
        fix = f" (fix: {exc.fix})" if exc.fix else ""
        return (f"{exc.path}: " if named else "") + exc.reason + fix
    if isinstance(exc, InterviewMilError):
        return str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {exc}"


def failed_item(interview_id: str, audio_path: str, threshold: float, reason: str) -> ExplainedInterview:
    """The record of a recording that could not be scored: a row with ``status: failed`` and no turns."""
    row = InterviewRow(
        interview_id, audio_path, math.nan, None, round(float(threshold), 6), 0, "", status="failed", error=reason
    )
    return ExplainedInterview(row, pd.DataFrame(columns=TURN_COLUMNS))


@dataclass
class StoredRecording:
    """One finished recording of the store. ``source``: resolved audio path (the identity);
    ``fingerprint``: the inputs it was scored from (files' sizes and times, options)."""

    key: str
    source: str
    fingerprint: dict[str, Any]
    item: ExplainedInterview
    finished_at: float

    @property
    def ok(self) -> bool:
        return self.item.row.status == "ok"


def record_key(interview_id: str, source: str) -> str:
    """File name stem of a recording's files: its id (made safe) and a hash of its resolved audio path."""
    safe = re.sub(r"[^\w.-]+", "_", interview_id)
    return f"{safe}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"


def check_out_dir(out_dir: str | Path, create: bool = False) -> Path:
    """``ConfigError`` unless ``out_dir`` is, or can be made, a writable folder. Without ``create`` nothing
    is made (a check before any work); with it the folder is made and a file written in it as a probe."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError("--out exists and is a file, not a folder", path=out, fix="give a folder name for --out")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        why = f"{parent} is a file" if parent.exists() and not parent.is_dir() else f"{parent} is not writable"
        raise ConfigError(f"cannot write the results here ({why})", path=out, fix="choose a writable --out folder")
    if not create:
        return out
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"cannot write the results here ({exc.strerror or exc})", path=out, fix="choose a writable --out folder"
        ) from None
    return out


class BatchStore:
    """The folder ``out_dir`` as a store of scored recordings of one model (``model_id``)."""

    def __init__(self, out_dir: str | Path, model_id: str):
        self.out = Path(out_dir)
        self.dir = self.out / STORE_DIR
        self.model_id = model_id

    @classmethod
    def open(cls, out_dir: str | Path, model_id: str, model_name: str = "", alpha: float | None = None) -> BatchStore:
        """Check the folder and claim it for ``model_id`` at the screen's ``alpha`` (None: the bundle's):
        ``ConfigError`` when it is not writable, holds results of another model or of this model at another
        alpha, or holds tables no batch store wrote (they would be overwritten)."""
        out = check_out_dir(out_dir, create=True)
        store = cls(out, model_id)
        run_file = store.dir / RUN_FILE
        if run_file.exists():
            try:
                earlier = json.loads(run_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                earlier = {}
            if earlier.get("model_id") == model_id and earlier.get("alpha") != alpha:
                said = lambda a: "the bundle's alpha" if a is None else f"alpha {a}"  # noqa: E731
                raise ConfigError(
                    f"the folder holds results of this model scored at {said(earlier.get('alpha'))}; this run "
                    f"asks for {said(alpha)}, whose three-way screen differs",
                    path=out,
                    fix="score into another --out folder for the other alpha"
                    + ("" if earlier.get("alpha") is None else f", or rerun with --alpha {earlier.get('alpha')}"),
                )
            if earlier.get("model_id") != model_id:
                raise ConfigError(
                    f"the folder holds results of another model ({earlier.get('model') or 'unknown'}); results of "
                    "two models never share a folder",
                    path=out,
                    fix="choose a new --out folder (or delete this one to start over)",
                )
            return store
        foreign = [name for name in TABLE_FILES if (out / name).exists()]
        if foreign:
            raise ConfigError(
                f"the folder already holds {foreign} that no batch run in it wrote ({STORE_DIR}/{RUN_FILE} is "
                "missing), and they would be overwritten",
                path=out,
                fix="choose a new --out folder, or move those files away",
            )
        write_json(run_file, {"model_id": model_id, "model": model_name, "alpha": alpha, "created": time.time()})
        return store

    def recordings(self) -> dict[str, StoredRecording]:
        """Every finished recording, by resolved audio path (files being written are ignored)."""
        found = {}
        for path in sorted(self.dir.glob("*.json")):
            if path.name == RUN_FILE or path.name.startswith("."):
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                row = InterviewRow(**data["row"])
                if row.status == "ok":
                    turns = read_table(self.dir / f"{path.stem}.turns.parquet")
                else:
                    turns = pd.DataFrame(columns=TURN_COLUMNS)
                item = ExplainedInterview(row, turns, [tuple(s) for s in data["interviewer"]], data["duration"])
                found[data["source"]] = StoredRecording(
                    path.stem, data["source"], data["fingerprint"], item, data["finished_at"]
                )
            except (ValueError, KeyError, TypeError, InterviewMilError) as exc:  # edited or damaged by hand
                warnings.warn(f"{path}: unreadable record ({exc}); that recording is scored again", stacklevel=2)
        return found

    def save(self, key: str, source: str, fingerprint: dict, item: ExplainedInterview, seconds: float) -> None:
        """Store one finished recording (turn table first, then its ``.json``) and log it."""
        if item.row.status == "ok":
            write_table(item.turns, self.dir / f"{key}.turns.parquet")
        record = {
            "source": source,
            "fingerprint": fingerprint,
            "row": item.row.to_dict(),
            "interviewer": [list(s) for s in item.interviewer],
            "duration": item.duration,
            "finished_at": time.time(),
            "seconds": seconds,
        }
        write_json(self.dir / f"{key}.json", record)
        self.log("scored" if item.row.status == "ok" else "failed", item.row.interview_id, source, seconds=seconds)

    def log(self, event: str, interview_id: str, source: str, **fields: Any) -> None:
        """Append one line to ``log.jsonl`` (a torn last line after a kill is ignored by readers)."""
        line = {"time": time.time(), "event": event, "interview_id": interview_id, "audio": source, **fields}
        with open(self.dir / LOG_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")

    def read_log(self) -> list[dict]:
        """The lines of ``log.jsonl`` that parse, oldest first."""
        path = self.dir / LOG_FILE
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        out = []
        for text in lines:
            try:
                out.append(json.loads(text))
            except ValueError:
                continue
        return out

    def write_tables(
        self, first: Sequence[str], html: bool = False, title: str = "interview_mil screening report"
    ) -> tuple[list[ExplainedInterview], int, dict[str, Path]]:
        """Rebuild the tables (and report, when asked or already there) from every stored recording: those
        of ``first`` (resolved audio paths) in that order, then earlier ones by finishing time. Returns the
        items in table order, how many of them are ``first``'s, and the paths written."""
        stored = self.recordings()
        order = [s for s in dict.fromkeys(first) if s in stored]
        n_first, seen = len(order), set(order)
        order += sorted((s for s in stored if s not in seen), key=lambda s: stored[s].finished_at)
        items = [stored[s].item for s in order]
        html = html or (self.out / "report.html").exists()
        return items, n_first, write_tables(items, self.out, html=html, title=title)
