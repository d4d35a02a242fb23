"""The Ray engine of featurize: on a local Ray started here, the same feature files as the local engine;
a killed encoder actor is restarted and its work redone; a run stopped mid-way resumes without recomputing
finished interviews; importing the package never imports ray."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interview_mil.data import Interview, Turn, write_audio
from interview_mil.errors import ConfigError, FeatureError
from interview_mil.features import EncoderConfig, FeatureConfig, FeatureStore, featurize_manifest
from interview_mil.features.encoders.tiny import build_tiny_model

ray = pytest.importorskip("ray", reason="the Ray engine needs interview-mil[ray] (in the test extra)")

SR = 16_000


def voice(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A buzzy vowel-like signal with a gliding F0 and syllable-rate loudness, float32 (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
    return (0.2 * x + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


def make_interview(folder: Path, iid: str, n_turns: int, seed: int) -> tuple[Interview, list[Turn]]:
    """A recording of ``n_turns`` voiced turns of 1–2 s separated by 0.5 s of near-silence."""
    rng = np.random.default_rng(seed)
    pieces, turns, now = [np.zeros(int(0.4 * SR), np.float32)], [], 0.4
    for k in range(n_turns):
        dur = float(rng.uniform(1.0, 2.0))
        pieces += [voice(dur, 110 + 25 * k + 10 * seed, seed * 10 + k), np.zeros(int(0.5 * SR), np.float32)]
        turns.append(Turn(iid, f"{iid}_{k:04d}", k, round(now, 3), round(dur, 3), response_latency=0.5))
        now += dur + 0.5
    path = write_audio(folder / f"{iid}.wav", np.concatenate(pieces), SR)
    return Interview(iid, str(path), duration=now), turns


@pytest.fixture(scope="module")
def local_ray():
    """A Ray on this machine for the module's tests (two CPU slots: one encoder actor + one prosody task)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray_corpus")
    pairs = [make_interview(folder, f"r{n}", 2, n) for n in range(5)]
    model = str(build_tiny_model("wav2vec2", folder / "w2v2", n_layers=2))
    # one CPU thread for the encoder on both engines: the same arithmetic, so the same bits
    config = FeatureConfig(encoder=EncoderConfig(model=model, layers=1, pool="mean_std", threads=1))
    return [p[0] for p in pairs], {p[0].interview_id: p[1] for p in pairs}, config


@pytest.fixture(scope="module")
def local_store(corpus, tmp_path_factory):
    interviews, turns, config = corpus
    root = tmp_path_factory.mktemp("local_store")
    report = featurize_manifest(interviews, turns, config, root, progress=False)
    assert len(report.done) == len(interviews) and not report.failed
    return FeatureStore(root, config)


def assert_same_files(a: FeatureStore, b: FeatureStore, ids: list[str]) -> None:
    """The prosody table and the embeddings file of every interview are identical, bit for bit."""
    assert a.dir.name == b.dir.name  # the same key: the engine is not part of it
    for iid in ids:
        fa, fb = a.folder(iid), b.folder(iid)
        assert (fa / "embeddings.npy").read_bytes() == (fb / "embeddings.npy").read_bytes(), iid
        assert (fa / "turn_ids.json").read_bytes() == (fb / "turn_ids.json").read_bytes(), iid
        pd.testing.assert_frame_equal(pd.read_parquet(fa / "prosody.parquet"), pd.read_parquet(fb / "prosody.parquet"))


def test_ray_engine_writes_the_local_engines_features(local_ray, corpus, local_store, tmp_path):
    interviews, turns, config = corpus
    report = featurize_manifest(interviews, turns, config, tmp_path, engine="ray", progress=False)
    assert sorted(report.done) == sorted(i.interview_id for i in interviews) and not report.failed
    store = FeatureStore(tmp_path, config)
    assert_same_files(local_store, store, [i.interview_id for i in interviews])
    again = featurize_manifest(interviews, turns, config, tmp_path, engine="ray", progress=False)
    assert not again.done and len(again.skipped) == len(interviews)  # a rerun finds everything stored


def _encoder_actor():
    from interview_mil.features.engine_ray import ACTOR_PREFIX

    names = [n for n in ray.util.list_named_actors() if n.startswith(ACTOR_PREFIX)]
    assert len(names) == 1, names
    return ray.get_actor(names[0])


def test_killed_encoder_actor_then_rerun_completes_without_recomputing_finished_interviews(local_ray, corpus, tmp_path):
    interviews, turns, config = corpus
    config = dataclasses.replace(config, prosody=None)  # embeddings only: each save follows an actor call
    reference = featurize_manifest(interviews, turns, config, tmp_path / "local", progress=False)
    assert not reference.failed
    saved: list[str] = []

    def kill_actor_after_first(iid: str) -> None:  # the actor's process dies for good mid-run
        saved.append(iid)
        if len(saved) == 1:
            ray.kill(_encoder_actor(), no_restart=True)

    root = tmp_path / "ray"
    first = featurize_manifest(
        interviews, turns, config, root, engine="ray", progress=False, on_saved=kill_actor_after_first
    )
    assert first.done == saved and 1 <= len(saved) < len(interviews)  # (a call may beat the kill signal)
    assert len(first.failed) == len(interviews) - len(saved)  # what was queued failed
    store = FeatureStore(root, config)
    assert store.interview_ids() == sorted(saved)  # what finished is kept
    stamps = {iid: (store.folder(iid) / "done.json").stat().st_mtime_ns for iid in saved}
    recomputed: list[str] = []
    rerun = featurize_manifest(
        interviews, turns, config, root, engine="ray", progress=False, on_saved=recomputed.append
    )
    assert sorted(rerun.skipped) == sorted(saved) and not rerun.failed
    assert sorted(recomputed) == sorted(rerun.done) == sorted(first.failed)
    assert {iid: (store.folder(iid) / "done.json").stat().st_mtime_ns for iid in saved} == stamps
    local = FeatureStore(tmp_path / "local", config)
    for iv in interviews:
        a, b = local.folder(iv.interview_id), store.folder(iv.interview_id)
        assert (a / "embeddings.npy").read_bytes() == (b / "embeddings.npy").read_bytes()


class Stop(Exception):
    """Stands for the driver being stopped mid-run."""


@pytest.mark.slow
def test_killed_actor_and_stopped_run_lose_nothing_and_rerun_recomputes_only_the_rest(
    local_ray, corpus, local_store, tmp_path
):
    interviews, turns, config = corpus
    saved: list[str] = []

    def kill_then_stop(iid: str) -> None:
        saved.append(iid)
        if len(saved) == 1:  # the encoder actor's process dies while later interviews are queued:
            ray.kill(_encoder_actor(), no_restart=False)  # Ray restarts it and resends its calls
        if len(saved) == 3:
            raise Stop  # then the driver stops

    with pytest.raises(Stop):
        featurize_manifest(interviews, turns, config, tmp_path, engine="ray", progress=False, on_saved=kill_then_stop)
    store = FeatureStore(tmp_path, config)
    assert sorted(store.interview_ids()) == sorted(saved)  # everything finished is in the store
    stamps = {iid: (store.folder(iid) / "done.json").stat().st_mtime_ns for iid in saved}
    recomputed: list[str] = []
    rerun = featurize_manifest(
        interviews, turns, config, tmp_path, engine="ray", progress=False, on_saved=recomputed.append
    )
    assert sorted(rerun.skipped) == sorted(saved) and not rerun.failed
    assert sorted(recomputed) == sorted(rerun.done) == sorted(set(store.interview_ids()) - set(saved))
    assert len(rerun.done) == len(interviews) - 3
    assert {iid: (store.folder(iid) / "done.json").stat().st_mtime_ns for iid in saved} == stamps
    assert_same_files(local_store, store, [i.interview_id for i in interviews])


def test_bad_interview_fails_alone(local_ray, corpus, tmp_path):
    interviews, turns, _ = corpus
    bad = Interview("broken", str(tmp_path / "missing.wav"), duration=3.0)
    report = featurize_manifest(
        [*interviews[:2], bad],
        {**turns, "broken": turns["r0"]},
        FeatureConfig(),
        tmp_path,
        engine="ray",
        progress=False,
    )
    assert sorted(report.done) == ["r0", "r1"] and list(report.failed) == ["broken"]
    assert "missing.wav" in report.failed["broken"]


def test_segmentation_as_ray_tasks_gives_the_local_report(local_ray, corpus, tmp_path):
    from interview_mil.features.engine_ray_segment import segment_with_ray
    from interview_mil.segmentation import segment_manifest

    interviews, _, _ = corpus
    batch = [*interviews[:3], Interview("gone", str(tmp_path / "gone.wav"), duration=2.0)]
    local = segment_manifest(batch, progress=False)
    remote = segment_with_ray(batch, progress=False)
    assert remote.turns == local.turns and len(local.turns) >= 3
    assert remote.sources == local.sources and remote.interviewer == local.interviewer
    assert remote.failures == local.failures and list(remote.failures) == ["gone"]


@pytest.mark.slow
def test_missing_model_fails_before_any_work(local_ray, corpus, tmp_path):
    interviews, turns, _ = corpus
    missing = FeatureConfig(encoder=EncoderConfig(model=str(tmp_path / "no_model"), threads=1))
    with pytest.raises(FeatureError, match="could not be loaded on the Ray workers"):
        featurize_manifest(interviews, turns, missing, tmp_path, engine="ray", progress=False)
    assert not list(tmp_path.rglob("done.json"))


def test_engine_settings_are_checked_and_not_part_of_the_key():
    base = FeatureConfig()
    assert FeatureConfig(engine="ray", engine_address="auto").key() == base.key()
    with pytest.raises(ConfigError, match="features.engine"):
        FeatureConfig(engine="spark")
    with pytest.raises(ConfigError, match="engine_address"):
        FeatureConfig(engine_address="auto")


def test_importing_the_package_does_not_import_ray():
    code = "import sys, interview_mil, interview_mil.features, interview_mil.cli.main; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_ray_names_the_install_command(monkeypatch, tmp_path):
    from interview_mil.features.engine_ray import require_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    with pytest.raises(ConfigError) as info:
        require_ray()
    assert "pip install 'interview-mil[ray]'" in str(info.value)
    with pytest.raises(ConfigError, match=r"interview-mil\[ray\]"):  # before any interview is read
        featurize_manifest([Interview("x", "x.wav")], {}, FeatureConfig(), tmp_path, engine="ray", progress=False)


def test_cli_refuses_an_address_without_the_ray_engine(tmp_path, capsys):
    from interview_mil.cli.main import main

    code = main(
        ["featurize", "m.jsonl", "--turns", "t.csv", "--out", str(tmp_path), "--engine", "local", "--address", "auto"]
    )
    assert code != 0 and "--engine ray" in capsys.readouterr().err


def test_a_cluster_too_small_for_the_actors_is_refused_before_any_work():
    from interview_mil.features.engine_ray import check_room

    config = FeatureConfig(encoder=EncoderConfig(model="m", threads=1))
    check_room({"CPU": 3.0}, config, 2)  # two actors and one prosody slot
    with pytest.raises(ConfigError, match="prosody tasks need one more"):
        check_room({"CPU": 2.0}, config, 2)
    gpu = FeatureConfig(encoder=EncoderConfig(model="m", device="cuda"))
    with pytest.raises(ConfigError, match="need 1 GPU"):
        check_room({"CPU": 8.0}, gpu, 1)
    check_room({"CPU": 8.0, "GPU": 1.0}, gpu, 1)
