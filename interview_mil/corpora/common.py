"""Helpers shared by the corpus preparers: finding files, reading durations, writing the manifest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

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


def finish_manifest(
    interviews: list[Interview],
    problems: list[str],
    output_dir: str | Path,
    corpus: str,
    name: str = "interviews.jsonl",
) -> Path:
    """Write the validated manifest plus ``prepare_report.json`` (what was skipped and why)."""
    out = Path(output_dir)
    if not interviews:
        raise ManifestError(
            f"no usable interviews found for corpus {corpus!r}",
            fix="check the corpus folder; problems: " + "; ".join(problems[:5]),
        )
    path = write_manifest(sorted(interviews, key=lambda i: i.interview_id), out / name)
    counts: dict[str, dict[str, int]] = {}
    for i in interviews:
        c = counts.setdefault(i.split or "none", {"n": 0, "positive": 0, "unlabelled": 0})
        c["n"] += 1
        c["positive"] += int(i.label == 1)
        c["unlabelled"] += int(i.label is None)
    write_json(
        out / "prepare_report.json", {"corpus": corpus, "manifest": str(path), "splits": counts, "skipped": problems}
    )
    for problem in problems:
        log.warning("skipped %s", problem)
    return path


def grouped_stratified_splits(
    groups: Sequence[str],
    labels: Sequence[int | None],
    seed: int = 0,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> dict[str, str]:
    """Assign each group (participant) to train/dev/test, stratified by the group's label.

    All interviews of a participant share one split by construction. Groups with unknown label are
    spread like a third class. Returns ``{group: split}``.
    """
    import numpy as np

    label_of: dict[str, object] = {}
    for g, y in zip(groups, labels):
        label_of.setdefault(g, y)
    rng = np.random.default_rng(seed)
    out: dict[str, str] = {}
    for cls in sorted({str(v) for v in label_of.values()}):
        members = sorted(g for g, y in label_of.items() if str(y) == cls)
        rng.shuffle(members)
        n = len(members)
        n_test = int(round(n * fractions[2]))
        n_dev = int(round(n * fractions[1]))
        if n >= 3:
            n_test, n_dev = max(n_test, 1), max(n_dev, 1)
        for k, g in enumerate(members):
            out[g] = "test" if k < n_test else "dev" if k < n_test + n_dev else "train"
    return out
