"""Speaker-labelled segment files: RTTM (diarisation output) and STM (NIST segment transcripts).

RTTM: ``SPEAKER <uri> <channel> <onset> <duration> <NA> <NA> <speaker> <NA> <NA>``; other record types
are ignored. STM: ``<uri> <channel> <speaker> <start> <end> [<label>] <words...>``; ``;;`` lines are
comments; the pseudo-speaker ``inter_segment_gap`` (untranscribed stretches) is skipped and
``excluded_region`` marks a stretch no turn may bridge. The chosen participant's segments become
participant lines; every other speaker is treated as the interviewer (a turn ends when they speak, and
their speech gives the response latency). A file may hold several recordings (the ``<uri>`` column): only
the lines of the recording being segmented are used (``select_recording``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

from ..data.records import Interview
from ..errors import TranscriptError
from ..fileio import atomic_path
from .config import SegmentationConfig
from .daic import check_order, parse_time
from .diarize import Diarization
from .spans import Line

STM_PSEUDO_SPEAKERS = frozenset({"inter_segment_gap", "excluded_region"})


def _read(path: Path, kind: str) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError as exc:
        raise TranscriptError(f"cannot read {kind} file ({exc.strerror})", path=path) from None


def _rttm_records(path: Path) -> list[tuple[str, str, float, float, int]]:
    """Every SPEAKER record as ``(file id, speaker, start, end, lineno)``."""
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
        records.append((fields[1], fields[7], onset, onset + duration, lineno))
    return records


def _stm_records(path: Path) -> list[tuple[str, str, float, float, int, str]]:
    """Every STM segment as ``(file id, speaker, start, end, lineno, words)``."""
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
        records.append((fields[0], fields[2], start, end, lineno, " ".join(words)))
    return records


def read_rttm(path: str | Path) -> list[tuple[str, float, float, int]]:
    """Every SPEAKER record of an RTTM file (all recordings) as ``(speaker, start, end, lineno)``, in seconds."""
    return [r[1:] for r in _rttm_records(Path(path))]


def read_stm(path: str | Path) -> list[tuple[str, float, float, int, str]]:
    """Every STM segment (all recordings) as ``(speaker, start, end, lineno, words)``, times in seconds."""
    return [r[1:] for r in _stm_records(Path(path))]


def select_recording(
    file_ids: Sequence[str], names: Sequence[str], path: Path, explicit: str | None = None
) -> str | None:
    """Which file id of an RTTM/STM file is this recording's: ``explicit`` when given (it must occur);
    otherwise None when the file holds one recording (all its lines are used), else the first of ``names``
    (the interview id, the audio file's stem) that occurs, compared case-insensitively. A file with several
    recordings and none of these names is a ``TranscriptError`` listing the ids it holds."""
    held = list(dict.fromkeys(file_ids))
    shown = f"{held[:10]}{' ...' if len(held) > 10 else ''}"
    folded = {h.lower(): h for h in held}
    if explicit is not None:
        if explicit.lower() in folded:
            return folded[explicit.lower()]
        raise TranscriptError(
            f"file id {explicit!r} does not occur; the file holds the recording(s) {shown}",
            path=path,
            fix="choose one of the ids listed (--file-id, or the file_id column of a manifest)",
        )
    if len(held) <= 1:
        if held and names and held[0].lower() not in {n.lower() for n in names if n}:
            warnings.warn(
                f"{path}: its lines are for recording {held[0]!r}, not {list(dict.fromkeys(names))}; they are "
                f"used for this audio because the file holds one recording (pass --file-id {held[0]} to say so, "
                "or give this recording's own file)",
                stacklevel=2,
            )
        return None
    for name in names:
        if name and name.lower() in folded:
            return folded[name.lower()]
    raise TranscriptError(
        f"the file holds {len(held)} recordings {shown} and none is named {list(dict.fromkeys(names))}, "
        "so its lines cannot be matched to this audio",
        path=path,
        fix="name this recording's file id with --file-id ID (or a file_id column in the manifest), or give a "
        "file with this recording's lines only",
    )


def _choose(participant: str | None, speakers: list[str], path: Path) -> str:
    known = sorted(set(speakers))
    if participant is None and "participant" in known:  # as `segment --write-rttm` names the diarized voices
        return "participant"
    if participant is None:
        raise TranscriptError(
            f"which speaker is the participant? speakers in the file: {known}",
            path=path,
            fix="pass --participant NAME with one of the speakers listed",
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


def rttm_lines(
    path: str | Path, participant: str | None, names: Sequence[str] = (), file_id: str | None = None
) -> list[Line]:
    """``Line`` records of one recording of an RTTM file (see ``select_recording``: ``names`` are the
    recording's candidate file ids, ``file_id`` an explicit one) with ``participant`` (case-insensitive)
    as the participant."""
    path = Path(path)
    records = _rttm_records(path)
    if not records:
        raise TranscriptError("no SPEAKER records in the RTTM file", path=path)
    chosen_id = select_recording([r[0] for r in records], names, path, file_id)
    records = [r[1:] for r in records if chosen_id is None or r[0] == chosen_id]
    chosen = _choose(participant, [r[0] for r in records], path)
    return [Line(a, b, "participant" if spk == chosen else "interviewer", None, n) for spk, a, b, n in records if b > a]


def stm_lines(
    path: str | Path, participant: str | None, names: Sequence[str] = (), file_id: str | None = None
) -> list[Line]:
    """``Line`` records of one recording of an STM file (``names``/``file_id`` as in ``rttm_lines``) with
    ``participant`` (case-insensitive) as the participant."""
    path = Path(path)
    records = _stm_records(path)
    if records:
        chosen_id = select_recording([r[0] for r in records], names, path, file_id)
        records = [r for r in records if chosen_id is None or r[0] == chosen_id]
    speakers = [r[1] for r in records if r[1] not in STM_PSEUDO_SPEAKERS]
    if not speakers:
        raise TranscriptError("no speaker segments in the STM file", path=path)
    chosen = _choose(participant, speakers, path)
    lines = []
    for _, spk, a, b, n, words in records:
        if b <= a or spk == "inter_segment_gap":
            continue
        role = "boundary" if spk == "excluded_region" else ("participant" if spk == chosen else "interviewer")
        lines.append(Line(a, b, role, words or None, n))
    return lines


def recording_names(interview: Interview) -> tuple[list[str], str | None]:
    """``(candidate file ids, explicit file id)`` of ``interview`` in a multi-recording STM/RTTM file: its
    id and its audio file's stem (without a DAIC-style ``_AUDIO``), and ``meta["file_id"]`` when set."""
    stem = Path(interview.audio_path).stem
    names = [interview.interview_id, stem, stem[: -len("_AUDIO")] if stem.upper().endswith("_AUDIO") else stem]
    explicit = interview.meta.get("file_id") if interview.meta else None
    return list(dict.fromkeys(names)), None if explicit is None else str(explicit)


def check_no_participant(interview: Interview, config: SegmentationConfig, path: str, kind: str) -> None:
    """A participant speaker name means nothing to DAIC-WOZ / E-DAIC transcripts: refuse one that would be
    ignored (the DAIC-WOZ participant is found by ``transcript.participant_names``)."""
    name = interview.participant_speaker
    if name is None:
        return
    known = [n.replace(" ", "").lower() for n in config.transcript.participant_names]
    if kind == "daic_woz" and name.replace(" ", "").lower() in known:
        return
    what = (
        f"a DAIC-WOZ transcript names its participant {list(config.transcript.participant_names)}"
        if kind == "daic_woz"
        else "an E-DAIC ASR transcript names no speakers"
    )
    raise TranscriptError(
        f"participant speaker {name!r} was given, but {what}, so it would be ignored",
        path=path,
        fix="drop --participant (participant_speaker) for this transcript"
        + (", or set segmentation transcript.participant_names" if kind == "daic_woz" else ""),
    )


def rttm_names(diarization: Diarization) -> dict[str, str]:
    """RTTM speaker names of the voices: ``participant``, ``interviewer`` (one other voice) or ``other_spkN``."""
    others = [s for s in diarization.speakers if s != diarization.participant]
    names = {s: ("interviewer" if len(others) == 1 else f"other_{s}") for s in others}
    return names | ({diarization.participant: "participant"} if diarization.participant else {})


def write_rttm(diarization: Diarization, uri: str, path: str | Path) -> Path:
    """Write who spoke when as RTTM (``SPEAKER uri 1 onset duration <NA> <NA> name <NA> <NA>``): the voices
    under ``rttm_names``, overlapped speech under ``overlap``. Read back with ``--rttm`` (the speaker named
    ``participant`` is the participant unless ``--participant`` says otherwise) after correcting it."""
    names = rttm_names(diarization)
    rows = [(a, b, names[s]) for a, b, s in diarization.segments] + [(a, b, "overlap") for a, b in diarization.overlap]
    text = "".join(
        f"SPEAKER {uri} 1 {a:.3f} {b - a:.3f} <NA> <NA> {name} <NA> <NA>\n" for a, b, name in sorted(rows) if b > a
    )
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)
