"""Issue 15, inputs: transcripts and configs are checked before any work. STM/RTTM files holding several
recordings give only this recording's lines; a participant name that a transcript would ignore is refused;
an experiment config is validated whole (types, ranges, model.params) before the first stage runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import shared_path
from test_reliability_support import assert_clear_error, recording, run_cli, write_recording

from interview_mil.experiment import ExperimentDir, load_experiment_config

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "synthetic" / "conf" / "prosody_attention.yaml"


def _turns(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)[["start", "end", "text"]]


@pytest.mark.parametrize("kind", ["rttm", "stm"])
def test_a_file_with_several_recordings_gives_only_this_recordings_lines(kind, tmp_path, capsys):
    conv = shared_path("conversation")
    wav, own = conv / "sample.wav", conv / f"sample.{kind}"
    speaker, flag = ("speaker91", "--rttm") if kind == "rttm" else ("Diane", "--transcript")
    other = (
        "SPEAKER other 1 3.000 2.000 <NA> <NA> speaker91 <NA> <NA>\n"
        if kind == "rttm"
        else "other 1 Diane 1.0 3.0 a line of another recording\n"
    )
    multi = tmp_path / f"multi.{kind}"
    multi.write_text(own.read_text() + other)
    common = ["segment", wav, "--participant", speaker]
    assert run_cli(capsys, *common, flag, own, "--out", tmp_path / "one.csv")[0] == 0
    assert run_cli(capsys, *common, flag, multi, "--out", tmp_path / "multi.csv")[0] == 0
    pd.testing.assert_frame_equal(_turns(tmp_path / "multi.csv"), _turns(tmp_path / "one.csv"))

    renamed = tmp_path / f"renamed.{kind}"  # no file id names this audio: refuse, listing the ids
    renamed.write_text(multi.read_text().replace("sample", "rec9"))
    code, _, err = run_cli(capsys, *common, flag, renamed, "--out", tmp_path / "x.csv")
    assert code == 2
    assert_clear_error(err, renamed, "'rec9'", "'other'", "--file-id")
    assert not (tmp_path / "x.csv").exists()
    code, _, _ = run_cli(capsys, *common, flag, renamed, "--file-id", "rec9", "--out", tmp_path / "chosen.csv")
    assert code == 0
    pd.testing.assert_frame_equal(_turns(tmp_path / "chosen.csv"), _turns(tmp_path / "one.csv"))


def _daic(tmp_path: Path) -> tuple[Path, Path]:
    samples, spans = recording(seed=3)
    audio = write_recording(tmp_path / "300_AUDIO.wav", seed=3)
    assert len(samples) > 0
    lines = ["start_time\tstop_time\tspeaker\tvalue"]
    for k, (a, b) in enumerate(spans):
        lines.append(f"{a - 0.9:.3f}\t{a - 0.2:.3f}\tEllie\tquestion {k}")
        lines.append(f"{a:.3f}\t{b:.3f}\tParticipant\tanswer {k}")
    transcript = tmp_path / "300_TRANSCRIPT.csv"
    transcript.write_text("\n".join(lines) + "\n")
    return audio, transcript


def test_participant_with_a_daic_woz_transcript_is_refused_not_ignored(tmp_path, capsys):
    audio, transcript = _daic(tmp_path)
    args = ["segment", audio, "--transcript", transcript]
    code, _, err = run_cli(capsys, *args, "--participant", "Bob", "--out", tmp_path / "t.csv")
    assert code == 2
    assert_clear_error(err, transcript, "'Bob'", "DAIC-WOZ", "drop --participant")
    assert not (tmp_path / "t.csv").exists()
    assert run_cli(capsys, *args, "--out", tmp_path / "t.csv")[0] == 0
    assert run_cli(capsys, *args, "--participant", "participant", "--out", tmp_path / "u.csv")[0] == 0
    assert len(pd.read_csv(tmp_path / "t.csv")) == 4


def test_negative_max_turn_length_is_an_error(tmp_path, capsys):
    audio = write_recording(tmp_path / "a.wav")
    code, _, err = run_cli(capsys, "segment", audio, "--max-turn-length", "-5", "--out", tmp_path / "t.csv")
    assert code == 2
    assert_clear_error(err, "--max-turn-length", "0 to keep turns whole")
    assert not (tmp_path / "t.csv").exists()


def test_a_bad_model_param_fails_before_any_stage_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "corpus"
    exp = tmp_path / "exp"
    code, _, err = run_cli(
        capsys, "train", RECIPE, f"corpus.root={corpus}", "model.params.lr=abc", "--out", exp, "--no-progress"
    )
    assert code == 2
    assert_clear_error(err, RECIPE, "model.params.lr", "'abc'", "default, 0.001")
    assert not exp.exists() and not corpus.exists()  # nothing prepared, segmented or featurized


@pytest.mark.parametrize(
    "override, named",
    [
        ("model.params.lr=-1", "model.params.lr"),
        ("model.params.dropout=1.5", "model.params.dropout"),
        ("model.params.hidden=[64,0]", "model.params.hidden"),
        ("model.params.threshold=2", "model.params.threshold"),
        ("model.params.max_epochs=2.5", "model.params.max_epochs"),
        ("model.params.val_fraction=1.5", "model.params.val_fraction"),
        ("segmentation.turns.max_length=-3", "turns.max_length"),
        ("features.prosody.f0_min=600", "features.prosody: f0_min"),
        ("corpus.synth.depressed_fraction=2", "corpus.synth"),
    ],
)
def test_every_range_is_checked_when_the_config_loads(override, named, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "prepare", RECIPE, override, "--out", tmp_path / "exp", "--no-progress")
    assert code == 2
    assert_clear_error(err, RECIPE, named)
    assert not (tmp_path / "exp").exists() and not (tmp_path / "data").exists()


def test_empty_config_is_an_error_that_says_what_a_config_needs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    code, _, err = run_cli(capsys, "train", empty, "--out", tmp_path / "exp", "--no-progress")
    assert code == 2
    assert_clear_error(err, empty, "empty", "corpus: {name:", "recipes/")
    assert not (tmp_path / "data").exists() and not (tmp_path / "exp").exists()  # nothing generated
    named_only = tmp_path / "name.yaml"
    named_only.write_text("name: x\n")
    code, _, err = run_cli(capsys, "prepare", named_only, "--out", tmp_path / "exp", "--no-progress")
    assert code == 2 and "names no corpus" in err and not (tmp_path / "data").exists()


def test_yaml_syntax_error_names_the_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncorpus: {name: synthetic\n  root: a\n")
    code, _, err = run_cli(capsys, "prepare", bad, "--out", tmp_path / "exp", "--no-progress")
    assert code == 2
    assert_clear_error(err, bad, "not valid YAML at line 3", "fix the YAML syntax")
    assert "<unicode string>" not in err


def test_f0_min_above_f0_max_names_the_field_not_a_class(tmp_path, capsys):
    code, _, err = run_cli(
        capsys, "prepare", RECIPE, "features.prosody.f0_min=600", "--out", tmp_path / "exp", "--no-progress"
    )
    assert code == 2
    assert_clear_error(err, RECIPE, "features.prosody: f0_min (600 Hz)", "f0_max (500 Hz)", "prosody.f0_min below")
    assert "matches none" not in err and "<class" not in err


def test_evaluate_takes_evaluation_overrides_only(tmp_path, capsys):
    exp = ExperimentDir(tmp_path / "exp")
    exp.write_config(load_experiment_config(RECIPE, [f"corpus.root={tmp_path / 'corpus'}"]))
    exp.evaluation.write_text('{"earlier": true}\n')
    code, _, err = run_cli(capsys, "evaluate", exp.root, "model.pooling=noisy_or", "--no-progress")
    assert code == 2
    assert_clear_error(err, "model.pooling=noisy_or", "evaluation.* overrides only", "interview-mil train")
    assert exp.evaluation.read_text() == '{"earlier": true}\n'
