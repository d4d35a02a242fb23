"""The data stages of an experiment: prepare (corpus → manifest), segment (→ turns), featurize (→ store).

Each stage reads what the previous one wrote in the experiment folder, skips work already done with the
same settings, records failures and finishes the rest. ``train`` and ``evaluate`` live in ``training``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..config import from_dict
from ..data.manifest import read_manifest, read_turns, write_turns
from ..data.records import Interview
from ..errors import ManifestError
from ..fileio import write_json
from .config import ExperimentConfig
from .layout import ExperimentDir

log = logging.getLogger(__name__)


def _synthetic_root(config: ExperimentConfig, progress: bool) -> Path:
    """The synthetic corpus folder, generated from ``corpus.synth`` when it does not exist yet."""
    from ..corpora.synthetic import SynthConfig, generate_corpus

    root = Path(config.corpus.root)
    if (root / "ground_truth" / "labels.csv").exists():
        return root
    synth = from_dict(SynthConfig, dict(config.corpus.synth), source="corpus.synth")
    log.info("generating the synthetic corpus (%d interviews) in %s", synth.n_interviews, root)
    generate_corpus(root, synth, progress=progress)
    return root


def prepare(exp: ExperimentDir, config: ExperimentConfig, progress: bool = True) -> list[Interview]:
    """Write the config files and the interview manifest (``EXP/data/interviews.jsonl``)."""
    from ..corpora import PREPARERS

    exp.write_config(config)
    corpus = config.corpus
    out = exp.manifest.parent
    if corpus.name == "synthetic":
        path = PREPARERS["synthetic"](_synthetic_root(config, progress), out)
    elif corpus.name == "folder":
        path = PREPARERS["folder"](corpus.root, corpus.labels, out, **corpus.options)
    else:
        path = PREPARERS[corpus.name](corpus.root, out, **corpus.options)
    interviews = read_manifest(path)
    exp.record("prepare", n_interviews=len(interviews))
    return interviews


def load_manifest(exp: ExperimentDir) -> list[Interview]:
    if not exp.manifest.exists():
        raise ManifestError("the experiment has no interview manifest yet", path=exp.manifest,
                            fix="run `interview-mil prepare CONF --out EXP` first")
    return read_manifest(exp.manifest)


def segment(exp: ExperimentDir, config: ExperimentConfig, progress: bool = True, force: bool = False) -> dict:
    """Segment every interview of the manifest into ``EXP/turns.parquet`` (and ``turns.csv``)."""
    from ..segmentation import segment_manifest

    report_path = exp.root / "segment_report.json"
    if exp.turns.exists() and report_path.exists() and not force:
        return {"skipped": True}
    interviews = load_manifest(exp)
    report = segment_manifest(interviews, config.segmentation, progress=progress)
    write_turns(report.turns, exp.turns)
    write_turns(report.turns, exp.turns.with_suffix(".csv"))
    summary = {"n_interviews": len(interviews), "n_turns": len(report.turns), "failures": report.failures,
               "no_turns": report.empty, "sources": report.sources}
    write_json(report_path, summary)
    for iid, message in report.failures.items():
        log.warning("segmentation failed for %s: %s", iid, message)
    exp.record("segment", n_turns=len(report.turns), n_failed=len(report.failures))
    return summary


def load_turns(exp: ExperimentDir) -> dict:
    if not exp.turns.exists():
        raise ManifestError("the experiment has no turns table yet", path=exp.turns,
                            fix="run `interview-mil segment --manifest EXP/data/interviews.jsonl "
                                "--config EXP/segmentation.yaml --out EXP/turns.parquet` (or `interview-mil train`)")
    return read_turns(exp.turns)


def featurize(exp: ExperimentDir, config: ExperimentConfig, workers: int = 1, device: str | None = None,
              progress: bool = True) -> dict:
    """Turn features of every segmented interview into the store ``EXP/features/<key>/``."""
    from ..features import featurize_manifest

    interviews = load_manifest(exp)
    turns = load_turns(exp)
    with_turns = [i for i in interviews if turns.get(i.interview_id)]
    report = featurize_manifest(with_turns, {i.interview_id: turns[i.interview_id] for i in with_turns},
                                config.features, exp.features_root, workers=workers, device=device,
                                progress=progress)
    for iid, message in report.failed.items():
        log.warning("features failed for %s: %s", iid, message)
    summary = {"done": len(report.done), "skipped": len(report.skipped), "failed": report.failed,
               "store": str(report.store_dir)}
    exp.record("featurize", **{k: v for k, v in summary.items() if k != "failed"}, n_failed=len(report.failed))
    return summary


def run_missing_stages(exp: ExperimentDir, config: ExperimentConfig, workers: int = 1, device: str | None = None,
                       progress: bool = True) -> None:
    """Run prepare, segment and featurize where their outputs are missing (featurize skips what is stored)."""
    if not exp.manifest.exists():
        prepare(exp, config, progress)
    else:
        exp.write_config(config)  # refuses a changed corpus/segmentation/features section
    segment(exp, config, progress)
    featurize(exp, config, workers=workers, device=device, progress=progress)
