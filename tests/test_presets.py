"""One place for the default interview model: every recipe's documented default, the demo and bags-cv read
their model from ``mil.presets``; a key given beside the preset replaces only that key."""

from __future__ import annotations

from pathlib import Path

import pytest

from interview_mil.errors import ConfigError
from interview_mil.experiment import load_experiment_config
from interview_mil.mil.presets import BAGS_BENCHMARK, INTERVIEW, PRESETS

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
DEFAULTS = sorted(RECIPES.glob("*/conf/default.yaml"))


def test_every_recipe_has_a_documented_default():
    assert {p.parent.parent.name for p in DEFAULTS} == {p.name for p in RECIPES.iterdir() if p.is_dir()}


@pytest.mark.parametrize("path", DEFAULTS, ids=lambda p: p.parent.parent.name)
def test_recipe_defaults_take_the_interview_model_from_the_preset(path):
    config = load_experiment_config(path)
    model = config.model
    assert model.preset == INTERVIEW.name
    assert (model.pooling, model.feature_set, model.embedding_pcs) == (
        INTERVIEW.pooling,
        INTERVIEW.feature_set,
        INTERVIEW.embedding_pcs,
    )
    for key, value in INTERVIEW.params.items():
        assert model.params[key] == value, key
    # prosody and a pretrained speech model for every turn
    assert set(model.parts) == {"prosody", "embedding"} and config.features.encoder is not None


def test_a_key_beside_the_preset_replaces_only_that_key():
    path = RECIPES / "synthetic" / "conf" / "default.yaml"
    config = load_experiment_config(path, ["model.params.speaker_relative=none", "model.pooling=noisy_or"])
    assert config.model.params["speaker_relative"] == "none" and config.model.pooling == "noisy_or"
    assert config.model.params["n_models"] == INTERVIEW.params["n_models"]
    assert config.model.feature_set == INTERVIEW.feature_set


def test_an_unknown_preset_names_the_known_ones():
    path = RECIPES / "synthetic" / "conf" / "default.yaml"
    with pytest.raises(ConfigError, match="unknown model preset 'fancy'.*") as err:
        load_experiment_config(path, ["model.preset=fancy"])
    assert "interview" in str(err.value.fix)


def test_demo_and_bags_cv_read_their_presets():
    from interview_mil.cli.bags_cv import _defaults
    from interview_mil.demo import demo_config

    demo = demo_config(Path("/tmp/unused"), None, 8, 0).model
    assert demo.preset == INTERVIEW.name and dict(demo.params) == dict(INTERVIEW.params)
    defaults = _defaults()
    for key, value in BAGS_BENCHMARK.params.items():
        assert defaults[key] == value
    assert set(PRESETS) == {"interview", "bags-benchmark"}
