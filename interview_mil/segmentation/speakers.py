"""Speaker-labelled segment files: RTTM (diarisation output) and STM (NIST segment transcripts).

RTTM: ``SPEAKER <uri> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>``; other record types
are ignored. STM: ``<uri> <channel> <speaker> <start> <end> [<label>] <words...>``; ``;;`` lines are
comments; the pseudo-speaker ``inter_segment_gap`` (untranscribed stretches) is skipped and
``excluded_region`` marks a stretch no turn may bridge. The chosen participant's segments become
participant lines; every other speaker is treated as the interviewer (a turn ends when they speak, and
their speech gives the response latency).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import TranscriptError
from .daic import check_order, parse_time
from .spans import Line

STM_PSEUDO_SPEAKERS = frozenset({"inter_segment_gap", "excluded_region"})


def _read(path: Path, kind: str) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError as exc:
        raise TranscriptError(f"cannot read {kind} file ({exc.strerror})", path=path) from None


def read_rttm(path: str | Path) -> list[tuple[str, float, float, int]]:
    """Every SPEAKER record of an RTTM file as ``(speaker, start, end, lineno)``, times in seconds."""
    path = Path(path)
    records = []
    for lineno, raw in enumerate(_read(path, "RTTM"), start=1):
        fields = raw.split()
        if not fields or fields[0].startswith(("#", ";;")) or fields[0].upper() != "SPEAKER":
            continue
        if len(fields) < 8:
            raise TranscriptError(
                f"line {lineno}: an RTTM SPEAKER record needs at least 8 fields, found {len(fields)}",
                path=path,
                fix="SPEAKER <uri> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>",
            )
        onset = parse_time(fields[3], path, lineno, "onset")
        duration = parse_time(fields[4], path, lineno, "duration")
        records.append((fields[7], onset, onset + duration, lineno))
    return records


def read_stm(path: str | Path) -> list[tuple[str, float, float, int, str]]:
    """Every STM segment as ``(speaker, start, end, lineno, words)``, times in seconds."""
    path = Path(path)
    records = []
    for lineno, raw in enumerate(_read(path, "STM"), start=1):
        if not raw.strip() or raw.lstrip().startswith(";;"):
            continue
        fields = raw.split()
        if len(fields) < 5:
            raise TranscriptError(
                f"line {lineno}: an STM line needs at least 5 fields, found {len(fields)}",
                path=path,
                fix="<uri> <channel> <speaker> <start> <end> [<label>] <words...>",
            )
        start = parse_time(fields[3], path, lineno, "start")
        end = parse_time(fields[4], path, lineno, "end")
        check_order(start, end, path, lineno)
        words = fields[5:]
        if words and words[0].startswith("<") and words[0].endswith(">"):
            words = words[1:]
        records.append((fields[2], start, end, lineno, " ".join(words)))
    return records


def _choose(participant: str | None, speakers: list[str], path: Path) -> str:
    known = sorted(set(speakers))
    if participant is None:
        raise TranscriptError(
            f"which speaker is the participant? speakers in the file: {known}",
            path=path,
            fix="pass --participant NAME (or set participant_speaker in the manifest)",
        )
    if participant not in known:
        folded = {s.lower(): s for s in known}
        if participant.lower() in folded:
            return folded[participant.lower()]
        raise TranscriptError(
            f"participant speaker {participant!r} does not occur; speakers in the file: {known}",
            path=path,
            fix="choose one of the speakers listed",
        )
    return participant


def rttm_lines(path: str | Path, participant: str | None) -> list[Line]:
    """``Line`` records of an RTTM file with ``participant`` (case-insensitive) as the participant."""
    path = Path(path)
    records = read_rttm(path)
    if not records:
        raise TranscriptError("no SPEAKER records in the RTTM file", path=path)
    chosen = _choose(participant, [r[0] for r in records], path)
    return [Line(a, b, "participant" if spk == chosen else "interviewer", None, n) for spk, a, b, n in records if b > a]


def stm_lines(path: str | Path, participant: str | None) -> list[Line]:
    """``Line`` records of an STM file with ``participant`` (case-insensitive) as the participant."""
    path = Path(path)
    records = read_stm(path)
    speakers = [r[0] for r in records if r[0] not in STM_PSEUDO_SPEAKERS]
    if not speakers:
        raise TranscriptError("no speaker segments in the STM file", path=path)
    chosen = _choose(participant, speakers, path)
    lines = []
    for spk, a, b, n, words in records:
        if b <= a or spk == "inter_segment_gap":
            continue
        role = "boundary" if spk == "excluded_region" else ("participant" if spk == chosen else "interviewer")
        lines.append(Line(a, b, role, words or None, n))
    return lines
