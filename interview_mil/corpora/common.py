"""Helpers shared by the corpus preparers: finding files, reading durations, writing the manifest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from ..data.audio import audio_info
from ..data.manifest import write_manifest
from ..data.records import Interview
from ..errors import AudioError, ManifestError
from ..fileio import write_json

log = logging.getLogger(__name__)


def first_existing(candidates: Sequence[Path]) -> Path | None:
    """The first path in ``candidates`` that exists, else None."""
    return next((p for p in candidates if p.exists()), None)


def with_duration(interview: Interview, problems: list[str]) -> Interview | None:
    """Return ``interview`` with its duration read from the audio header, or None (and a problem noted)."""
    import dataclasses

    try:
        info = audio_info(interview.audio_path)
    except AudioError as exc:
        problems.append(f"{interview.interview_id}: {exc}")
        return None
    return dataclasses.replace(interview, duration=info.duration)


def finish_manifest(interviews: list[Interview], problems: list[str], output_dir: str | Path,
                    corpus: str, name: str = "interviews.jsonl") -> Path:
    """Write the validated manifest plus ``prepare_report.json`` (what was skipped and why)."""
    out = Path(output_dir)
    if not interviews:
        raise ManifestError(f"no usable interviews found for corpus {corpus!r}",
                            fix="check the corpus folder; problems: " + "; ".join(problems[:5]))
    path = write_manifest(sorted(interviews, key=lambda i: i.interview_id), out / name)
    counts: dict[str, dict[str, int]] = {}
    for i in interviews:
        c = counts.setdefault(i.split or "none", {"n": 0, "positive": 0, "unlabelled": 0})
        c["n"] += 1
        c["positive"] += int(i.label == 1)
        c["unlabelled"] += int(i.label is None)
    write_json(out / "prepare_report.json", {"corpus": corpus, "manifest": str(path),
                                              "splits": counts, "skipped": problems})
    for problem in problems:
        log.warning("skipped %s", problem)
    return path
