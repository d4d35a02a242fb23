"""``interview-mil segment``: one recording, a whole manifest (failures listed, the rest finished)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_segmentation_speech import build_dialogue, write_daic

from interview_mil.cli.main import main
from interview_mil.data import Interview, read_turns, write_audio, write_manifest

COLUMNS = {
    "interview_id",
    "turn_id",
    "turn_index",
    "start",
    "end",
    "duration",
    "speaker",
    "text",
    "response_latency",
    "n_pauses",
    "pause_time",
    "source",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    dialogue = build_dialogue(voice="buzz")
    audio, transcript = write_daic(dialogue, root / "1000_P", "1000")
    return dialogue, audio, transcript, root


def test_one_recording_vad_only(corpus, tmp_path, capsys):
    dialogue, audio, _, _ = corpus
    out = tmp_path / "turns.csv"
    assert main(["segment", str(audio), "--source", "vad", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert COLUMNS <= set(df.columns) and len(df) == len(dialogue.turns)
    assert set(df.source) == {"vad"} and set(df.interview_id.astype(str)) == {"1000_AUDIO"}
    assert "3 turns" in capsys.readouterr().out


def test_one_recording_with_transcript_and_options(corpus, tmp_path):
    dialogue, audio, transcript, _ = corpus
    out = tmp_path / "turns.parquet"
    code = main(
        [
            "segment",
            str(audio),
            "--transcript",
            str(transcript),
            "--out",
            str(out),
            "--id",
            "1000",
            "--no-refine",
            "--max-turn-length",
            "0",
            "--set",
            "transcript.merge_gap=0.1",
        ]
    )
    assert code == 0
    turns = read_turns(out)["1000"]
    assert len(turns) == len(dialogue.sentences)  # merge gap 0.1 s keeps every sentence apart
    assert turns[0].text == dialogue.sentences[0][2].lower().rstrip(".?") and turns[0].source == "daic_woz"


def test_bad_options_are_reported(corpus, tmp_path, capsys):
    _, audio, _, _ = corpus
    assert main(["segment", "--out", str(tmp_path / "t.csv")]) == 2
    assert "give either one AUDIO file or --manifest" in capsys.readouterr().err
    assert main(["segment", str(audio), "--out", str(tmp_path / "t.csv"), "--set", "vad.frame_ms=25"]) == 2
    assert "frame_ms must be one of" in capsys.readouterr().err


def test_manifest_lists_failures_and_finishes_the_rest(corpus, tmp_path, capsys):
    dialogue, audio, transcript, root = corpus
    silent = write_audio(tmp_path / "silent.wav", np.zeros(16_000 * 2, np.float32))
    short = write_audio(tmp_path / "short.wav", np.zeros(16_000, np.float32))
    manifest = write_manifest(
        [
            Interview("1000", str(audio), transcript_path=str(transcript)),
            Interview("broken", str(short), transcript_path=str(transcript)),  # transcript longer than audio
            Interview("missing", str(tmp_path / "nope.wav")),
            Interview("silent", str(silent)),
            Interview("audio_only", str(audio)),
        ],
        tmp_path / "m.jsonl",
    )
    out = tmp_path / "turns.parquet"
    assert main(["segment", "--manifest", str(manifest), "--out", str(out), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "3/5 interviews segmented" in captured.out
    assert "2 interview(s) failed" in captured.err
    assert "broken: " in captured.err and "1000_TRANSCRIPT.csv: line" in captured.err
    assert "missing: " in captured.err and "audio file not found" in captured.err
    assert "no turns found in 1 interview(s): silent" in captured.err
    turns = read_turns(out)
    assert set(turns) == {"1000", "audio_only"} and len(turns["1000"]) == len(dialogue.turns)
    assert {t.source for t in turns["audio_only"]} == {"diarize"}  # one channel, no transcript: the default
