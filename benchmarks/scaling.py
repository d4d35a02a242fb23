"""Featurize on one machine's process pool vs. on Ray: identical feature files, throughput per worker,
Ray's overhead per interview.

    python benchmarks/scaling.py [--n-interviews 8] [--turns 6] [--workers 1 2] [--workdir runs/scaling]

Corpus: ``--n-interviews`` synthetic recordings of ``--turns`` voiced turns (2–4 s each, 0.6 s pauses),
made with the project's own voiced-signal generator (``features.prosody.synthetic``: harmonic source
along a gliding F0, vowel formants, syllable loudness), turns known by construction. Features: the full
prosody set + a tiny wav2vec2 (2 layers, hidden 64) built locally with random weights, layer 1, mean+std
pooled, run on one CPU thread (``encoder.threads: 1``) on every engine.

Runs, each into a fresh store, in this order:

  local W=1   the baseline: prosody and encoder one after the other in this process
  local W     the process pool: W prosody processes while the encoder runs in this process
  ray W       one Ray encoder actor (loads the model once) + prosody as Ray tasks on W CPU slots,
              i.e. Ray started here with ``num_cpus = W + 1``: the same processes as ``local W``

Every run's files are compared with the baseline's: ``embeddings.npy`` and ``turn_ids.json`` byte for
byte, ``prosody.parquet`` read back and compared exactly (no tolerance). Printed per run: seconds,
interviews per second, throughput per worker as a ratio to the baseline's (throughput / W / baseline
throughput), and for Ray the overhead per interview against the process pool at the same W
((t_ray − t_local) / interviews). Times include loading the model (this process for local, the actor's
fresh worker process for Ray); starting Ray (``ray.init``) is timed apart and printed on its own line.
Ratios are measured in this run; absolute times are of the machine it ran on (printed with its load).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SR = 16_000


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-interviews", type=int, default=8)
    p.add_argument("--turns", type=int, default=6, help="turns per interview")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare")
    p.add_argument("--workdir", default="runs/scaling")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args(argv)


def make_corpus(folder: Path, n: int, n_turns: int, seed: int):
    """``n`` recordings of ``n_turns`` voiced turns → (interviews, {id: turns}, seconds of speech)."""
    from interview_mil.data import Interview, Turn, write_audio
    from interview_mil.features.prosody.synthetic import gliding_f0, syllable_envelope, voiced_signal, with_pauses

    rng = np.random.default_rng(seed)
    interviews, turns, speech = [], {}, 0.0
    for i in range(n):
        iid, pieces, spans, now = f"s{i:02d}", [], [], 0.6
        for k in range(n_turns):
            n_syll = int(rng.integers(10, 20))
            envelope = syllable_envelope(n_syll, syllable_s=0.2)
            f0 = gliding_f0(rng.uniform(100, 220), rng.uniform(90, 200), envelope.size / SR, vibrato_st=0.3)
            pieces.append(voiced_signal(f0[: envelope.size], seed=seed + 100 * i + k) * envelope.astype(np.float32))
            spans.append((now, pieces[-1].size / SR))
            now += pieces[-1].size / SR + 0.6
        silence = np.zeros(int(0.6 * SR), np.float32)
        audio = np.concatenate([silence, with_pauses(pieces, [0.6] * (n_turns - 1), seed=i), silence])
        path = write_audio(folder / f"{iid}.wav", audio, SR)
        interviews.append(Interview(iid, str(path), duration=audio.size / SR))
        turns[iid] = [
            Turn(iid, f"{iid}_{k:03d}", k, round(start, 4), round(dur, 4), response_latency=0.6)
            for k, (start, dur) in enumerate(spans)
        ]
        speech += sum(d for _, d in spans)
    return interviews, turns, speech


def same_files(a, b, ids: list[str]) -> tuple[bool, str]:
    """Whether two stores hold the same files for ``ids`` (see the module docstring), and the first mismatch."""
    import pandas as pd

    for iid in ids:
        fa, fb = a.folder(iid), b.folder(iid)
        for name in ("embeddings.npy", "turn_ids.json"):
            if (fa / name).read_bytes() != (fb / name).read_bytes():
                return False, f"{iid}/{name}"
        try:
            pd.testing.assert_frame_equal(
                pd.read_parquet(fa / "prosody.parquet"), pd.read_parquet(fb / "prosody.parquet"), check_exact=True
            )
        except AssertionError:
            return False, f"{iid}/prosody.parquet"
    return True, ""


@dataclass
class Timing:
    """One run: ``total`` seconds, ``startup`` seconds until the first interview was written (processes,
    model load, first interview), ``steady`` seconds per interview after that ((last − first) / (n − 1))."""

    total: float
    startup: float
    steady: float


def timed_run(interviews, turns, config, root: Path, **kwargs) -> Timing:
    from interview_mil.features import featurize_manifest

    saved: list[float] = []
    start = time.perf_counter()
    report = featurize_manifest(
        interviews, turns, config, root, progress=False, on_saved=lambda _: saved.append(time.perf_counter()), **kwargs
    )
    total = time.perf_counter() - start
    if report.failed or len(report.done) != len(interviews):
        raise SystemExit(f"run into {root} did not finish: {report.failed}")
    return Timing(total, saved[0] - start, (saved[-1] - saved[0]) / max(len(saved) - 1, 1))


def row(name: str, t: Timing, n: int, w: int, base: Timing, same: str) -> str:
    per_worker = (1 / t.steady) / w / (1 / base.steady)
    return f"{name:<8} {t.total:8.2f} {t.startup:8.2f} {1 / t.steady:12.3f} {per_worker:11.2f} {same:>10}"


def main(argv=None) -> int:
    args = parse_args(argv)
    import shutil

    import ray

    from interview_mil.features import EncoderConfig, FeatureConfig, FeatureStore
    from interview_mil.features.encoders.tiny import build_tiny_model

    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "audio").mkdir(parents=True)
    interviews, turns, speech = make_corpus(work / "audio", args.n_interviews, args.turns, args.seed)
    model = build_tiny_model("wav2vec2", work / "tiny_w2v2", n_layers=2, hidden=64)
    config = FeatureConfig(encoder=EncoderConfig(model=str(model), layers=1, pool="mean_std", threads=1))
    n, ids = len(interviews), [i.interview_id for i in interviews]
    print(f"machine: {os.cpu_count()}-core CPU of this dev machine, load average {os.getloadavg()[0]:.1f} at start")
    print(f"corpus: {n} interviews, {sum(len(t) for t in turns.values())} turns, {speech:.0f} s of speech")

    base = timed_run(interviews, turns, config, work / "local_1", workers=1)
    base_store = FeatureStore(work / "local_1", config)
    print(f"{'run':<8} {'total s':>8} {'start s':>8} {'steady i/s':>12} {'per worker':>11} {'identical':>10}")
    print(row("local 1", base, n, 1, base, "baseline"))
    local = {1: base}
    for w in args.workers:
        if w == 1:
            continue
        local[w] = timed_run(interviews, turns, config, work / f"local_{w}", workers=w)
        same, where = same_files(base_store, FeatureStore(work / f"local_{w}", config), ids)
        print(row(f"local {w}", local[w], n, w, base, f"{same} {where}".strip()))
    lines = []
    for w in args.workers:
        start = time.perf_counter()
        ray.init(address="local", num_cpus=w + 1, include_dashboard=False, log_to_driver=False)
        init_s = time.perf_counter() - start
        try:
            t = timed_run(interviews, turns, config, work / f"ray_{w}", engine="ray", workers=1)
        finally:
            ray.shutdown()
        same, where = same_files(base_store, FeatureStore(work / f"ray_{w}", config), ids)
        print(row(f"ray {w}", t, n, w, base, f"{same} {where}".strip()) + f"   (+ ray.init {init_s:.2f} s)")
        if w in local:
            lines.append(
                f"ray_overhead_per_interview_w{w} = {(t.steady - local[w].steady) * 1000:.0f} ms steady-state "
                f"(ray {w} vs local {w}); start-up {t.startup - local[w].startup:+.1f} s once "
                f"(+ ray.init {init_s:.1f} s)"
            )
    print("\n".join(lines))
    print(
        "total s: whole run; start s: until the first interview was written; steady i/s: interviews per "
        "second after it; per worker: steady throughput / W / the baseline's"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
