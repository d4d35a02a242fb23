"""`interview-mil demo`, the README's main command, on tiny settings: every step runs, the files it names
exist, and the saved model alone (``InterviewClassifier.load``) reproduces the probabilities ``score`` wrote."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from interview_mil.cli.main import main
from interview_mil.experiment import ExperimentDir
from interview_mil.experiment.dataset import load_dataset
from interview_mil.mil import InterviewClassifier

QUICK = ["evaluation.seeds=[0]", "evaluation.folds=2", "model.params.max_epochs=4", "model.params.patience=4"]


@pytest.fixture(scope="module")
def demo_out(recipe_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    shutil.copytree(recipe_corpus, out / "corpus")  # an existing corpus is used as it is (no synthesis here)
    args = ["demo", "--out", str(out), "--no-progress"]
    for item in QUICK:
        args += ["--set", item]
    assert main(args) == 0
    return out


def test_demo_writes_what_it_promises(demo_out, capsys):
    for path in (
        "model/config.json",
        "model/model.safetensors",
        "evaluation.md",
        "evaluation.json",
        "score/interviews.csv",
        "score/turns.csv",
        "score/report.html",
    ):
        assert (demo_out / path).exists(), path
    scored = pd.read_csv(demo_out / "score" / "interviews.csv")
    assert len(scored) == 2 and scored["probability"].between(0, 1).all()  # the two held-out recordings
    assert "not a diagnostic device" in (demo_out / "evaluation.md").read_text()


def test_saved_model_alone_reproduces_the_scores(demo_out):
    """The bundle carries all its preprocessing (embedding projection included when the demo used an
    encoder): the raw feature bags of the held-out interviews give the probabilities `score` wrote."""
    exp = ExperimentDir(demo_out)
    config = exp.read_config()
    data = load_dataset(exp, config)
    test = data.indices(["test"], labelled=False)
    model = InterviewClassifier.load(demo_out / "model")
    proba = model.predict_proba(data.X(test))[:, 1]
    scored = pd.read_csv(demo_out / "score" / "interviews.csv", dtype={"interview_id": str}).set_index("interview_id")
    expected = scored.loc[[data.bags[k].interview_id for k in test], "probability"].to_numpy()
    # score reads the turns span by span and resamples each span (the synthetic files come at 8, 16 and
    # 44.1 kHz); featurize resampled the whole file: the features differ by ~1e-5, the probabilities by <1e-4
    assert np.allclose(proba, expected, atol=2e-4), (proba, expected)
    if "embedding" in config.model.parts:
        assert model.projection_ is not None  # the demo's encoder features go through the saved projection
