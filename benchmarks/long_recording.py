"""Memory and time of ``interview-mil score`` on long recordings (issue 16): is memory independent of length?

    python benchmarks/long_recording.py [--minutes 5 20 60 120] [--model NAME=BUNDLE ...]
                                        [--featurize-up-to 20] [--workdir runs/long_bench]

Recordings: a synthetic interview (the corpus generator's, piper speech: participant, interviewer
bleed ~25 dB lower, pauses; about 60 s) followed by ``--gap`` seconds of low noise (-65 dBFS), repeated
to the length asked and written to disk block by block (never built in memory). With the default gap
(240 s) a recording is about 10 % participant speech: mostly silence and interviewer, so the base-size
encoder (~4x real time on this 2-core CPU) fits the time here, while segmentation reads every second.
The floor: the same command on the interview's first 21 s (greeting, two questions, three answers): a
recording the one-channel ``diarize`` source splits into both voices and the gate scores. (Until 2026-12-08
the floor was 10 s from the first answer: one voice only, which diarization splits in two and the gate
then refuses, so it no longer measured a scored recording.)

Each command runs in its own process under ``/usr/bin/time -v``: peak resident memory (maximum resident set
size) and wall time. ``score``: ``interview-mil score BUNDLE AUDIO --out DIR`` (segment, features, model,
tables). ``featurize`` (same recording, for the time ratio; up to ``--featurize-up-to`` minutes):
``interview-mil featurize MANIFEST --turns TURNS --config FEATURES`` with the bundle's own feature settings
and the turns its segmentation gives (segmented beforehand, not timed). Models (``--model NAME=BUNDLE``,
default both when present): ``demo`` = the demo's bundle (prosody + Whisper tiny.en CTranslate2,
``demo_out/model``), ``wavlm`` = prosody + a WavLM-base-plus-sized encoder with random weights
(``runs/long/demo_wavlm/model``, from ``interview-mil demo --encoder <local WavLMConfig() folder>``).
Targets: peak RSS above the floor <= 300 MB at 20 min and <= 500 MB at 2 h; score time <= 1.5x featurize.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SR = 16_000
CLI = [sys.executable, "-m", "interview_mil"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, nargs="+", default=[5, 20, 60, 120])
    p.add_argument("--model", action="append", help="NAME=BUNDLE (repeatable; default: demo and wavlm if present)")
    p.add_argument("--gap", type=float, default=240.0, help="seconds of low noise after each interview")
    p.add_argument("--featurize-up-to", type=float, default=20.0, help="time featurize up to this many minutes")
    p.add_argument("--workdir", default=str(ROOT / "runs" / "long_bench"))
    return p.parse_args(argv)


def base_interview(work: Path) -> tuple[np.ndarray, float]:
    """(16 kHz audio of one synthetic interview, start s of its first participant answer)."""
    from interview_mil.corpora.synthetic import SynthConfig, generate_corpus
    from interview_mil.data import load_audio

    corpus = work / "corpus"
    if not (corpus / "ground_truth").exists():
        generate_corpus(corpus, SynthConfig(n_interviews=1, seed=5, target_duration_s=60.0), progress=False)
    import pandas as pd

    wav = sorted(corpus.rglob("*_AUDIO.wav"))[0]
    turns = pd.read_csv(corpus / "ground_truth" / "turns.csv")
    return load_audio(wav), float(turns["start_time"].min())


def write_recording(path: Path, seconds: float, base: np.ndarray, gap: float, seed: int = 0) -> Path:
    """``seconds`` of [interview, ``gap`` s of noise] repeated, written in 30 s blocks (PCM 16)."""
    import soundfile as sf

    if path.exists() and abs(sf.info(str(path)).duration - seconds) < 1e-3:
        return path
    rng = np.random.default_rng(seed)
    total, written = int(seconds * SR), 0
    tmp = path.with_suffix(".tmp.wav")
    with sf.SoundFile(str(tmp), "w", samplerate=SR, channels=1, subtype="PCM_16") as out:
        while written < total:
            out.write(base[: total - written])
            written += min(base.size, total - written)
            left = min(int(gap * SR), total - written)
            while left > 0:
                n = min(30 * SR, left)
                out.write((10 ** (-65 / 20) * np.sqrt(2) * rng.standard_normal(n)).astype(np.float32))
                written, left = written + n, left - n
    tmp.replace(path)
    return path


def measured(cmd: list[str], log: Path) -> dict:
    """Run ``cmd`` under /usr/bin/time -v → {peak_mb, wall_s, rc}; the output goes to ``log``."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    with open(log, "w") as handle:
        rc = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=handle, stderr=subprocess.STDOUT, env=env).returncode
    text = log.read_text()
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1).split(":")
    wall = sum(float(v) * 60**i for i, v in enumerate(reversed(clock)))
    return {"peak_mb": peak, "wall_s": wall, "rc": rc}


def score(bundle: str, audio: Path, out: Path) -> dict:
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    return measured([*CLI, "score", bundle, str(audio), "--out", str(out), "--no-progress"], out.with_suffix(".log"))


def featurize(bundle: str, audio: Path, work: Path) -> dict:
    """The bundle's features of ``audio``'s turns through the featurize command (segmentation untimed)."""
    import shutil

    import yaml

    from interview_mil.config import to_dict
    from interview_mil.data.manifest import write_manifest
    from interview_mil.features import FeatureRecipe
    from interview_mil.mil import InterviewClassifier
    from interview_mil.pipeline import ScreeningPipeline
    from interview_mil.segmentation import segment_interview

    recipe = FeatureRecipe.from_metadata(InterviewClassifier.load(bundle).metadata_, source=Path(bundle))
    interview = ScreeningPipeline.interview(audio)
    seg = segment_interview(interview, recipe.segmentation)
    folder = work / f"featurize_{audio.stem}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest = write_manifest([interview], folder / "manifest.jsonl")
    import pandas as pd

    pd.DataFrame([t.to_dict() for t in seg.turns]).to_csv(folder / "turns.csv", index=False)
    (folder / "features.yaml").write_text(yaml.safe_dump(to_dict(recipe.features)))
    cmd = [*CLI, "featurize", str(manifest), "--turns", str(folder / "turns.csv")]
    cmd += ["--config", str(folder / "features.yaml"), "--out", str(folder / "store"), "--no-progress"]
    return measured(cmd, folder / "featurize.log") | {"speech_s": sum(t.duration for t in seg.turns)}


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    models = dict(m.split("=", 1) for m in args.model) if args.model else {}
    if not models:
        for name, bundle in (("demo", ROOT / "demo_out" / "model"), ("wavlm", ROOT / "runs/long/demo_wavlm/model")):
            if (bundle / "config.json").exists():
                models[name] = str(bundle)
    print(f"models: {models}; load average at start {os.getloadavg()[0]:.2f}", flush=True)
    base, _ = base_interview(work)
    floor_wav = work / "floor_21s.wav"
    from interview_mil.data import write_audio

    write_audio(floor_wav, base[: 21 * SR])  # both voices, scored (see the module docstring)
    recordings = {m: write_recording(work / f"rec_{m:g}min.wav", m * 60, base, args.gap) for m in args.minutes}
    rows = []
    for name, bundle in models.items():
        floor = score(bundle, floor_wav, work / f"out_{name}_floor")
        print(f"{name}: floor (21 s) {floor['peak_mb']:.0f} MB, {floor['wall_s']:.1f} s, rc {floor['rc']}", flush=True)
        for minutes, wav in recordings.items():
            run = score(bundle, wav, work / f"out_{name}_{minutes:g}")
            feat = featurize(bundle, wav, work) if minutes <= args.featurize_up_to else None
            row = dict(model=name, minutes=minutes, floor_mb=floor["peak_mb"], **run)
            row["above_floor_mb"] = run["peak_mb"] - floor["peak_mb"]
            if feat is not None:
                row.update(featurize_s=feat["wall_s"], featurize_mb=feat["peak_mb"], speech_s=feat["speech_s"])
            rows.append(row)
            ratio = f", score/featurize {run['wall_s'] / feat['wall_s']:.2f}" if feat else ""
            print(
                f"{name} {minutes:g} min: peak {run['peak_mb']:.0f} MB ({row['above_floor_mb']:+.0f} above floor), "
                f"score {run['wall_s']:.1f} s, rc {run['rc']}{ratio}",
                flush=True,
            )
    (work / "results.json").write_text(json.dumps(rows, indent=1))
    print(f"\n{'model':<7}{'minutes':>8}{'peak MB':>9}{'above floor':>12}{'score s':>9}{'featurize s':>12}{'ratio':>7}")
    for r in rows:
        f = r.get("featurize_s")
        ratio = f"{r['wall_s'] / f:7.2f}" if f else f"{'-':>7}"
        print(
            f"{r['model']:<7}{r['minutes']:8g}{r['peak_mb']:9.0f}{r['above_floor_mb']:12.0f}{r['wall_s']:9.1f}"
            f"{(f'{f:12.1f}' if f else f'{chr(45):>12}')}{ratio}"
        )
    print(f"load average at end {os.getloadavg()[0]:.2f} (2-core CPU of this dev machine, shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
