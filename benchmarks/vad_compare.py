"""Speech activity on real speech: the project's webrtcvad front end vs silero-vad (issue 22).

    .venv/bin/python benchmarks/vad_compare.py [--quick] [--json PATH]

Recordings: the two-speaker one-channel development set of ``two_speaker.py`` (``default`` spec, seed 1:
24 recordings of real LibriSpeech voices, half 8 kHz telephone, with exact reference turns), built into
``runs/diarization/dev-seed1`` when it is not there yet, and the shared real conversation
(``../shared/data/conversation/sample.wav`` with ``sample.rttm``, 30 s, human turns). ``--quick``: the two
shortest telephone and the two shortest wideband recordings of the set (and the conversation). Every file is
read through ``interview_mil.data.load_audio`` at 16 kHz (telephone files are upsampled from 8 kHz), as the
project reads them. Reference speech is the union of the RTTM turns.

Detectors:
  * ``webrtc``: the project's front end as it stands, ``segmentation.sources.speech_activity(path,
    SegmentationConfig())`` (webrtcvad, level gate, hangover/bridging/min-speech smoothing, edge refinement);
  * ``silero``: silero-vad (ONNX weights shipped in the package, ``load_silero_vad(onnx=True)``, one
    onnxruntime thread) through its ``get_speech_timestamps`` on the DC-removed 16 kHz signal: threshold 0.5
    (its default; release at threshold - 0.15), ``min_speech_duration_ms`` 120 and
    ``min_silence_duration_ms`` 150 (the project's ``VadConfig.min_speech`` / ``min_silence``),
    ``speech_pad_ms`` 30 (its default; the project has a 0.1 s hangover that its edge refinement then
    trims, so there is no exact counterpart);
  * ``silero_pad0``: the same with ``speech_pad_ms`` 0, a sensitivity check only (the reference spans are
    tight: each clip's extent within 30 dB of its loudest frame, so padding reads as false alarm).

Figures (10 ms frames, a frame being speech when its centre lies in a region):
  * ``miss``: share of reference speech frames not detected; ``fa``: share of reference non-speech frames
    detected; ``agreement``: share of all frames on which detector and reference agree;
  * ``boundary_ms``: median |onset difference| and |offset difference| (ms) over reference speech regions
    (union of turns) matched one-to-one (exactly one detected region overlaps it and that region overlaps
    no other reference region); ``matched``: share of reference regions so matched;
  * pauses: reference gaps (between consecutive reference speech regions) of >= 0.3 s; ``pause_kept``:
    share where the detector has non-speech inside the gap (the speech on the two sides is not bridged);
    ``pause_kept_025``: share where that detected non-speech stretch is >= 0.25 s long (the project's
    ``refine.min_pause``);
  * ``cpu_per_s``: process CPU seconds per audio second of the detector call, including decoding the file
    (``decode_cpu_per_s``: decoding alone), one thread, after an untimed warm-up call of each.
Pooled figures sum frames (and gaps, boundaries) over recordings; groups: telephone, wideband, all 24, and
the conversation on its own.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT / "runs" / "diarization" / "dev-seed1"
CONVERSATION = ROOT.parent / "shared" / "data" / "conversation"
SPEC, SEED = "default", 1
FRAME = 0.01
MIN_GAP_S = 0.3
LONG_PAUSE_S = 0.25
SILERO = {
    "threshold": 0.5,
    "min_speech_duration_ms": 120,
    "min_silence_duration_ms": 150,
    "speech_pad_ms": 30,
    "sampling_rate": 16000,
}
SILERO_PAD0 = {**SILERO, "speech_pad_ms": 0}
DETECTORS = ("webrtc", "silero", "silero_pad0")

Region = tuple[float, float]


# ---------------------------------------------------------------- regions and scores


def union(regions: Sequence[Region]) -> list[Region]:
    """Sorted, merged (overlapping or touching) regions."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in regions if b > a):
        if out and a <= out[-1][1] + 1e-9:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def frame_mask(regions: Sequence[Region], duration: float) -> np.ndarray:
    """Bool mask over 10 ms frames: frame i (centre (i + 0.5) * FRAME) inside a region."""
    n = int(np.ceil(duration / FRAME - 1e-9))
    mask = np.zeros(n, dtype=bool)
    for a, b in regions:
        i0 = max(0, int(np.ceil(a / FRAME - 0.5 - 1e-9)))
        i1 = min(n, int(np.ceil(b / FRAME - 0.5 - 1e-9)))
        if i1 > i0:
            mask[i0:i1] = True
    return mask


def gaps(regions: Sequence[Region], duration: float, inner_only: bool = True) -> list[Region]:
    """Non-speech stretches between ``regions`` (sorted, merged); with ``inner_only`` False also the
    stretches before the first and after the last region."""
    out = []
    edges = [(0.0, 0.0)] + list(regions) + [(duration, duration)] if not inner_only else list(regions)
    for (_, b), (a, _) in zip(edges[:-1], edges[1:]):
        if a > b:
            out.append((b, a))
    return out


def score(ref: Sequence[Region], hyp: Sequence[Region], duration: float) -> dict:
    """Counts for one recording (summed over recordings later) and its boundary errors."""
    ref, hyp = union(ref), union(hyp)
    r, h = frame_mask(ref, duration), frame_mask(hyp, duration)
    counts = {
        "frames": int(r.size),
        "ref_speech": int(r.sum()),
        "ref_nonspeech": int((~r).sum()),
        "missed": int((r & ~h).sum()),
        "false_alarm": int((~r & h).sum()),
        "n_ref_regions": len(ref),
        "n_hyp_regions": len(hyp),
    }

    # one-to-one matches
    def overlapping(x: Region, pool: Sequence[Region]) -> list[int]:
        return [k for k, y in enumerate(pool) if min(x[1], y[1]) > max(x[0], y[0])]

    onsets, offsets = [], []
    for x in ref:
        hits = overlapping(x, hyp)
        if len(hits) == 1 and len(overlapping(hyp[hits[0]], ref)) == 1:
            y = hyp[hits[0]]
            onsets.append(abs(y[0] - x[0]))
            offsets.append(abs(y[1] - x[1]))
    counts["n_matched"] = len(onsets)
    # pauses
    hyp_silence = gaps(hyp, duration, inner_only=False) if hyp else [(0.0, duration)]
    ref_gaps = [g for g in gaps(ref, duration) if g[1] - g[0] >= MIN_GAP_S - 1e-9]
    kept = kept_long = 0
    for g in ref_gaps:
        inside = [s for s in hyp_silence if min(g[1], s[1]) - max(g[0], s[0]) >= FRAME - 1e-9]
        kept += bool(inside)
        kept_long += any(s[1] - s[0] >= LONG_PAUSE_S - 1e-9 for s in inside)
    counts.update(n_gaps=len(ref_gaps), gaps_kept=kept, gaps_kept_long=kept_long)
    return {"counts": counts, "onset_err": onsets, "offset_err": offsets}


def summary(items: Sequence[dict]) -> dict:
    """Pooled figures of several recordings' ``score`` results plus their ``cpu_s``/``decode_cpu_s``/``audio_s``."""
    c = {k: sum(it["counts"][k] for it in items) for k in items[0]["counts"]}
    on = [e for it in items for e in it["onset_err"]]
    off = [e for it in items for e in it["offset_err"]]
    audio = sum(it["audio_s"] for it in items)

    def ratio(a, b):
        return a / b if b else float("nan")

    return {
        "n_recordings": len(items),
        "audio_min": audio / 60,
        "miss": ratio(c["missed"], c["ref_speech"]),
        "fa": ratio(c["false_alarm"], c["ref_nonspeech"]),
        "agreement": ratio(c["frames"] - c["missed"] - c["false_alarm"], c["frames"]),
        "boundary_ms": 1000 * float(np.median(on + off)) if on else float("nan"),
        "onset_ms": 1000 * float(np.median(on)) if on else float("nan"),
        "offset_ms": 1000 * float(np.median(off)) if off else float("nan"),
        "matched": ratio(c["n_matched"], c["n_ref_regions"]),
        "pause_kept": ratio(c["gaps_kept"], c["n_gaps"]),
        "pause_kept_025": ratio(c["gaps_kept_long"], c["n_gaps"]),
        "cpu_per_s": ratio(sum(it["cpu_s"] for it in items), audio),
        "decode_cpu_per_s": ratio(sum(it["decode_cpu_s"] for it in items), audio),
        "counts": c,
    }


# ---------------------------------------------------------------- detectors


class Detectors:
    """The two detectors, each timed in process CPU seconds from the file path."""

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)
        from silero_vad import get_speech_timestamps, load_silero_vad

        from interview_mil.data import load_audio
        from interview_mil.segmentation import SegmentationConfig
        from interview_mil.segmentation.quality_measures import remove_dc
        from interview_mil.segmentation.sources import speech_activity

        self.torch = torch
        self.model = load_silero_vad(onnx=True)
        self.get_speech_timestamps = get_speech_timestamps
        self.load_audio, self.remove_dc = load_audio, remove_dc
        self.speech_activity, self.config = speech_activity, SegmentationConfig()

    def decode(self, path: Path) -> np.ndarray:
        return self.remove_dc(self.load_audio(path))

    def webrtc(self, path: Path) -> list[Region]:
        return list(self.speech_activity(path, self.config).regions)

    def silero(self, path: Path, options: dict = SILERO) -> list[Region]:
        signal = self.torch.from_numpy(self.decode(path))
        stamps = self.get_speech_timestamps(signal, self.model, **options)
        sr = options["sampling_rate"]
        return [(s["start"] / sr, s["end"] / sr) for s in stamps]

    def silero_pad0(self, path: Path) -> list[Region]:
        return self.silero(path, SILERO_PAD0)

    def timed(self, name: str, path: Path) -> tuple[list[Region], float]:
        t = time.process_time()
        regions = getattr(self, name)(path)
        return regions, time.process_time() - t

    def decode_cpu(self, path: Path) -> float:
        t = time.process_time()
        self.decode(path)
        return time.process_time() - t


# ---------------------------------------------------------------- run


def reference(rttm: Path) -> list[Region]:
    from interview_mil.segmentation.speakers import read_rttm

    return union([(start, end) for _, start, end, _ in read_rttm(rttm)])


def run_info() -> dict:
    """``diarization.run_info`` (machine, date, commit, versions) with the VADs' versions and threads."""
    import onnxruntime
    import silero_vad
    from diarization import run_info as common

    return common() | {
        "threads": 1,
        "silero_vad": getattr(silero_vad, "__version__", "unknown"),
        "onnxruntime": onnxruntime.__version__,
    }


def items_for(name: str, results: Sequence[dict]) -> list[dict]:
    return [{**r[name], "audio_s": r["audio_s"], "decode_cpu_s": r["decode_cpu_s"]} for r in results]


COLUMNS = [
    ("miss", "miss", "{:.3f}"),
    ("fa", "FA", "{:.3f}"),
    ("agreement", "agree", "{:.3f}"),
    ("boundary_ms", "bound ms", "{:.0f}"),
    ("matched", "matched", "{:.2f}"),
    ("pause_kept", "pause kept", "{:.3f}"),
    ("pause_kept_025", "kept>=.25", "{:.3f}"),
    ("cpu_per_s", "CPU s/s", "{:.4f}"),
]


def print_table(groups: dict[str, dict[str, dict]]) -> None:
    head = f"{'group':<12} {'VAD':<11} {'min':>6} " + " ".join(f"{t:>10}" for _, t, _ in COLUMNS) + f" {'gaps':>5}"
    print(head)
    print("-" * len(head))
    for group, by_vad in groups.items():
        for name, s in by_vad.items():
            cells = " ".join(f"{fmt.format(s[k]):>10}" for k, _, fmt in COLUMNS)
            print(f"{group:<12} {name:<11} {s['audio_min']:>6.1f} {cells} {s['counts']['n_gaps']:>5}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="4 recordings (2 telephone, 2 wideband) + the conversation")
    p.add_argument("--recordings", type=Path, default=RECORDINGS, help="the default/seed-1 two-speaker set")
    p.add_argument("--conversation", type=Path, default=CONVERSATION, help="folder with sample.wav and sample.rttm")
    p.add_argument("--json", type=Path, default=None, help="write every figure here")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from two_speaker import build_recordings, load_recordings

    args = parse_args(argv)
    started = time.perf_counter()
    recordings = load_recordings(args.recordings, SPEC, SEED)
    if recordings is None:
        print(f"building the {SPEC}/seed {SEED} set into {args.recordings} ...", flush=True)
        recordings = build_recordings(args.recordings, SPEC, SEED)
    if args.quick:
        keep = set()
        for channel in ("telephone", "wideband"):
            same = sorted((r for r in recordings if r.condition.channel == channel), key=lambda r: r.duration)
            keep |= {r.uri for r in same[:2]}
        recordings = [r for r in recordings if r.uri in keep]
    det = Detectors()
    warm = time.process_time()  # model loading, lazy imports, a resampler per sample rate
    for first in {r.sample_rate: r for r in recordings}.values():
        for name in DETECTORS:
            det.timed(name, first.path)
        det.decode_cpu(first.path)
    warm = time.process_time() - warm

    tasks = [(r.uri, r.path, r.rttm, r.condition.channel, r.duration) for r in recordings]
    wav, rttm = args.conversation / "sample.wav", args.conversation / "sample.rttm"
    if wav.exists() and rttm.exists():
        from interview_mil.data import audio_info

        tasks.append(("conversation", wav, rttm, "conversation", audio_info(wav).duration))
    results = []
    for uri, path, ref_path, channel, duration in tasks:
        ref = reference(ref_path)
        row = {"uri": uri, "channel": channel, "audio_s": duration, "decode_cpu_s": det.decode_cpu(path)}
        for name in DETECTORS:
            regions, cpu = det.timed(name, path)
            row[name] = {**score(ref, regions, duration), "cpu_s": cpu}
        results.append(row)
        print(
            f"  {uri} ({channel}, {duration / 60:.1f} min): "
            + "; ".join(
                f"{n} miss {summary(items_for(n, [row]))['miss']:.3f} fa {summary(items_for(n, [row]))['fa']:.3f}"
                f" cpu {row[n]['cpu_s']:.1f} s"
                for n in DETECTORS
            ),
            flush=True,
        )

    dev = [r for r in results if r["channel"] != "conversation"]
    selections = {
        "telephone": [r for r in dev if r["channel"] == "telephone"],
        "wideband": [r for r in dev if r["channel"] == "wideband"],
        "dev pooled": dev,
        "conversation": [r for r in results if r["channel"] == "conversation"],
    }
    groups = {g: {n: summary(items_for(n, sel)) for n in DETECTORS} for g, sel in selections.items() if sel}
    print()
    print_table(groups)
    pooled = groups.get("dev pooled")
    if pooled:
        w, s = pooled["webrtc"], pooled["silero"]
        print(
            f"\ndev pooled, silero - webrtc: miss {s['miss'] - w['miss']:+.3f}, FA {s['fa'] - w['fa']:+.3f}, "
            f"agreement {s['agreement'] - w['agreement']:+.3f}, "
            f"boundary {s['boundary_ms'] - w['boundary_ms']:+.0f} ms, "
            f"pauses kept >= 0.25 s {s['pause_kept_025'] - w['pause_kept_025']:+.3f}, "
            f"CPU x{s['cpu_per_s'] / w['cpu_per_s']:.1f}"
        )
    print(f"warm-up CPU {warm:.1f} s; wall {time.perf_counter() - started:.0f} s")
    if args.json:
        run = run_info() | {
            "spec": SPEC,
            "seed": SEED,
            "quick": args.quick,
            "recordings": str(args.recordings),
            "warmup_cpu_s": warm,
            "seconds": time.perf_counter() - started,
            "command": "benchmarks/vad_compare.py " + " ".join(sys.argv[1:] if argv is None else argv),
        }
        settings = {
            "webrtc": "segmentation.sources.speech_activity(path, SegmentationConfig()) (VadConfig defaults)",
            "silero": {"model": "load_silero_vad(onnx=True)", "get_speech_timestamps": SILERO},
            "silero_pad0": {"model": "load_silero_vad(onnx=True)", "get_speech_timestamps": SILERO_PAD0},
            "frame_s": FRAME,
            "min_gap_s": MIN_GAP_S,
            "long_pause_s": LONG_PAUSE_S,
            "audio": "interview_mil.data.load_audio at 16 kHz (telephone upsampled from 8 kHz), DC removed",
        }
        per_rec = [
            {
                "uri": r["uri"],
                "channel": r["channel"],
                "audio_s": r["audio_s"],
                **{n: dict(summary(items_for(n, [r])).items()) for n in DETECTORS},
            }
            for r in results
        ]
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"run": run, "settings": settings, "groups": groups, "recordings": per_rec}, indent=2, allow_nan=True
            )
            + "\n"
        )
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
