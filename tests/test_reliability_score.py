"""Issue 15, batch scoring: nothing lost, nothing mixed up. ``score`` checks every input and its output
folder before any work, writes each recording as soon as it is done, resumes a killed batch without
recomputing what was finished, keeps failures as rows and never replaces earlier results with failures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from test_reliability_support import assert_clear_error, make_model, run_cli, snapshot, write_recording

from interview_mil.explain.batch_store import LOG_FILE, STORE_DIR


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("recordings")
    return [write_recording(folder / f"r{i}.wav", seed=i) for i in range(8)]


def _score(capsys, model: Path, audio, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(capsys, "score", model, *audio, "--out", out, "--no-progress", *extra)


def _finished(out: Path) -> dict[str, int]:
    """Finished recordings in the store: record file name → modification time (ns)."""
    store = out / STORE_DIR
    return {p.name: p.stat().st_mtime_ns for p in store.glob("*.json") if p.name != "run.json"}


# A child process that scores like `interview-mil score`, slowed to 0.4 s per recording so the test can
# kill it half-way through (the test slows the child; the command and its files are the real ones).
_SLOW_CHILD = """
import sys, time
from interview_mil.cli.main import main
from interview_mil.pipeline import ScreeningPipeline
apply = ScreeningPipeline.apply
def slow(self, *args, **kwargs):
    time.sleep(0.4)
    return apply(self, *args, **kwargs)
ScreeningPipeline.apply = slow
sys.exit(main(sys.argv[1:]))
"""


def test_killed_batch_resumes_without_recomputing_and_matches_an_uninterrupted_run(
    model, recordings, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "killed"
    args = ["score", str(model), *map(str, recordings), "--out", str(out), "--no-progress"]
    child = subprocess.Popen([sys.executable, "-c", _SLOW_CHILD, *args], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(_finished(out)) < 3 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    before = _finished(out)
    assert 3 <= len(before) < len(recordings), "the batch was not stopped half-way"
    assert child.returncode == -signal.SIGKILL

    from interview_mil.pipeline import ScreeningPipeline

    calls = []
    apply = ScreeningPipeline.apply
    monkeypatch.setattr(ScreeningPipeline, "apply", lambda self, *a, **k: calls.append(a) or apply(self, *a, **k))
    code, printed, _ = _score(capsys, model, recordings, out)
    assert code == 0
    assert len(calls) == len(recordings) - len(before)  # only the unfinished recordings were computed
    after = _finished(out)
    assert all(after[name] == mtime for name, mtime in before.items())  # finished ones untouched
    assert f"{len(recordings) - len(before)} now, {len(before)} reused" in printed
    log = [json.loads(line) for line in (out / STORE_DIR / LOG_FILE).read_text().splitlines()]
    assert sum(e["event"] == "reused" for e in log) == len(before)
    assert sum(e["event"] == "scored" for e in log) == len(recordings)  # each recording computed once in all

    monkeypatch.setattr(ScreeningPipeline, "apply", apply)
    assert _score(capsys, model, recordings, tmp_path / "whole")[0] == 0
    for name in ("interviews.csv", "turns.csv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "turns.parquet"), pd.read_parquet(tmp_path / "whole" / "turns.parquet")
    )


def test_out_that_is_a_file_is_refused_before_any_work(model, recordings, tmp_path, capsys):
    target = tmp_path / "results.csv"
    target.write_text("earlier results\n")
    code, _, err = _score(capsys, model, recordings[:1], target)
    assert code == 2
    assert_clear_error(err, target, "--out", "folder")
    assert target.read_text() == "earlier results\n"


def test_out_that_cannot_be_written_is_refused_before_any_work(model, recordings, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _score(capsys, model, recordings[:1], blocker / "out")
    assert code == 2
    assert_clear_error(err, blocker / "out", "cannot write", "writable --out")


def test_rerun_where_every_input_fails_keeps_the_earlier_results(model, recordings, tmp_path, capsys):
    out = tmp_path / "out"
    assert _score(capsys, model, recordings[:2], out, "--html")[0] == 0
    earlier = pd.read_csv(out / "interviews.csv")
    earlier_turns = pd.read_csv(out / "turns.csv")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00not audio")
    code, _, err = _score(capsys, model, [broken], out)
    assert code == 1 and "broken.wav" in err
    rows = pd.read_csv(out / "interviews.csv")
    kept = rows[rows["status"] == "ok"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, earlier, check_dtype=False)  # failed rows leave empty cells
    pd.testing.assert_frame_equal(pd.read_csv(out / "turns.csv"), earlier_turns)
    assert list(rows.loc[rows["status"] == "failed", "audio_path"]) == [str(broken)]
    report = (out / "report.html").read_text()
    assert all(i in report for i in earlier["interview_id"])  # the report still shows the earlier results


def test_same_file_name_in_two_folders_gets_distinct_ids(model, recordings, tmp_path, capsys):
    a, b = tmp_path / "p1" / "audio.wav", tmp_path / "p2" / "audio.wav"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_bytes(recordings[0].read_bytes())
    b.write_bytes(recordings[1].read_bytes())
    assert _score(capsys, model, [a, b], tmp_path / "out")[0] == 0
    interviews = pd.read_csv(tmp_path / "out" / "interviews.csv")
    turns = pd.read_csv(tmp_path / "out" / "turns.csv")
    assert list(interviews["interview_id"]) == ["p1_audio", "p2_audio"]
    assert list(interviews["audio_path"]) == [str(a), str(b)]
    assert not turns["turn_id"].duplicated().any()
    assert set(zip(turns["interview_id"], turns["audio_path"])) == {("p1_audio", str(a)), ("p2_audio", str(b))}
    # a later batch with the other one alone keeps the ids apart too
    c = tmp_path / "p3" / "audio.wav"
    c.parent.mkdir()
    c.write_bytes(recordings[2].read_bytes())
    assert _score(capsys, model, [c], tmp_path / "out")[0] == 0
    ids = pd.read_csv(tmp_path / "out" / "interviews.csv")["interview_id"]
    assert not ids.duplicated().any() and len(ids) == 3


def test_failed_recordings_are_rows_with_status_and_reason(model, recordings, tmp_path, capsys):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00not audio")
    code, _, err = _score(capsys, model, [broken, recordings[0], silent], tmp_path / "out")
    assert code == 1
    rows = pd.read_csv(tmp_path / "out" / "interviews.csv").set_index("interview_id")
    assert list(rows.index) == ["broken", "r0", "silent"]
    assert list(rows["status"]) == ["failed", "ok", "insufficient_audio"]  # silence: refused by the gate
    assert "cannot read audio" in rows.loc["broken", "error"] and "fix:" in rows.loc["broken", "error"]
    assert "no participant speech" in rows.loc["silent", "quality_reason"]
    assert rows.loc[["broken", "silent"], "probability"].isna().all()
    text = pd.read_csv(tmp_path / "out" / "interviews.csv", dtype=str).set_index("interview_id")
    assert text.loc["r0", "decision"] in ("0", "1") and text.loc["r0", "n_turns"] == "4"  # integers stay integers
    assert f"{broken}: {broken}" not in err and f"{silent}: {silent}" not in err  # each path named once
    assert "warning:" not in err  # no turns is the failure, not also a warning with source code


def test_missing_inputs_are_all_listed_before_any_work(model, recordings, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = _score(
        capsys, model, [tmp_path / "missing.wav", recordings[0]], out, "--transcript", tmp_path / "a.stm",
        "--transcript", tmp_path / "b.stm",
    )  # fmt: skip
    assert code == 2
    assert_clear_error(err, "missing.wav: not found", "a.stm: not found", "b.stm: not found", "nothing was scored")
    assert "manifest" not in err  # score takes no manifest: do not send the user to one
    assert not out.exists()
    code, _, err = _score(capsys, model, [recordings[0], recordings[0]], out)
    assert code == 2 and "given twice" in err and not out.exists()


def test_results_of_another_model_are_never_mixed_into_a_folder(model, recordings, tmp_path, capsys):
    out = tmp_path / "out"
    assert _score(capsys, model, recordings[:1], out)[0] == 0
    before = snapshot(out)
    other = make_model(tmp_path / "other")
    config = json.loads((other / "config.json").read_text())
    config["state"]["threshold"] = 0.25
    (other / "config.json").write_text(json.dumps(config))
    code, _, err = _score(capsys, other, recordings[1:2], out)
    assert code == 2
    assert_clear_error(err, out, "another model", "new --out")
    assert snapshot(out) == before


def test_a_folder_holding_tables_from_elsewhere_is_not_overwritten(model, recordings, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "interviews.csv").write_text("mine\n")
    code, _, err = _score(capsys, model, recordings[:1], out)
    assert code == 2
    assert_clear_error(err, out, "interviews.csv", "new --out")
    assert (out / "interviews.csv").read_text() == "mine\n"


def test_no_turns_warning_prints_the_message_not_source_code(tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 3, dtype=np.float32), 16000)
    command = [sys.executable, "-m", "interview_mil", "segment", str(silent), "--out", str(tmp_path / "t.csv")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)  # what a user's terminal shows
    assert done.returncode == 0
    assert done.stderr.strip().startswith("warning:") and "silent.wav" in done.stderr
    assert "no participant turns" in done.stderr and "check the participant speaker/channel" in done.stderr
    assert "warnings.warn" not in done.stderr and "segment_interview(" not in done.stderr
    assert ".py:" not in done.stderr and "Traceback" not in done.stderr


def test_the_python_api_resumes_the_same_way(model, recordings, tmp_path):
    from interview_mil.pipeline import ScreeningPipeline

    pipe = ScreeningPipeline.from_pretrained(model)
    jobs = [{"audio": str(r)} for r in recordings[:3]]
    first = pipe.score_batch(jobs[:2], tmp_path / "out", progress=False)
    again = pipe.score_batch(jobs, tmp_path / "out", progress=False)
    assert len(first.scored) == 2 and len(again.reused) == 2 and len(again.scored) == 1
    assert [i.interview_id for i in again.items] == ["r0", "r1", "r2"]
    assert os.path.exists(again.paths["interviews_csv"])


def test_an_unknown_device_is_refused_before_any_recording_is_read(model, recordings, tmp_path, capsys):
    for device in ("gpu0", "cuda:banana"):
        out = tmp_path / device.replace(":", "_")
        code, _, err = _score(capsys, model, recordings[:2], out, "--device", device)
        assert code == 2
        assert_clear_error(err, "--device", device, "cpu, cuda")
        assert not out.exists()  # nothing was started


def test_audio_replaced_by_a_broken_file_is_not_answered_by_the_old_result(model, recordings, tmp_path, capsys):
    """Scored, then the file is replaced by a broken one under the same name and the command rerun: the old
    probability must not be printed as current, nor the row stay 'ok' beside "1 failed"."""
    audio = tmp_path / "r.wav"
    audio.write_bytes(recordings[0].read_bytes())
    out = tmp_path / "out"
    code, first, _ = _score(capsys, model, [audio], out)
    assert code == 0 and "calibrated probability" in first
    audio.write_bytes(audio.read_bytes()[:44] + b"\x00\x01" * 10)  # a header and a few samples: not the audio
    code, printed, err = _score(capsys, model, [audio], out)
    assert code == 1 and "r.wav" in err
    assert "calibrated probability" not in printed and "0 of 1 recordings scored" in printed
    rows = pd.read_csv(out / "interviews.csv")
    assert list(rows["status"]) == ["failed"]


def test_the_same_content_is_reused_and_said_so_a_changed_file_is_scored_again(model, recordings, tmp_path, capsys):
    audio = tmp_path / "r.wav"
    audio.write_bytes(recordings[1].read_bytes())
    out = tmp_path / "out"
    assert _score(capsys, model, [audio], out)[0] == 0
    os.utime(audio, ns=(1, 1))  # copied again: another time, the same bytes
    code, printed, _ = _score(capsys, model, [audio], out)
    assert code == 0 and "(reused: the same audio and model scored earlier)" in printed
    audio.write_bytes(recordings[2].read_bytes())  # other audio under the same name
    code, printed, _ = _score(capsys, model, [audio], out)
    assert code == 0 and "reused" not in printed.split("recordings scored")[0]
    assert "1 now, 0 reused" in printed


def test_a_model_that_differs_only_in_fitted_values_is_another_model(model, recordings, tmp_path, capsys):
    """The model id once left out the scaler, calibration, interview head, committee and conformal screen,
    so a folder reused stale rows for a model that differed only there."""
    out = tmp_path / "out"
    assert _score(capsys, model, recordings[:1], out)[0] == 0
    other = tmp_path / "other"
    shutil.copytree(model, other)
    config = json.loads((other / "config.json").read_text())
    config["state"]["scaler"]["mean"][0] += 0.5
    (other / "config.json").write_text(json.dumps(config))
    code, _, err = _score(capsys, other, recordings[:1], out)
    assert code == 2
    assert_clear_error(err, out, "another model")


def test_another_alpha_into_the_same_folder_gets_its_own_message(tmp_path, capsys):
    from test_reliability_support import make_screened_model

    model = make_screened_model(tmp_path / "model")
    audio = write_recording(tmp_path / "a.wav", seed=3)
    out = tmp_path / "out"
    assert _score(capsys, model, [audio], out, "--alpha", "0.1")[0] == 0
    code, _, err = _score(capsys, model, [audio], out, "--alpha", "0.2")
    assert code == 2
    assert_clear_error(err, out, "this model scored at alpha 0.1", "asks for alpha 0.2", "--alpha 0.1")
    assert "another model" not in err
