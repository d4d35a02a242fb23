"""``interview-mil featurize`` end to end on the synthetic corpus: manifest → segment → featurize, rerun
skips, config keying through the command line, and the errors a user sees."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from interview_mil.cli.main import main
from interview_mil.features import FeatureStore
from interview_mil.features.encoders.tiny import build_tiny_model


@pytest.fixture(scope="module")
def prepared(synthetic_corpus, tmp_path_factory):
    """(manifest, turns table, tiny model folder) for the session's synthetic corpus."""
    from interview_mil.corpora import prepare_synthetic

    out = tmp_path_factory.mktemp("featurize_cli")
    manifest = prepare_synthetic(synthetic_corpus, out / "prepared")
    turns = out / "turns.csv"
    assert main(["segment", "--manifest", str(manifest), "--out", str(turns), "--no-progress"]) == 0
    model = build_tiny_model("hubert", out / "tiny_hubert", n_layers=2)
    return manifest, turns, model


# --workers 2 spawns processes that import the whole stack (~1-3 min on 2 busy cores): slow suite only.
@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.slow)])
def test_featurize_end_to_end_and_rerun(prepared, tmp_path, capsys, workers):
    manifest, turns, model = prepared
    config = tmp_path / "features.yaml"
    config.write_text(yaml.safe_dump({"prosody": {"mfcc": 4}, "encoder": {"model": str(model), "pool": "mean_std"}}))
    store = tmp_path / "store"
    args = [
        "featurize",
        str(manifest),
        "--turns",
        str(turns),
        "--out",
        str(store),
        "--config",
        str(config),
        "--layers",
        "1",
        "--workers",
        workers,
        "--device",
        "cpu",
        "--no-progress",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 interview(s) featurized, 0 already done, 0 failed (prosody + embeddings)" in out
    (key_dir,) = list(store.iterdir())
    opened = FeatureStore.open(key_dir)
    assert opened.config.encoder.layers == 1 and opened.config.prosody.mfcc == 4
    ids = opened.interview_ids()
    assert len(ids) == 4
    for iid in ids:
        features = opened.load(iid)
        assert features.embeddings.shape == (features.n_turns, 64)
        matrix, names = features.matrix()
        assert "mfcc_04_mean" in names and "mfcc_05_mean" not in names and names[-1] == "emb_0063"
        assert np.isfinite(matrix[:, names.index("speech_rate_syl_per_s")]).mean() > 0.5
    # the rerun skips everything; a different layer is a different store folder
    assert main(args) == 0
    assert "0 interview(s) featurized, 4 already done" in capsys.readouterr().out
    assert main(args[:-5] + ["--layers", "2", "--no-prosody", "--no-progress"]) == 0
    assert len(list(store.iterdir())) == 2


def test_featurize_cli_errors(prepared, tmp_path, capsys, monkeypatch):
    manifest, turns, _ = prepared
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    base = ["featurize", str(manifest), "--turns", str(turns), "--out", str(tmp_path / "s"), "--no-progress"]
    assert main(base + ["--encoder", "someone/not-downloaded", "--no-prosody"]) == 2
    err = capsys.readouterr().err
    assert "huggingface-cli download someone/not-downloaded" in err
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())  # nothing half-made
    assert main(base + ["--encoder", "x", "--layers", "deep"]) == 2
    assert "layers" in capsys.readouterr().err
    assert main(base + ["--no-prosody"]) == 2  # nothing left to compute
    assert "neither prosody nor an encoder" in capsys.readouterr().err
    assert main(["featurize", str(manifest), "--turns", str(tmp_path / "none.csv"), "--out", "x"]) == 2
    assert "none.csv" in capsys.readouterr().err
