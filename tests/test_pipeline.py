"""Scoring new recordings: `interview-mil score` and `ScreeningPipeline`, on synthetic interviews and on the
real conversation in ../shared/data/conversation (with its STM, and with no transcript at all)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import shared_path

from interview_mil.cli.main import main
from interview_mil.explain import INTERVIEW_COLUMNS, TURN_COLUMNS
from interview_mil.pipeline import ScreeningPipeline

DEBUG = ["model.params.max_epochs=5", "model.params.patience=5", "evaluation.seeds=[0]"]


@pytest.fixture(scope="module")
def model_dir(recipe_corpus, tmp_path_factory) -> Path:
    """A prosody + attention model trained through `interview-mil train` on the recipe corpus."""
    conf = Path(__file__).resolve().parents[1] / "recipes" / "synthetic" / "conf" / "prosody_attention.yaml"
    exp = tmp_path_factory.mktemp("exp")
    assert main(["train", str(conf), f"corpus.root={recipe_corpus}", *DEBUG, "--out", str(exp), "--no-progress"]) == 0
    return exp / "model"


def _test_recordings(corpus: Path) -> list[tuple[Path, Path]]:
    labels = pd.read_csv(corpus / "ground_truth" / "labels.csv")
    ids = labels.loc[labels["split"] == "test", "Participant_ID"].astype(str)
    return [(corpus / f"{i}_P" / f"{i}_AUDIO.wav", corpus / f"{i}_P" / f"{i}_TRANSCRIPT.csv") for i in ids]


def _check_tables(out: Path, n: int, n_failed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scored rows (``n``) of the tables in ``out``; ``n_failed`` rows must say why they failed."""
    interviews = pd.read_csv(out / "interviews.csv")
    turns = pd.read_csv(out / "turns.csv")
    assert list(interviews.columns[: len(INTERVIEW_COLUMNS)]) == INTERVIEW_COLUMNS
    assert (interviews["status"] == "ok").sum() == n and (interviews["status"] == "failed").sum() == n_failed
    failed = interviews[interviews["status"] == "failed"]
    assert failed["error"].astype(str).str.len().gt(0).all() and failed["probability"].isna().all()
    interviews = interviews[interviews["status"] == "ok"]
    assert list(turns.columns[: len(TURN_COLUMNS)]) == TURN_COLUMNS
    assert (out / "interviews.parquet").exists() and (out / "turns.parquet").exists()
    assert interviews["probability"].between(0, 1).all()
    assert set(turns["interview_id"].astype(str)) == set(interviews["interview_id"].astype(str))
    sums = turns.groupby("interview_id")["weight"].sum()
    assert np.allclose(sums, 1.0, atol=1e-4)
    assert (turns["end"] > turns["start"]).all()
    return interviews, turns


def test_score_cli_and_python_api_agree(model_dir, recipe_corpus, tmp_path, capsys):
    recordings = _test_recordings(recipe_corpus)
    args = [
        "score",
        str(model_dir),
        *[str(a) for a, _ in recordings],
        "--out",
        str(tmp_path / "s"),
        "--html",
        "--no-progress",
    ]
    for _, transcript in recordings:
        args += ["--transcript", str(transcript)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "probability" in printed and "#1" in printed and "not a diagnostic device" in printed
    interviews, turns = _check_tables(tmp_path / "s", len(recordings))
    assert (tmp_path / "s" / "report.html").exists()
    assert turns["text"].notna().any()  # transcript text carried into the turn table
    pipe = ScreeningPipeline.from_pretrained(model_dir)
    audio, transcript = recordings[0]
    stages = []
    result = pipe.apply(audio, transcript=transcript, hook=lambda stage, record: stages.append(stage))
    assert stages == ["segment", "quality", "featurize", "bag", "explain"]
    assert result.interview_id == audio.stem.replace("_AUDIO", "")
    row = interviews.astype({"interview_id": str}).set_index("interview_id").loc[result.interview_id]
    assert result.probability == pytest.approx(row["probability"], abs=1e-6)
    assert row["audio_path"] == str(audio)
    assert len(result.top_turns(3)) == min(3, len(result.turns))
    # the interviewer's transcript lines come with the segmentation, for the report's timeline
    assert result.interviewer and all(b > a for a, b in result.interviewer)


def test_score_real_conversation_with_stm_and_without_transcript(model_dir, tmp_path):
    conv = shared_path("conversation")
    wav, stm = conv / "sample.wav", conv / "sample.stm"
    assert (
        main(
            [
                "score",
                str(model_dir),
                str(wav),
                "--transcript",
                str(stm),
                "--participant",
                "Diane",
                "--out",
                str(tmp_path / "stm"),
                "--no-progress",
            ]
        )
        == 0
    )
    _, turns = _check_tables(tmp_path / "stm", 1)
    assert len(turns) >= 3
    # without a transcript: the voices told apart from the audio, and the words recognised (Whisper tiny.en)
    assert main(["score", str(model_dir), str(wav), "--out", str(tmp_path / "audio"), "--no-progress"]) == 0
    _, audio_turns = _check_tables(tmp_path / "audio", 1)
    assert len(audio_turns) >= 1 and audio_turns["text"].notna().all()


def test_score_batch_reports_failures_and_finishes_the_rest(model_dir, recipe_corpus, tmp_path, capsys):
    good, transcript = _test_recordings(recipe_corpus)[0]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00not audio at all")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 5, dtype=np.float32), 16000)
    code = main(
        ["score", str(model_dir), str(broken), str(silent), str(good), "--out", str(tmp_path / "o"), "--no-progress"]
    )
    assert code == 1
    captured = capsys.readouterr()
    err = captured.err
    assert "broken.wav" in err and "silent.wav" not in err  # silence is refused by the gate, not a failure
    assert "silent.wav: insufficient audio" in captured.out and "no participant speech" in captured.out
    assert f"{broken}: {broken}:" not in err  # the path is named once, not repeated by the message
    interviews, _ = _check_tables(tmp_path / "o", 1, n_failed=1)
    rows = pd.read_csv(tmp_path / "o" / "interviews.csv").set_index("interview_id")
    assert rows.loc["broken", "status"] == "failed" and "cannot read audio" in rows.loc["broken", "error"]
    assert rows.loc["silent", "status"] == "insufficient_audio" and np.isnan(rows.loc["silent", "probability"])
    assert "no participant speech" in rows.loc["silent", "quality_reason"]
    assert rows.loc["broken", "audio_path"] == str(broken)


def test_score_needs_one_transcript_per_recording(model_dir, recipe_corpus, tmp_path, capsys):
    (a, ta), (b, _) = _test_recordings(recipe_corpus)[:2]
    assert main(["score", str(model_dir), str(a), str(b), "--transcript", str(ta), "--out", str(tmp_path)]) == 2
    assert "once per AUDIO" in capsys.readouterr().err


def test_missing_model_bundle_says_how_to_fix(tmp_path):
    from interview_mil.errors import ModelNotFoundError

    with pytest.raises(ModelNotFoundError, match="interview-mil train"):
        ScreeningPipeline.from_pretrained(tmp_path / "nothing")


def test_score_decodes_each_recording_once(model_dir, recipe_corpus, monkeypatch):
    """Segmentation keeps the decoded audio for the features: one decode per recording, not one per stage
    (header reads for the duration do not count), plus the quality gate's one block-wise pass over the raw
    file (DC offset and channel balance before any resampling or mixing)."""
    import soundfile

    decoded = []
    real_read = soundfile.SoundFile.read

    def counting_read(self, *args, **kwargs):
        decoded.append(self.name)
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(soundfile.SoundFile, "read", counting_read)
    audio, transcript = _test_recordings(recipe_corpus)[0]
    pipe = ScreeningPipeline.from_pretrained(model_dir)
    pipe.apply(audio, transcript=transcript)
    assert decoded.count(str(audio)) == 2, decoded
