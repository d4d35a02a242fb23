"""Experiment configs: every recipe config loads; unknown keys and bad values are errors; overrides;
the experiment folder refuses to mix data settings; provenance is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from interview_mil.errors import ConfigError
from interview_mil.experiment import ExperimentDir, config_dict, load_experiment_config

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


@pytest.mark.parametrize("conf", sorted(RECIPES.glob("*/conf/*.yaml")), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_recipe_configs_load_and_round_trip(conf, tmp_path):
    config = load_experiment_config(conf)
    assert config.corpus.name == conf.parent.parent.name
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(config_dict(config)))
    assert load_experiment_config(again) == config


def test_unknown_keys_are_errors_at_every_level(tmp_path):
    for text, where in [("colour: red\n", "colour"), ("model: {poolin: attention}\n", "model.poolin"),
                        ("segmentation: {vad: {agressiveness: 2}}\n", "agressiveness"),
                        ("model: {params: {learning_rate: 0.1}}\n", "learning_rate"),
                        ("features: {encoder: {modle: x}}\n", "modle")]:
        path = tmp_path / "c.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=where):
            load_experiment_config(path)


def test_bad_values_are_errors(tmp_path):
    with pytest.raises(ConfigError, match="noisy_orr|unknown"):
        load_experiment_config(None, ["model.pooling=noisy_orr"])
    with pytest.raises(ConfigError, match="corpus.name"):
        load_experiment_config(None, ["corpus.name=avec"])
    with pytest.raises(ConfigError, match="encoder"):
        load_experiment_config(None, ["model.parts=[prosody,embedding]"])
    with pytest.raises(ConfigError, match="labels"):
        load_experiment_config(None, ["corpus.name=folder"])
    with pytest.raises(ConfigError, match="seeds"):
        load_experiment_config(None, ["evaluation.seeds=[]"])


def test_dotted_overrides(tmp_path):
    config = load_experiment_config(RECIPES / "synthetic/conf/prosody_attention.yaml",
                                    ["model.pooling=gated_attention", "model.params.lr=3e-4",
                                     "evaluation.seeds=[4,5]", "segmentation.vad.aggressiveness=3"])
    assert config.model.pooling == "gated_attention" and config.model.params["lr"] == pytest.approx(3e-4)
    assert config.evaluation.seeds == (4, 5) and config.segmentation.vad.aggressiveness == 3


def test_experiment_folder_refuses_changed_data_settings_and_records_provenance(tmp_path):
    exp = ExperimentDir(tmp_path / "exp")
    config = load_experiment_config(None)
    exp.write_config(config)
    for name in ("config.yaml", "segmentation.yaml", "features.yaml"):
        assert (exp.root / name).exists()
    exp.turns.parent.mkdir(parents=True, exist_ok=True)
    exp.turns.write_bytes(b"")  # a segmentation stage has run
    exp.write_config(load_experiment_config(None, ["model.pooling=max"]))  # model changes are fine
    with pytest.raises(ConfigError, match="segmentation"):
        exp.write_config(load_experiment_config(None, ["segmentation.vad.aggressiveness=0"]))
    exp.record("prepare", n_interviews=3)
    meta = __import__("json").loads(exp.meta_path.read_text())
    assert meta["package_version"] and "git_commit" in meta and meta["stages"]["prepare"]["n_interviews"] == 3
