"""DAIC-WOZ transcripts (``{id}_TRANSCRIPT.csv``: tab-separated ``start_time stop_time speaker value``).

The corpus's known defects, applied when ``transcript.daic_defects`` is on and the session id (from the
file name ``{id}_TRANSCRIPT.csv``, else the interview id) is listed here:

* transcripts out of sync with the audio: ``DAIC_SYNC_OFFSETS`` seconds are added to every time;
* interruptions (someone entering the room): lines overlapping ``DAIC_INTERRUPTIONS`` are dropped and
  no turn bridges them;
* sessions without interviewer lines (``DAIC_NO_INTERVIEWER``): turns can only be grouped by pauses and
  have no response latency (the same holds for any transcript without interviewer lines).

Always applied: sync markers (``<sync>``, ``[sync]``, ``[synch]``, ``[syncing]``) are removed; talk
before the interviewer's first line (setting up, chatting with the research assistant) is dropped.
Speaker names are matched case- and space-insensitively against the configured names; any other name
is an error naming the file and line.
"""

from __future__ import annotations

import csv
import logging
import re
from pathlib import Path

from ..errors import TranscriptError
from .config import TranscriptConfig
from .spans import Line

log = logging.getLogger(__name__)

DAIC_SYNC_OFFSETS = {"318": 34.319917, "321": 3.8379167, "341": 6.1892, "362": 16.8582}
DAIC_INTERRUPTIONS = {"373": ((395.0, 428.0),), "444": ((286.0, 387.0),)}
DAIC_NO_INTERVIEWER = frozenset({"451", "458", "480"})
SYNC_MARKER = re.compile(r"[<\[]\s*sync(?:h|ing)?\s*[>\]]", re.IGNORECASE)
_HEADER = ("start_time", "stop_time", "speaker", "value")


def normalise_name(name: str) -> str:
    """``"  Ellie "`` / ``"ELLIE"`` / ``"El lie"`` → ``"ellie"``: lower case, no whitespace."""
    return re.sub(r"\s+", "", name).lower()


def session_id(path: str | Path, interview_id: str | None = None) -> str | None:
    """The DAIC-WOZ session number from ``{id}_TRANSCRIPT.csv`` (else from the interview id)."""
    for text in (Path(path).name, interview_id or ""):
        match = re.match(r"\s*(\d+)", text)
        if match:
            return str(int(match.group(1)))
    return None


def parse_time(value: str, path: Path, lineno: int, column: str) -> float:
    """A time in seconds from a transcript cell, or a ``TranscriptError`` naming file and line."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TranscriptError(
            f"line {lineno}: {column} {value!r} is not a number of seconds",
            path=path,
            fix="times must be plain numbers (seconds from the start of the recording)",
        ) from None
    if out != out or out in (float("inf"), float("-inf")) or out < 0:
        raise TranscriptError(f"line {lineno}: {column} {value!r} is not a time >= 0 s", path=path)
    return out


def check_order(start: float, stop: float, path: Path, lineno: int) -> None:
    if stop < start:
        raise TranscriptError(
            f"line {lineno}: stop time {stop:.3f} s is before start time {start:.3f} s",
            path=path,
            fix="swap or correct the two times on that line",
        )


def read_daic_lines(path: str | Path, config: TranscriptConfig | None = None) -> list[Line]:
    """Every line of a DAIC-WOZ transcript as a ``Line`` (times as written, sync markers removed).

    Raises ``TranscriptError`` (file + line) on a missing header column, a bad time, stop < start or an
    unknown speaker name.
    """
    config = config or TranscriptConfig()
    path = Path(path)
    interviewer = {normalise_name(n) for n in config.interviewer_names}
    participant = {normalise_name(n) for n in config.participant_names}
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript ({exc.strerror})", path=path) from None
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter, quoting=csv.QUOTE_NONE))
    if not rows:
        raise TranscriptError("transcript is empty", path=path)
    header = [normalise_name(c) for c in rows[0]]
    missing = [c for c in _HEADER if c not in header]
    if missing:
        raise TranscriptError(
            f"line 1: header lacks column(s) {missing}; found {rows[0]}",
            path=path,
            fix="a DAIC-WOZ transcript starts with: start_time<TAB>stop_time<TAB>speaker<TAB>value",
        )
    col = {c: header.index(c) for c in _HEADER}
    lines: list[Line] = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(col["start_time"], col["stop_time"], col["speaker"]):
            raise TranscriptError(f"line {lineno}: expected {len(header)} columns, found {len(row)}", path=path)
        start = parse_time(row[col["start_time"]], path, lineno, "start_time")
        stop = parse_time(row[col["stop_time"]], path, lineno, "stop_time")
        check_order(start, stop, path, lineno)
        name = normalise_name(row[col["speaker"]])
        if name in interviewer:
            role = "interviewer"
        elif name in participant:
            role = "participant"
        else:
            raise TranscriptError(
                f"line {lineno}: unknown speaker {row[col['speaker']]!r}",
                path=path,
                fix=f"expected one of {sorted(interviewer | participant)}; add other names to "
                "transcript.interviewer_names or transcript.participant_names",
            )
        written = delimiter.join(row[col["value"] :])
        value = " ".join(SYNC_MARKER.sub(" ", written).split())
        if not value and SYNC_MARKER.search(written):
            continue  # a line holding only a sync marker
        if stop == start:
            log.debug("%s: line %d has zero duration; skipped", path, lineno)
            continue
        lines.append(Line(start, stop, role, value or None, lineno))
    return lines


def apply_daic_rules(
    lines: list[Line], path: str | Path, interview_id: str | None, config: TranscriptConfig
) -> list[Line]:
    """The corpus's defect fixes and the talk-before-the-interview rule (see the module docstring)."""
    sid = session_id(path, interview_id) if config.daic_defects else None
    offset = DAIC_SYNC_OFFSETS.get(sid or "", 0.0)
    if offset:
        log.info("%s: DAIC-WOZ session %s is out of sync; adding %.4f s to every time", path, sid, offset)
        lines = [Line(l.start + offset, l.end + offset, l.role, l.text, l.lineno) for l in lines]
    for a, b in DAIC_INTERRUPTIONS.get(sid or "", ()):
        kept = [l for l in lines if l.end <= a or l.start >= b]
        log.info(
            "%s: dropped %d line(s) in the interruption %.0f-%.0f s of session %s",
            path,
            len(lines) - len(kept),
            a,
            b,
            sid,
        )
        lines = kept + [Line(a, b, "boundary", None, 0)]
    lines.sort(key=lambda l: (l.start, l.end))
    prompts = [l for l in lines if l.role == "interviewer"]
    if not prompts:
        if sid not in DAIC_NO_INTERVIEWER:
            log.warning("%s: no interviewer lines; turns are grouped by pauses and have no latency", path)
        return lines
    if config.drop_before_interview:
        first = prompts[0].start
        lines = [l for l in lines if l.role != "participant" or l.start >= first]
    return lines
