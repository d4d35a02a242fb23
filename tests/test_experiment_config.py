"""Experiment configs: every recipe config loads; unknown keys and bad values are errors; overrides;
the experiment folder refuses to mix data settings; provenance is recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from interview_mil.cli.main import main
from interview_mil.corpora import PREPARERS
from interview_mil.errors import ConfigError, ManifestError
from interview_mil.experiment import ExperimentDir, config_dict, load_experiment_config

RECIPES = Path(__file__).resolve().parents[1] / "recipes"


@pytest.mark.parametrize(
    "conf", sorted(RECIPES.glob("*/conf/*.yaml")), ids=lambda p: f"{p.parent.parent.name}/{p.stem}"
)
def test_recipe_configs_load_and_round_trip(conf, tmp_path):
    config = load_experiment_config(conf)
    assert config.corpus.name == conf.parent.parent.name
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(config_dict(config)))
    assert load_experiment_config(again) == config


def test_unknown_keys_are_errors_at_every_level(tmp_path):
    for text, where in [
        ("colour: red\n", "colour"),
        ("model: {poolin: attention}\n", "model.poolin"),
        ("segmentation: {vad: {agressiveness: 2}}\n", "agressiveness"),
        ("model: {params: {learning_rate: 0.1}}\n", "learning_rate"),
        ("features: {encoder: {modle: x}}\n", "modle"),
    ]:
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
    config = load_experiment_config(
        RECIPES / "synthetic/conf/prosody_attention.yaml",
        [
            "model.pooling=gated_attention",
            "model.params.lr=3e-4",
            "evaluation.seeds=[4,5]",
            "segmentation.vad.aggressiveness=3",
        ],
    )
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
    meta = json.loads(exp.meta_path.read_text())
    assert meta["package_version"] and "git_commit" in meta and meta["stages"]["prepare"]["n_interviews"] == 3


def test_corpora_are_looked_up_in_the_preparer_registry(tmp_path):
    assert PREPARERS.names() == ["daic_woz", "e_daic", "folder", "realvoice", "synthetic"]
    with pytest.raises(ConfigError, match="daic_woz, e_daic, folder, synthetic|'daic_woz', 'e_daic'"):
        load_experiment_config(None, ["corpus.name=avec"])
    bad_option = load_experiment_config(
        None, ["corpus.name=daic_woz", f"corpus.root={tmp_path}", "corpus.options={split_file: x}"]
    ).corpus
    with pytest.raises(ConfigError, match="corpus.options.split_file"):
        PREPARERS.get("daic_woz")(bad_option, tmp_path / "out", False)
    stray_labels = load_experiment_config(None, ["corpus.name=e_daic", "corpus.labels=labels.csv"]).corpus
    with pytest.raises(ConfigError, match="corpus.labels is not used by the e_daic corpus"):
        PREPARERS.get("e_daic")(stray_labels, tmp_path / "out", False)
    folder = load_experiment_config(
        None, ["corpus.name=folder", "corpus.labels=l.csv", "corpus.options={id_colum: file}"]
    ).corpus
    with pytest.raises(ConfigError, match="corpus.options.id_colum") as err:
        PREPARERS.get("folder")(folder, tmp_path / "out", False)
    assert "id_column" in str(err.value)  # the valid options are listed


def test_experiment_folder_loads_manifest_and_turns_or_says_which_stage_to_run(tmp_path):
    exp = ExperimentDir(tmp_path / "exp")
    with pytest.raises(ManifestError, match="no interview manifest yet") as err:
        exp.load_manifest()
    assert "interview-mil prepare" in str(err.value)
    with pytest.raises(ManifestError, match="no turns table yet") as err:
        exp.load_turns()
    assert "interview-mil segment --exp EXP" in str(err.value)


def test_every_stage_run_is_logged_in_order(tmp_path):
    exp = ExperimentDir(tmp_path / "exp")
    exp.record("featurize", done=3, skipped=0)
    exp.record("train", n_train=3)
    exp.record("featurize", done=1, skipped=3)
    assert [e["done"] for e in exp.stage_log("featurize")] == [3, 1]
    assert [e["stage"] for e in exp.stage_log()] == ["featurize", "train", "featurize"]
    assert json.loads(exp.meta_path.read_text())["stages"]["featurize"]["done"] == 1  # the latest run


def test_experiment_forms_of_segment_and_featurize_take_their_settings_from_the_folder(tmp_path, capsys):
    exp = ExperimentDir(tmp_path / "exp")
    exp.write_config(load_experiment_config(None))
    assert main(["segment", "--exp", str(exp.root), "--out", "t.csv", "--vad-aggressiveness", "3"]) == 2
    assert main(["featurize", "--exp", str(exp.root), "--encoder", "x", "--set", "prosody.f0_max=400"]) == 2
    err = capsys.readouterr().err
    assert "['--out', '--vad-aggressiveness']" in err and "['--encoder', '--set']" in err
    assert main(["segment", "--exp", str(exp.root)]) == 2  # prepared config, but no manifest yet
    assert "no interview manifest yet" in capsys.readouterr().err
    assert main(["segment", "--exp", str(tmp_path / "nowhere")]) == 2
    assert "not an experiment folder" in capsys.readouterr().err
    assert main(["featurize", "--turns", "t.csv"]) == 2
    assert "MANIFEST --turns TURNS --out STORE, or --exp EXP" in capsys.readouterr().err


def test_feature_sets_keep_their_clinical_columns_and_every_embedding_column():
    from interview_mil.errors import ConfigError
    from interview_mil.experiment import load_experiment_config
    from interview_mil.features.sets import CORE, feature_set_columns

    names = ["f0_mean_hz", "f0_sd_st", "pause_ratio", "mfcc_01_mean", "emb_0000", "emb_0001"]
    kept = [names[j] for j in feature_set_columns(names, "core")]
    assert kept == ["f0_sd_st", "pause_ratio", "emb_0000", "emb_0001"] and set(kept) - {"emb_0000", "emb_0001"} <= set(
        CORE
    )
    assert feature_set_columns(names, "full") == list(range(len(names)))
    with pytest.raises(ConfigError, match="feature_set"):
        load_experiment_config(None, ["corpus.name=synthetic", "model.feature_set=tiny"])
