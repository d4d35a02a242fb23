"""Issue 16, batch ``score`` on Ray: on a local Ray started here, ``score --engine ray`` writes the local
engine's tables; a rerun reuses the finished recordings; a bad recording is a failed row and the rest are
scored; actors that die mid-run are restarted and their recordings redone; misuse is refused early."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from test_reliability_support import assert_clear_error, make_model, run_cli, write_recording

from interview_mil.errors import ConfigError
from interview_mil.explain.batch_ray import ACTOR_PREFIX, RayRunner
from interview_mil.explain.batch_store import STORE_DIR, BatchStore
from interview_mil.pipeline import ScreeningPipeline

ray = pytest.importorskip("ray", reason="score --engine ray needs interview-mil[ray] (in the test extra)")


@pytest.fixture(scope="module")
def local_ray():
    """A Ray on this machine for the module's tests (two CPU slots: two scoring actors)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> list[Path]:
    """Three speech-like recordings (about 30 s) and one file that is not audio."""
    folder = tmp_path_factory.mktemp("recordings")
    good = [write_recording(folder / f"r{i}.wav", seed=i) for i in range(3)]
    broken = folder / "broken.wav"
    broken.write_bytes(b"not a wav file")
    return [good[0], broken, *good[1:]]


def _log(out: Path) -> list[str]:
    return [e["event"] for e in BatchStore(out, "").read_log()]


def _scorers() -> list[str]:
    """Names of the scoring actors alive on the cluster."""
    return [a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if a["name"].startswith(ACTOR_PREFIX)]


def _finished(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (out / STORE_DIR).glob("*.json") if p.name != "run.json"}


@pytest.fixture(scope="module")
def local(model, recordings, tmp_path_factory) -> Path:
    """The recordings scored by the local engine (what ``score`` without --engine runs)."""
    out = tmp_path_factory.mktemp("local")
    ScreeningPipeline.from_pretrained(model).score_batch([{"audio": a} for a in recordings], out, progress=False)
    return out


def test_ray_engine_writes_the_local_tables_through_dead_actors_and_a_rerun_reuses_them(
    local_ray, model, recordings, local, tmp_path, capsys, monkeypatch
):
    remote, killed, call = tmp_path / "ray", [], RayRunner.__call__

    def killing_call(self, pipe, jobs):  # after the first recording, every actor's process dies (Ray restarts them)
        earlier = set(_scorers())  # (any left from an earlier run while Ray removes them)
        for outcome in call(self, pipe, jobs):
            if not killed:
                killed.extend(n for n in _scorers() if n not in earlier)
                for name in killed:
                    ray.kill(ray.get_actor(name), no_restart=False)
            yield outcome

    monkeypatch.setattr(RayRunner, "__call__", killing_call)
    code, printed, err = run_cli(
        capsys, "score", model, *recordings, "--out", remote, "--no-progress", "--engine", "ray", "--workers", "2"
    )
    assert len(killed) == 2  # both actors died mid-run, each with a recording to score (resent, or the next)
    assert code == 1 and "broken.wav" in err and "3 of 4 recordings scored (3 now, 0 reused" in printed
    rows_local = pd.read_csv(local / "interviews.csv")
    rows_ray = pd.read_csv(remote / "interviews.csv")
    assert list(rows_ray["interview_id"]) == ["r0", "broken", "r1", "r2"]  # the order given, not finishing
    assert list(rows_ray["status"]) == ["ok", "failed", "ok", "ok"]
    assert "cannot read audio" in rows_ray.set_index("interview_id").loc["broken", "error"]
    pd.testing.assert_frame_equal(rows_ray.drop(columns="error"), rows_local.drop(columns="error"))
    assert rows_ray["probability"].notna().sum() == 3
    pd.testing.assert_frame_equal(pd.read_csv(remote / "turns.csv"), pd.read_csv(local / "turns.csv"))
    assert sorted(_log(remote)) == ["failed", "scored", "scored", "scored"]
    deadline = time.monotonic() + 10
    while set(_scorers()) & set(killed) and time.monotonic() < deadline:  # removed once the run has ended
        time.sleep(0.1)
    assert not set(_scorers()) & set(killed)

    before = _finished(remote)
    good = [r for r in recordings if r.name != "broken.wav"]
    code, printed, _ = run_cli(
        capsys, "score", model, *good, "--out", remote, "--no-progress", "--engine", "ray", "--workers", "2"
    )
    assert code == 0 and "3 of 3 recordings scored (0 now, 3 reused" in printed
    assert _finished(remote) == before  # nothing recomputed or rewritten
    assert _log(remote)[4:] == ["reused"] * 3
    rows = pd.read_csv(remote / "interviews.csv")  # this batch first, then the earlier failed row
    assert list(rows["interview_id"]) == ["r0", "r1", "r2", "broken"]
    pd.testing.assert_frame_equal(
        rows.set_index("interview_id").loc[list(rows_ray["interview_id"])].reset_index(), rows_ray
    )


def test_engine_options_are_checked_before_any_work(model, recordings, tmp_path, capsys, monkeypatch):
    code, _, err = run_cli(capsys, "score", model, recordings[0], "--out", tmp_path / "o", "--workers", "2")
    assert code != 0
    assert_clear_error(err, "--workers", "--engine ray")
    code, _, err = run_cli(
        capsys, "score", model, recordings[0], "--out", tmp_path / "o", "--engine", "local", "--address", "auto"
    )
    assert code != 0
    assert_clear_error(err, "--address")
    code, _, err = run_cli(
        capsys, "score", model, recordings[0], "--out", tmp_path / "o", "--engine", "ray", "--workers", "0"
    )
    assert code != 0
    assert_clear_error(err, "--workers")
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # as if ray were not installed
    code, _, err = run_cli(capsys, "score", model, recordings[0], "--out", tmp_path / "o", "--engine", "ray")
    assert code != 0
    assert_clear_error(err, "pip install 'interview-mil[ray]'")
    assert not (tmp_path / "o").exists()


def test_a_cluster_too_small_for_the_actors_is_refused_before_any_work(local_ray, model, recordings, tmp_path):
    pipe = ScreeningPipeline.from_pretrained(model)
    with pytest.raises(ConfigError, match="3 scoring actor"):
        pipe.score_batch([{"audio": recordings[0]}], tmp_path / "o", progress=False, runner=RayRunner(model, 3))
    assert not BatchStore(tmp_path / "o", "").read_log()


def test_workers_that_load_another_model_are_refused_before_any_work(local_ray, model, recordings, tmp_path):
    from interview_mil.mil import InterviewClassifier

    other = InterviewClassifier.load(model)
    other.threshold_ = 0.25  # another bundle at the path the workers read
    other.save(tmp_path / "other")
    pipe = ScreeningPipeline.from_pretrained(model)
    with pytest.raises(ConfigError, match="not the one loaded here"):
        pipe.score_batch(
            [{"audio": recordings[0]}], tmp_path / "o", progress=False, runner=RayRunner(tmp_path / "other")
        )
    assert not BatchStore(tmp_path / "o", "").read_log()
