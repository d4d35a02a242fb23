from dataclasses import dataclass, field

import pytest

from interview_mil.config import apply_overrides, dump_yaml, from_dict, load_config
from interview_mil.errors import ConfigError
from interview_mil.registry import Registry


@dataclass(frozen=True)
class Train:
    lr: float = 1e-3
    epochs: int = 10
    pooling: str = "attention"
    layers: tuple[int, ...] = (1, 2)


@dataclass(frozen=True)
class Window:
    size: int | str | None = None


@dataclass(frozen=True)
class Exp:
    name: str = "x"
    seed: int | None = None
    train: Train = field(default_factory=Train)


def test_nested_load_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: demo\ntrain:\n  epochs: 3\n  layers: [4]\n")
    cfg = load_config(Exp, path, ["train.lr=3e-4", "seed=7"])
    assert cfg == Exp(name="demo", seed=7, train=Train(lr=3e-4, epochs=3, layers=(4,)))
    assert "lr: 0.0003" in dump_yaml(cfg)


def test_unknown_keys_are_errors_with_the_valid_ones(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  lrr: 0.1\n")
    with pytest.raises(ConfigError) as err:
        load_config(Exp, path)
    assert "train.lrr" in str(err.value) and "lr" in str(err.value) and "c.yaml" in str(err.value)
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(Exp, apply_overrides({}, ["train.nope=1"]))


def test_wrong_types_are_errors():
    with pytest.raises(ConfigError, match="expected an integer"):
        from_dict(Exp, {"train": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match="expected a number"):
        from_dict(Exp, {"train": {"lr": True}})


def test_a_value_matching_no_alternative_says_why_for_each():
    with pytest.raises(ConfigError) as err:
        from_dict(Window, {"size": 1.5})
    message = str(err.value)
    assert "size: 1.5" in message and "int | str | null" in message
    assert "expected an integer" in message and "expected a string" in message
    with pytest.raises(ConfigError, match="expected an integer, got 'ten'"):
        from_dict(Exp, {"seed": "ten"})
    assert from_dict(Window, {"size": "auto"}).size == "auto" and from_dict(Window, {"size": None}).size is None


def test_registry_lists_known_names():
    reg = Registry("pooling")
    reg.register("attention")(object)
    with pytest.raises(ConfigError, match="use one of: attention"):
        reg.get("atention")
