"""E-DAIC ASR transcripts (``{id}_Transcript.csv``: ``Start_Time,End_Time,Text,Confidence``) and the
detection of a transcript's format from its content.

The E-DAIC transcripts come from automatic speech recognition over the whole recording and carry no
speaker column. Turns built from them are the ASR segments refined by VAD, and **they include the
interviewer's speech wherever the recogniser transcribed it: without a speaker source (an RTTM file, a
participant channel) interviewer speech cannot be removed from these turns.** Use the ``vad`` source with
bleed removal, or give an RTTM, when only the participant may be kept.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Literal

from ..errors import TranscriptError
from .daic import check_order, normalise_name, parse_time
from .spans import Line

TranscriptFormat = Literal["daic_woz", "e_daic", "stm", "rttm"]
_ASR_COLUMNS = ("start_time", "end_time", "text")


def read_asr_lines(path: str | Path, min_confidence: float = 0.0) -> list[Line]:
    """ASR segments as participant ``Line`` records (``Confidence`` below ``min_confidence`` dropped).

    Raises ``TranscriptError`` naming the file and line on a missing column, a bad time or stop < start.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript ({exc.strerror})", path=path) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise TranscriptError("transcript is empty", path=path)
    header = [normalise_name(c) for c in rows[0]]
    missing = [c for c in _ASR_COLUMNS if c not in header]
    if missing:
        raise TranscriptError(
            f"line 1: header lacks column(s) {missing}; found {rows[0]}",
            path=path,
            fix="an E-DAIC transcript starts with: Start_Time,End_Time,Text,Confidence",
        )
    col = {c: header.index(c) for c in (*_ASR_COLUMNS, "confidence") if c in header}
    lines = []
    for lineno, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            raise TranscriptError(
                f"line {lineno}: expected {len(header)} columns, found {len(row)}",
                path=path,
                fix="quote a Text value that contains commas",
            )
        start = parse_time(row[col["start_time"]], path, lineno, "Start_Time")
        end = parse_time(row[col["end_time"]], path, lineno, "End_Time")
        check_order(start, end, path, lineno)
        if "confidence" in col and row[col["confidence"]].strip():
            try:
                confidence = float(row[col["confidence"]])
            except ValueError:
                raise TranscriptError(
                    f"line {lineno}: Confidence {row[col['confidence']]!r} is not a number", path=path
                ) from None
            if confidence < min_confidence:
                continue
        if end > start:
            lines.append(Line(start, end, "participant", row[col["text"]].strip() or None, lineno))
    return lines


def detect_transcript_format(path: str | Path) -> TranscriptFormat:
    """Which reader ``path`` needs, from its first meaningful line (not its name).

    DAIC-WOZ: a header with ``start_time``, ``stop_time`` and ``speaker``; E-DAIC: a header with
    ``Start_Time``, ``End_Time`` and ``Text``; RTTM: records starting with ``SPEAKER``; STM:
    ``<uri> <channel> <speaker> <start> <end> ...`` lines.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            first = next((l for l in handle if l.strip() and not l.lstrip().startswith((";;", "#"))), "")
    except OSError as exc:
        raise TranscriptError(f"cannot read transcript ({exc.strerror})", path=path) from None
    names = {normalise_name(c) for c in first.replace("\t", ",").split(",")}
    if {"start_time", "stop_time", "speaker"} <= names:
        return "daic_woz"
    if {"start_time", "end_time", "text"} <= names:
        return "e_daic"
    fields = first.split()
    if fields and fields[0].upper() == "SPEAKER":
        return "rttm"
    if len(fields) >= 5:
        try:
            float(fields[3]), float(fields[4])
            return "stm"
        except ValueError:
            pass
    raise TranscriptError(
        "unrecognised transcript format",
        path=path,
        fix="give a DAIC-WOZ transcript (start_time<TAB>stop_time<TAB>speaker<TAB>value), an E-DAIC ASR "
        "transcript (Start_Time,End_Time,Text,Confidence), an STM or an RTTM file",
    )
