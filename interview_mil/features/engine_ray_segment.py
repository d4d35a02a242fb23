"""The Ray engine of the segment stage: each interview's segmentation (VAD, transcript or RTTM rules) as a
Ray task, gathered into the same ``SegmentationReport`` as ``segmentation.segment_manifest``, in manifest
order. A task whose worker or node dies is retried (``TASK_RETRIES``); an interview that fails is recorded
in ``failures`` and the rest go on. The stage writes its tables once all interviews are back (segmenting
is fast next to featurizing, so it is not stored interview by interview).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

from ..data.records import Interview
from ..errors import RECORDING_ERRORS, InterviewMilError
from ..segmentation import NoTurnsWarning, SegmentationConfig, SegmentationReport, segment_interview
from .engine_ray import TASK_RETRIES, connect, for_workers, reason, require_ray

log = logging.getLogger(__name__)


def _segment_task(interview: Interview, config: SegmentationConfig, source: str | None) -> tuple:
    """Ray task: ``(source, interviewer spans, turns)`` of one interview, or ``(None, message)`` when the
    interview's input is bad (the local batch's message, so both engines report the same)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoTurnsWarning)
            result = segment_interview(interview, config, source)
    except RECORDING_ERRORS as exc:  # recorded for this interview, as segment_manifest does (a bug is raised)
        kind = "" if isinstance(exc, InterviewMilError) else f"{type(exc).__name__}: "
        return None, f"{kind}{exc}"
    return result.source, result.interviewer, result.turns


def segment_with_ray(
    interviews: Sequence[Interview],
    config: SegmentationConfig | None = None,
    source: str | None = None,
    address: str | None = None,
    progress: bool = True,
) -> SegmentationReport:
    """``segment_manifest`` on Ray: one task (one CPU slot) per interview; ``address`` as in
    ``engine_ray.connect``."""
    from tqdm.auto import tqdm

    ray = require_ray()
    config = config or SegmentationConfig()
    started = connect(address, 1)
    try:
        task = ray.remote(_segment_task).options(num_cpus=1, max_retries=TASK_RETRIES)
        refs = {task.remote(for_workers(iv), config, source): iv.interview_id for iv in interviews}
        results: dict[str, tuple] = {}
        with tqdm(total=len(refs), desc="segmenting (ray)", unit="interview", disable=not progress) as bar:
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                iid = refs[done[0]]
                try:
                    results[iid] = ray.get(done[0])
                except ray.exceptions.RayError as exc:  # retries ran out (worker or node lost): it fails
                    results[iid] = (None, reason(exc))
                bar.update(1)
    finally:
        if started:
            ray.shutdown()
    report = SegmentationReport()
    for interview in interviews:  # manifest order, as the local engine
        iid = interview.interview_id
        result = results[iid]
        if result[0] is None:
            report.failures[iid] = result[1]
            continue
        report.sources[iid], report.interviewer[iid], turns = result
        report.turns.extend(turns)
        if not turns:
            report.empty.append(iid)
    return report


__all__ = ["segment_with_ray"]
