"""Issue 15, broken model bundles: every damaged or inconsistent bundle is one clear error naming the file and
the field, found when the bundle loads (before any recording is touched), never a traceback and never a
bundle that loads and then fails every recording."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from test_reliability_support import assert_clear_error, make_model, run_cli, snapshot, write_recording

from interview_mil.errors import BundleError, ModelNotFoundError
from interview_mil.mil import InterviewClassifier


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("good") / "model")


@pytest.fixture(scope="module")
def audio(tmp_path_factory) -> Path:
    return write_recording(tmp_path_factory.mktemp("audio") / "a.wav")


def _edit(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(bundle: Path) -> None:
        config = json.loads((bundle / "config.json").read_text())
        result = change(config)
        (bundle / "config.json").write_text(json.dumps(config if result is None else result))

    return damage


def _weights(change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def damage(bundle: Path) -> None:
        path = bundle / "model.safetensors"
        path.write_bytes(change(path.read_bytes()))

    return damage


def _shorten_scaler(config: dict) -> None:
    scaler = config["state"]["scaler"]
    for key in ("medians", "mean", "std"):
        scaler[key] = scaler[key][:-3]


def _wider_layer(config: dict) -> None:
    config["state"]["model_config"]["hidden"] = [16]
    config["params"]["hidden"] = [16]


DAMAGE = {
    "truncated weights": (_weights(lambda b: b[: len(b) // 2]), "model.safetensors", "damaged"),
    "random weights": (_weights(lambda b: os.urandom(len(b))), "model.safetensors", "not a safetensors file"),
    "no weights": (lambda d: (d / "model.safetensors").unlink(), "model.safetensors", "not found"),
    "config is a list": (_edit(lambda c: [c]), "config.json", "holds a JSON list"),
    "config not JSON": (lambda d: (d / "config.json").write_text("{nope"), "config.json", "not valid JSON"),
    "no scaler": (_edit(lambda c: c["state"].pop("scaler") and None), "config.json", "state lacks ['scaler']"),
    "string threshold": (_edit(lambda c: c["state"].update(threshold="high")), "config.json", "state.threshold"),
    "wrong layer size": (_edit(_wider_layer), "model.safetensors", "wrong shape"),
    "shortened scaler lists": (_edit(_shorten_scaler), "config.json", "state.scaler.medians has"),
    "unknown hyper-parameter": (
        _edit(lambda c: c["params"].update(wings=2)),
        "config.json",
        "params holds ['wings']",
    ),
    "names and width disagree": (
        _edit(lambda c: c["state"].update(n_features_in=3)),
        "config.json",
        "state.feature_names_in",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_broken_bundle_is_one_clear_error_and_earlier_results_stay(case, good, audio, tmp_path, capsys):
    damage, file_name, problem = DAMAGE[case]
    out = tmp_path / "out"
    assert run_cli(capsys, "score", good, audio, "--out", out, "--no-progress")[0] == 0
    before = snapshot(out)
    bundle = tmp_path / "bundle"
    shutil.copytree(good, bundle)
    damage(bundle)
    code, _, err = run_cli(capsys, "score", bundle, audio, "--out", out, "--no-progress")
    assert code == 2
    assert_clear_error(err, bundle / file_name, problem)
    assert snapshot(out) == before  # nothing scored, nothing overwritten
    expected = ModelNotFoundError if case == "no weights" else BundleError
    with pytest.raises(expected, match=problem.replace("[", r"\[").replace("]", r"\]")):
        InterviewClassifier.load(bundle)  # the Python API says the same


def test_a_bundle_folder_that_is_a_file_or_missing_says_so(good, tmp_path, capsys):
    code, _, err = run_cli(capsys, "score", good / "config.json", tmp_path / "a.wav", "--out", tmp_path / "o")
    assert code == 2  # the missing recording is found first, before the model is loaded
    assert "a.wav: not found" in err
    with pytest.raises(ModelNotFoundError, match="a model bundle is a folder"):
        InterviewClassifier.load(good / "config.json")
    with pytest.raises(ModelNotFoundError, match="folder not found"):
        InterviewClassifier.load(tmp_path / "nothing")


def test_the_intact_bundle_passes_every_check(good):
    clf = InterviewClassifier.load(good)
    assert clf.n_features_in_ == len(clf.feature_names_in_)


def test_a_colleague_can_read_the_bundle_and_a_changed_weight_is_named(tmp_path, capsys):
    """The weights were written 0600 (safetensors replaced the temporary file), config.json 0644: a colleague
    scoring with the bundle was told it was damaged. Both files now get the umask's mode. A weight changed
    after training (the file still a valid safetensors file) is named at load, not used."""
    import numpy as np
    from safetensors.torch import load_file, save_file

    old = os.umask(0o022)
    try:
        bundle = make_model(tmp_path / "model")
    finally:
        os.umask(old)
    for name in ("model.safetensors", "config.json"):
        assert (bundle / name).stat().st_mode & 0o777 == 0o644, name
    weights = load_file(str(bundle / "model.safetensors"))
    key = next(iter(weights))
    weights[key] = weights[key] + 0.01 * np.sign(weights[key].numpy().sum() or 1.0)
    save_file(weights, str(bundle / "model.safetensors"))
    with pytest.raises(BundleError, match=r"model\.safetensors.*SHA-256 differs.*changed or replaced"):
        InterviewClassifier.load(bundle)
