"""Feature store: atomic per-interview files keyed by the config, resume after a rerun and after kill -9,
failures recorded in a batch, and bad input to featurize_interview."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interview_mil.data import Interview, Turn, write_audio, write_manifest, write_turns
from interview_mil.errors import AudioError, FeatureError
from interview_mil.features import (
    EncoderConfig,
    FeatureConfig,
    FeatureStore,
    TurnFeatures,
    featurize_interview,
    featurize_manifest,
    load_encoder,
)
from interview_mil.features.encoders.tiny import build_tiny_model

SR = 16_000


def voice(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A buzzy vowel-like signal with a gliding F0 and syllable-rate loudness, float32 (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
    return (0.2 * x + 0.003 * rng.standard_normal(t.size)).astype(np.float32)


def make_interview(folder: Path, iid: str, n_turns: int, seed: int) -> tuple[Interview, list[Turn]]:
    """A recording of ``n_turns`` voiced turns of 1.2–2.5 s separated by 0.6 s of near-silence."""
    rng = np.random.default_rng(seed)
    pieces, turns, now = [np.zeros(int(0.5 * SR), np.float32)], [], 0.5
    for k in range(n_turns):
        dur = float(rng.uniform(1.2, 2.5))
        pieces += [voice(dur, 110 + 30 * k + 10 * seed, seed * 10 + k), np.zeros(int(0.6 * SR), np.float32)]
        turns.append(Turn(iid, f"{iid}_{k:04d}", k, round(now, 3), round(dur, 3), response_latency=0.5))
        now += dur + 0.6
    path = write_audio(folder / f"{iid}.wav", np.concatenate(pieces) + 1e-4 * rng.standard_normal(1), SR)
    return Interview(iid, str(path), duration=now), turns


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    return str(build_tiny_model("wav2vec2", tmp_path_factory.mktemp("tiny") / "w2v2", n_layers=2))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("feature_corpus")
    pairs = [make_interview(folder, f"i{n}", 3 + n % 2, n) for n in range(3)]
    return [p[0] for p in pairs], {p[0].interview_id: p[1] for p in pairs}


def config_for(model: str, **encoder) -> FeatureConfig:
    return FeatureConfig(encoder=EncoderConfig(model=model, layers=1, pool="mean_std", **encoder))


def assert_same(a: TurnFeatures, b: TurnFeatures) -> None:
    assert a.interview_id == b.interview_id and a.turn_ids == b.turn_ids
    pd.testing.assert_frame_equal(a.prosody, b.prosody)
    np.testing.assert_array_equal(a.embeddings, b.embeddings)


def test_save_load_roundtrip_and_matrix(tmp_path, tiny_model, corpus):
    interviews, turns = corpus
    config = config_for(tiny_model)
    features = featurize_interview(interviews[0], turns["i0"], config)
    assert features.embeddings.shape == (3, 64) and len(features.prosody) == 3
    assert "turn_id" not in features.prosody.columns and "flag_too_short" in features.prosody.columns
    store = FeatureStore(tmp_path, config)
    assert not store.has("i0")
    store.save(features)
    assert store.has("i0") and store.interview_ids() == ["i0"]
    files = sorted(p.name for p in store.folder("i0").iterdir())
    assert files == ["done.json", "embeddings.npy", "prosody.parquet", "turn_ids.json"]
    assert pd.read_parquet(store.folder("i0") / "prosody.parquet")["turn_id"].tolist() == features.turn_ids
    assert_same(store.load("i0"), features)
    matrix, names = store.load("i0").matrix()
    assert matrix.shape == (3, len(names)) and matrix.dtype == np.float32
    assert names[0] == "f0_mean_hz" and names[-1] == "emb_0063" and not any(n.startswith("flag_") for n in names)
    assert np.isfinite(matrix[:, names.index("f0_mean_hz")]).all()
    assert FeatureStore.open(store.dir).load("i0").turn_ids == features.turn_ids
    with pytest.raises(FeatureError, match="no finished features"):
        store.load("i1")


def test_config_keying(tmp_path, tiny_model):
    base = config_for(tiny_model)
    assert base.key() == config_for(tiny_model).key()
    # settings that do not change the numbers share the key
    assert config_for(tiny_model, device="cuda", batch_seconds=10.0, threads=1).key() == base.key()
    changed = [
        dataclasses.replace(base, encoder=dataclasses.replace(base.encoder, layers=2)),
        dataclasses.replace(base, encoder=dataclasses.replace(base.encoder, dtype="int8")),
        dataclasses.replace(base, encoder=None),
        dataclasses.replace(base, prosody=dataclasses.replace(base.prosody, f0_max=400.0)),
    ]
    keys = {c.key() for c in changed}
    assert len(keys) == 4 and base.key() not in keys
    a = FeatureStore(tmp_path, base)
    b = FeatureStore(tmp_path, changed[0])
    assert a.dir != b.dir and a.dir.parent == b.dir.parent == tmp_path


def test_manifest_rerun_skips_and_failures_are_recorded(tmp_path, tiny_model, corpus):
    interviews, turns = corpus
    nan_path = tmp_path / "nan.wav"
    signal_nan = voice(3.0, 120, 9)
    signal_nan[SR : SR + 100] = np.nan  # inside the turn (turns are read span by span, not the whole file)
    write_audio(nan_path, signal_nan, SR, subtype="FLOAT")
    bad = [
        Interview("nan", str(nan_path)),
        Interview("outside", interviews[0].audio_path),
        Interview("empty", interviews[0].audio_path),
    ]
    all_turns = dict(turns)
    all_turns["nan"] = [Turn("nan", "nan_0000", 0, 0.2, 2.0)]
    all_turns["outside"] = [Turn("outside", "outside_0000", 0, 1.0, 500.0)]
    config = config_for(tiny_model)
    report = featurize_manifest(interviews + bad, all_turns, config, tmp_path / "store", progress=False)
    assert sorted(report.done) == ["i0", "i1", "i2"]
    assert set(report.failed) == {"nan", "outside", "empty"}
    assert "NaN" in report.failed["nan"] and "after the recording" in report.failed["outside"]
    assert "no turns" in report.failed["empty"]
    again = featurize_manifest(interviews + bad, all_turns, config, tmp_path / "store", progress=False)
    assert again.done == [] and sorted(again.skipped) == ["i0", "i1", "i2"] and len(again.failed) == 3
    # a turns table (DataFrame) works as well as a mapping
    table = pd.DataFrame([t.to_dict() for v in turns.values() for t in v])
    third = featurize_manifest(interviews, table, config, tmp_path / "store", progress=False)
    assert sorted(third.skipped) == ["i0", "i1", "i2"]


def test_featurize_interview_bad_input(tiny_model, corpus):
    interviews, turns = corpus
    config = config_for(tiny_model)
    encoder = load_encoder(config.encoder)
    iv = interviews[0]
    with pytest.raises(FeatureError, match="no turns"):
        featurize_interview(iv, [], config, encoder)
    with pytest.raises(FeatureError, match="after the recording"):
        featurize_interview(iv, [Turn(iv.interview_id, "late", 0, 30.0, 2.0)], config, encoder)
    with pytest.raises(FeatureError, match="belongs to interview"):
        featurize_interview(iv, [Turn("other", "x", 0, 1.0, 1.0)], config, encoder)
    audio = np.ones(SR * 8, np.float32)
    audio[5] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        featurize_interview(iv, turns["i0"], config, encoder, audio=audio)
    # embeddings only, with the audio passed in
    only = dataclasses.replace(config, prosody=None)
    from interview_mil.data import load_audio

    features = featurize_interview(iv, turns["i0"], only, encoder, audio=load_audio(iv.audio_path))
    assert features.prosody is None and features.embeddings.shape == (3, 64)


_RUNNER = textwrap.dedent("""
    import sys
    from interview_mil.data import read_manifest, read_turns
    from interview_mil.features import EncoderConfig, FeatureConfig, featurize_manifest
    config = FeatureConfig(encoder=EncoderConfig(model=sys.argv[1], layers=1, pool="mean_std"))
    featurize_manifest(read_manifest(sys.argv[2]), read_turns(sys.argv[3]), config, sys.argv[4], progress=False)
""")


def test_kill_9_then_rerun_resumes_with_identical_results(tmp_path, tiny_model):
    interviews, turns = [], []
    for n in range(4):
        iv, tv = make_interview(tmp_path, f"k{n}", 2, 20 + n)
        interviews.append(iv)
        turns += tv
    manifest, table = tmp_path / "m.jsonl", tmp_path / "turns.csv"
    write_manifest(interviews, manifest)
    write_turns(turns, table)
    script = tmp_path / "run.py"
    script.write_text(_RUNNER)
    store_root = tmp_path / "store"
    args = [sys.executable, str(script), tiny_model, str(manifest), str(table), str(store_root)]
    proc = subprocess.Popen(
        args, env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(list(store_root.glob("*/*/done.json"))) >= 1:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # mid-run: between, or in the middle of, an interview's writes
    proc.wait()
    finished = len(list(store_root.glob("*/*/done.json")))
    assert 1 <= finished < 4, f"the run was not interrupted mid-way ({finished} done)"
    # the rerun (same code path, in this process) skips the finished interviews and redoes the rest
    config = FeatureConfig(encoder=EncoderConfig(model=tiny_model, layers=1, pool="mean_std"))
    by_id = {iv.interview_id: [t for t in turns if t.interview_id == iv.interview_id] for iv in interviews}
    rerun = featurize_manifest(interviews, by_id, config, store_root, progress=False)
    assert len(rerun.skipped) == finished and len(rerun.done) == 4 - finished and not rerun.failed
    # identical to an uninterrupted run
    clean = featurize_manifest(interviews, by_id, config, tmp_path / "clean", progress=False)
    assert len(clean.done) == 4
    resumed, fresh = FeatureStore(store_root, config), FeatureStore(tmp_path / "clean", config)
    assert resumed.interview_ids() == fresh.interview_ids()
    for iv in interviews:
        assert_same(resumed.load(iv.interview_id), fresh.load(iv.interview_id))
    assert not list(store_root.glob("*/*/.*.tmp"))  # no temporary files left behind by the rerun
