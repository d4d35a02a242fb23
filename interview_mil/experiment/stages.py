"""The data stages of an experiment: prepare (corpus → manifest), segment (→ turns), featurize (→ store).

Each stage reads what the previous one wrote in the experiment folder, skips work already done with the
same settings, records failures and finishes the rest. ``train`` and ``evaluate`` live in ``training``.
"""

from __future__ import annotations

import logging

from ..corpora import PREPARERS
from ..data.manifest import read_manifest, write_spans, write_turns
from ..data.records import Interview
from ..fileio import read_json, write_json
from .config import ExperimentConfig
from .layout import ExperimentDir

log = logging.getLogger(__name__)


def prepare(exp: ExperimentDir, config: ExperimentConfig, progress: bool = True) -> list[Interview]:
    """Write the config files and the interview manifest (``EXP/data/interviews.jsonl``) with the
    corpus's registered preparer (``interview_mil.corpora.PREPARERS``)."""
    exp.write_config(config)
    path = PREPARERS.get(config.corpus.name)(config.corpus, exp.manifest.parent, progress)
    interviews = read_manifest(path)
    exp.record("prepare", n_interviews=len(interviews))
    return interviews


def segment(
    exp: ExperimentDir,
    config: ExperimentConfig,
    progress: bool = True,
    force: bool = False,
    engine: str | None = None,
    address: str | None = None,
) -> dict:
    """Segment every interview of the manifest into ``EXP/turns.parquet`` (and ``turns.csv``) and the
    interviewer's spans into ``EXP/interviewer_spans.parquet``, with the outcome in
    ``EXP/segment_report.json``, written last: it marks the stage finished. When the turns and the report
    exist (and not ``force``) nothing is redone: the stored report comes back with ``skipped: True``.
    ``engine`` (default ``features.engine``): ``"ray"`` segments each interview as a Ray task."""
    report_path = exp.segment_report
    if exp.turns.exists() and report_path.exists() and not force:
        return {**read_json(report_path), "skipped": True}
    interviews = exp.load_manifest()
    if (engine or config.features.engine) == "ray":
        from ..features.engine_ray_segment import segment_with_ray

        address = address or config.features.engine_address
        report = segment_with_ray(interviews, config.segmentation, address=address, progress=progress)
    else:
        from ..segmentation import segment_manifest

        report = segment_manifest(interviews, config.segmentation, progress=progress)
    write_turns(report.turns, exp.turns)
    write_turns(report.turns, exp.turns.with_suffix(".csv"))
    write_spans(report.interviewer, exp.interviewer_spans)
    summary = {
        "n_interviews": len(interviews),
        "n_turns": len(report.turns),
        "failures": report.failures,
        "no_turns": report.empty,
        "sources": report.sources,
    }
    write_json(report_path, summary)
    for iid, message in report.failures.items():
        log.warning("segmentation failed for %s: %s", iid, message)
    exp.record("segment", n_interviews=len(interviews), n_turns=len(report.turns), n_failed=len(report.failures))
    return summary


def featurize(
    exp: ExperimentDir,
    config: ExperimentConfig,
    workers: int = 1,
    device: str | None = None,
    progress: bool = True,
    engine: str | None = None,
    address: str | None = None,
) -> dict:
    """Turn features of every segmented interview into the store ``EXP/features/<key>/``; interviews
    already in the store are skipped (counted in ``skipped``), so a rerun computes only what is missing
    (and is recorded in meta.json only when it computed or failed something). ``engine``/``address``
    override ``features.engine``/``features.engine_address`` for this run (neither changes the features)."""
    from ..features import featurize_manifest

    interviews = exp.load_manifest()
    turns = exp.load_turns()
    with_turns = [i for i in interviews if turns.get(i.interview_id)]
    report = featurize_manifest(
        with_turns,
        {i.interview_id: turns[i.interview_id] for i in with_turns},
        config.features,
        exp.features_root,
        workers=workers,
        device=device,
        progress=progress,
        engine=engine,
        address=address,
    )
    for iid, message in report.failed.items():
        log.warning("features failed for %s: %s", iid, message)
    summary = {
        "done": len(report.done),
        "skipped": len(report.skipped),
        "failed": report.failed,
        "store": str(report.store_dir),
    }
    if report.done or report.failed:  # a run that found everything stored records nothing (as segment)
        exp.record(
            "featurize",
            done=summary["done"],
            skipped=summary["skipped"],
            store=summary["store"],
            n_failed=len(report.failed),
            engine=engine or config.features.engine,
        )
    return summary


def run_missing_stages(
    exp: ExperimentDir, config: ExperimentConfig, workers: int = 1, device: str | None = None, progress: bool = True
) -> None:
    """Run prepare, segment and featurize where their outputs are missing (featurize skips what is stored)."""
    if not exp.manifest.exists():
        prepare(exp, config, progress)
    else:
        exp.write_config(config)  # refuses a changed corpus/segmentation/features section
    segment(exp, config, progress)
    featurize(exp, config, workers=workers, device=device, progress=progress)
