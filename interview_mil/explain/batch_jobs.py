"""The recordings of a scoring batch, checked before any work: ``check_jobs`` (every file there, no recording
twice), ``assign_ids`` (interview ids unique within the batch and the output folder) and ``fingerprint``
(what a stored result was computed from, so a rerun knows what it may reuse); ``score_here``, the runner
that computes a batch's recordings in this process (``batch_ray.RayRunner`` is the one on Ray)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import RECORDING_ERRORS, ConfigError
from .batch_store import describe_failure
from .records import ExplainedInterview

FILE_KEYS = (("audio", "AUDIO"), ("transcript", "--transcript"), ("rttm", "--rttm"))
# What a runner yields per recording, in the order they finish: the job's index, its result or the reason
# it failed (one line, as ``describe_failure`` gives it), and the seconds it took.
Outcome = tuple[int, ExplainedInterview | str, float]
Runner = Callable[[Any, Sequence[dict]], Iterator[Outcome]]  # (ScreeningPipeline, apply keywords per job)


def check_jobs(jobs: Sequence[Mapping[str, Any]]) -> None:
    """``ConfigError`` listing every input file that is missing or not a file, and every recording given
    twice; nothing has been computed yet when it is raised."""
    problems = []
    for job in jobs:
        for key, flag in FILE_KEYS:
            value = job.get(key)
            if value is None:
                continue
            path = Path(value)
            if not path.exists():
                problems.append(f"{flag} {path}: not found")
            elif not path.is_file():
                problems.append(f"{flag} {path}: not a file")
        channel = job.get("channel")
        if channel is not None and channel < 0:
            problems.append(f"--channel {channel}: channels count from 0")
    seen: dict[Path, str] = {}
    for job in jobs:
        resolved = Path(job["audio"]).resolve()
        if resolved in seen:
            problems.append(f"AUDIO {job['audio']}: given twice (also as {seen[resolved]})")
        seen[resolved] = str(job["audio"])
    if problems:
        shown = "\n    ".join(problems[:20]) + (
            f"\n    ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise ConfigError(
            f"{len(problems)} problem(s) with the inputs, nothing was scored:\n    {shown}",
            fix="correct the paths (each recording once, with its transcript/RTTM in the same order) and rerun",
        )


def base_id(audio: str | Path) -> str:
    """The interview id a recording gets by default: its file name without extension (and without a
    DAIC-style ``_AUDIO`` suffix)."""
    stem = Path(audio).stem
    return stem[: -len("_AUDIO")] if stem.upper().endswith("_AUDIO") else stem


def _path_id(path: Path, depth: int) -> str:
    parts = [*path.parent.parts[-depth:], base_id(path)] if depth else [base_id(path)]
    return re.sub(r"[^\w.-]+", "_", "_".join(p.strip("/\\") for p in parts if p.strip("/\\")))


def assign_ids(audio: Sequence[str | Path], known: Mapping[str, str] | None = None) -> list[str]:
    """One interview id per recording, unique within the batch and against ``known`` (resolved path → id
    of recordings already in the output folder, which keep theirs). A file name shared by several
    recordings (``p1/audio.wav``, ``p2/audio.wav``) gets the folders above it (``p1_audio``, ``p2_audio``),
    as many levels as it takes."""
    known = dict(known or {})
    paths = [Path(a).resolve() for a in audio]
    taken = {iid: src for src, iid in known.items()}
    by_base: dict[str, set[str]] = {}
    for path in paths:
        by_base.setdefault(base_id(path), set()).add(str(path))
    ids = []
    for path in paths:
        if str(path) in known:
            ids.append(known[str(path)])
            continue
        clash = len(by_base[base_id(path)]) > 1 or taken.get(base_id(path), str(path)) != str(path)
        depth = 1 if clash else 0
        candidate = _path_id(path, depth)
        while taken.get(candidate, str(path)) != str(path):
            depth += 1
            if depth > len(path.parent.parts):
                candidate = f"{_path_id(path, depth)}_{len(ids)}"
                break
            candidate = _path_id(path, depth)
        taken[candidate] = str(path)
        ids.append(candidate)
    return ids


def _file_state(value: str | Path | None) -> list | None:
    """[resolved path, SHA-256 of the bytes]: the file's identity and content (a file replaced under the same
    name, or copied with a new time, is told apart by what it holds, not by its size and time)."""
    if value is None:
        return None
    from ..mil.bundle import file_sha256

    path = Path(value).resolve()
    return [str(path), file_sha256(path)]


def same_audio(a: Mapping[str, Any] | None, b: Mapping[str, Any]) -> bool:
    """True when two fingerprints name the same audio content (the rest of the inputs may differ)."""
    return a is not None and a.get("audio") == b.get("audio")


def fingerprint(job: Mapping[str, Any]) -> dict[str, Any]:
    """What a recording's result depends on besides the model: its files (path and content hash) and the
    options that choose its turns."""
    return {
        "audio": _file_state(job["audio"]),
        "transcript": _file_state(job.get("transcript")),
        "rttm": _file_state(job.get("rttm")),
        "participant": job.get("participant"),
        "channel": job.get("channel"),
        "file_id": job.get("file_id"),
    }


def score_here(pipe: Any, jobs: Sequence[Mapping[str, Any]]) -> Iterator[Outcome]:
    """The default runner of ``ScreeningPipeline.score_batch``: ``pipe.apply(**job)`` for each job in turn,
    in this process; a recording's bad input or failed stage is its failure, the others go on."""
    for k, job in enumerate(jobs):
        start = time.perf_counter()
        try:
            outcome: ExplainedInterview | str = pipe.apply(**job)
        except RECORDING_ERRORS as exc:
            outcome = describe_failure(exc, job["audio"])
        yield k, outcome, time.perf_counter() - start
