"""Featurize speed: our pipeline vs. the naive one a researcher would write, and vs. the bare forward.

    python benchmarks/featurize.py [--quick] [--corpus DIR] [--n-interviews N] [--duration S]
                                   [--layer L] [--threads 2] [--workdir DIR]
    python benchmarks/featurize.py --device cuda [--dtype bfloat16] [--speech-seconds 3600] [--repeats 2]

``--device cuda`` runs the GPU benchmark instead (``benchmarks/featurize_gpu.py``: × real time of
wav2vec2-base, WavLM-base-plus and the Whisper-base encoder, against the bare transformers forward).

Fixed set of synthetic interviews (``interview-mil synth`` generator, seeded; generated into the work
folder unless ``--corpus`` names one), participant turns from the DAIC-style transcripts through
``interview_mil.segmentation``. Encoder: a base-size ``Wav2Vec2Config()`` (95 M parameters) with random
weights saved to a temporary folder and loaded through our ``load_encoder`` (random weights are fine for
timing and for the equivalence checks). The embedding is layer ``--layer`` (default 6 of 12), mean-pooled.

  naive  librosa ``pyin`` (75–500 Hz) per turn + one unbatched forward of the full fp32 model per turn
         (feature extractor → model(output_hidden_states=True) → hidden_states[layer].mean); its
         embeddings are the fp32 full-model reference.
  bare   the full fp32 model's plain forward over the same turns, both length-sorted padded batches
         (120 s of padded audio each) and one turn at a time; the faster of the two is the limit.
  fast   our encoder paths: model truncated after ``--layer`` (fp32), truncated + dynamic int8 Linear,
         bf16 (only where the CPU has native bf16); ct2 is not applicable to wav2vec2-base (see the output). A
         path counts only if the cosine similarity of every turn's embedding to the reference is >= 0.99.
  ours   ``featurize_interview`` (audio read from disk, full prosody set + the fastest counted path)
         + ``FeatureStore.save``, one interview after another.

Times exclude model loading (done once, kept loaded); every model runs once on 1 s of noise before it is
timed (first-call costs), and prosody is timed best of 3. Real-time factor (RTF) = compute seconds / seconds
of participant speech. The last three lines are ``ratio_vs_naive`` (naive time / ours),
``ratio_vs_bare_forward`` (ours / bare) and ``prosody_realtime_per_core`` (speech seconds per CPU second
of prosody extraction in one process).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


WARM_UP = np.random.default_rng(0).normal(0, 0.1, 16_000).astype(np.float32)  # 1 s, for first-call costs


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="2 interviews of ~60 s; stop at the first fast path that counts"
    )
    p.add_argument("--corpus", help="existing synthetic corpus folder (else generated into --workdir)")
    p.add_argument("--n-interviews", type=int, default=6)
    p.add_argument("--duration", type=float, default=120.0, help="target seconds per generated interview")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--layer", type=int, default=6, help="encoder layer to embed with (of 12)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workdir", help="folder for the corpus, model and stores (default: a temporary one)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="cuda: the GPU benchmark")
    p.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"], help="GPU only")
    p.add_argument("--speech-seconds", type=float, default=3600.0, help="GPU only: seconds of turns")
    p.add_argument("--repeats", type=int, default=2, help="GPU only: timed runs per encoder (best kept)")
    args = p.parse_args(argv)
    if args.quick:
        args.n_interviews, args.duration = min(args.n_interviews, 2), min(args.duration, 60.0)
    return args


def corpus_turns(args, work: Path):
    """(interviews, {id: turns}, {id: audio}) of the benchmark corpus."""
    from interview_mil.corpora import prepare_synthetic
    from interview_mil.corpora.synthetic import SynthConfig, generate_corpus
    from interview_mil.data import load_audio, read_manifest
    from interview_mil.segmentation import SegmentationConfig, segment_manifest

    corpus = Path(args.corpus) if args.corpus else work / "corpus"
    if not (corpus / "ground_truth" / "labels.csv").exists():
        print(f"generating {args.n_interviews} synthetic interviews of ~{args.duration:.0f} s into {corpus}")
        generate_corpus(
            corpus,
            SynthConfig(n_interviews=args.n_interviews, seed=args.seed, target_duration_s=args.duration),
            progress=False,
        )
    interviews = read_manifest(prepare_synthetic(corpus, work / "prepared"))[: args.n_interviews]
    report = segment_manifest(interviews, SegmentationConfig(), progress=False)
    turns: dict[str, list] = {}
    for turn in report.turns:
        turns.setdefault(turn.interview_id, []).append(turn)
    interviews = [iv for iv in interviews if turns.get(iv.interview_id)]
    audio = {iv.interview_id: load_audio(iv.audio_path, channel=iv.channel) for iv in interviews}
    return interviews, turns, audio


def base_model(folder: Path) -> Path:
    """A wav2vec2-base-size model with random weights (seeded), saved like a hub checkpoint."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    tf.Wav2Vec2Model(tf.Wav2Vec2Config()).save_pretrained(folder)
    tf.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=False).save_pretrained(folder)
    return folder


def run_naive(folder: Path, waves, layer: int):
    """pyin + one unbatched full fp32 forward per turn → (pyin s, encoder s, reference embeddings)."""
    import librosa
    import torch
    import transformers as tf

    fe = tf.Wav2Vec2FeatureExtractor.from_pretrained(folder)
    model = tf.Wav2Vec2Model.from_pretrained(folder).eval()
    warm_up(lambda: model(fe(WARM_UP, sampling_rate=16_000, return_tensors="pt").input_values))
    librosa.pyin(WARM_UP, fmin=75.0, fmax=500.0, sr=16_000)
    pyin_s = enc_s = 0.0
    refs = []
    for wave in waves:
        t0 = time.perf_counter()
        librosa.pyin(wave, fmin=75.0, fmax=500.0, sr=16_000)
        t1 = time.perf_counter()
        with torch.no_grad():
            inputs = fe(wave, sampling_rate=16_000, return_tensors="pt")
            hidden = model(inputs.input_values, output_hidden_states=True).hidden_states
            refs.append(hidden[layer][0].mean(0).numpy())
        t2 = time.perf_counter()
        pyin_s, enc_s = pyin_s + t1 - t0, enc_s + t2 - t1
    return pyin_s, enc_s, np.stack(refs)


def run_bare(folder: Path, waves, batch_seconds: float = 120.0) -> dict[str, float]:
    """The full fp32 model's plain forward over the same turns, two ways → {way: seconds}: length-sorted
    padded batches (``batch_seconds`` of padded audio each), and one turn at a time (no padding; on a CPU
    often the faster, since the padding of a batch is computed too). The faster is the practical limit."""
    import torch
    import transformers as tf

    from interview_mil.features.encoders import plan_batches

    fe = tf.Wav2Vec2FeatureExtractor.from_pretrained(folder)
    model = tf.Wav2Vec2Model.from_pretrained(folder).eval()
    batches = plan_batches([w.size for w in waves], int(batch_seconds * 16_000))
    times = {}
    warm_up(lambda: model(fe(WARM_UP, sampling_rate=16_000, return_tensors="pt").input_values))
    with torch.inference_mode():
        t0 = time.perf_counter()
        for batch in batches:
            inputs = fe([waves[i] for i in batch], sampling_rate=16_000, padding=True, return_tensors="pt")
            _ = model(inputs.input_values).last_hidden_state
        times["batched"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for wave in waves:
            _ = model(fe(wave, sampling_rate=16_000, return_tensors="pt").input_values).last_hidden_state
        times["per turn"] = time.perf_counter() - t0
    return times


def warm_up(call) -> None:
    """Run ``call`` once before timing, so one-off costs (kernel selection, allocation) are not timed."""
    import torch

    with torch.inference_mode():
        call()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)


def has_native_bf16() -> bool:
    import torch

    if torch.cuda.is_available():
        return True
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags or "amx_bf16" in flags


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers as tf

    tf.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    from interview_mil.features import EncoderConfig, FeatureConfig, FeatureStore, featurize_interview, load_encoder
    from interview_mil.features.featurize import turn_waves
    from interview_mil.features.prosody import ProsodyConfig, extract_prosody

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="featurize_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    if args.device == "cuda":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from featurize_gpu import main_cuda

        return main_cuda(args, work)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"work folder {work}; torch threads {args.threads}; load average at start {load:.2f}")
    interviews, turns, audio = corpus_turns(args, work)
    waves = [w for iv in interviews for w in turn_waves(audio[iv.interview_id], turns[iv.interview_id])]
    speech = sum(w.size for w in waves) / 16_000
    print(
        f"{len(interviews)} interviews, {len(waves)} turns, {speech:.1f} s of participant speech "
        f"(turn length {min(w.size for w in waves) / 16e3:.1f}–{max(w.size for w in waves) / 16e3:.1f} s)"
    )
    folder = base_model(work / "wav2vec2-base-random")
    layer = args.layer

    pyin_s, naive_enc_s, reference = run_naive(folder, waves, layer)
    naive_s = pyin_s + naive_enc_s
    bare = run_bare(folder, waves)
    bare_way = min(bare, key=bare.get)
    bare_s = bare[bare_way]
    rows = [
        ("naive: librosa pyin per turn", pyin_s),
        ("naive: unbatched full fp32 forward per turn", naive_enc_s),
        ("naive total", naive_s),
        ("bare: full fp32 model, plain forward, length-sorted padded batches (all 12 layers)", bare["batched"]),
        ("bare: full fp32 model, plain forward, one turn at a time (all 12 layers)", bare["per turn"]),
    ]

    paths = {
        "truncated + int8": EncoderConfig(model=str(folder), layers=layer, dtype="int8"),
        "truncated fp32": EncoderConfig(model=str(folder), layers=layer),
    }
    if has_native_bf16():
        paths["truncated + bf16"] = EncoderConfig(model=str(folder), layers=layer, dtype="bfloat16")
    counted: dict[str, tuple[float, EncoderConfig]] = {}
    for name, config in paths.items():
        encoder = load_encoder(config)
        encoder.encode([WARM_UP])
        t0 = time.perf_counter()
        emb = encoder.encode(waves)
        seconds = time.perf_counter() - t0
        cos = cosines(emb, reference)
        ok = bool(cos.min() >= 0.99)
        rows.append(
            (
                f"fast path {name} (layer {layer}; cos min {cos.min():.4f} mean {cos.mean():.4f}; "
                f"{'counts' if ok else 'does NOT count'})",
                seconds,
            )
        )
        if ok:
            counted[name] = (seconds, config)
            if args.quick:
                break
    skipped = [] if has_native_bf16() else ["bf16 (no native bf16 on this CPU: emulated, slower)"]
    skipped.append(
        "ct2 (our CTranslate2 backend serves Whisper; CTranslate2's own Wav2Vec2 converter reads a "
        "layer norm from every convolution layer and needs a CTC head, which wav2vec2-base lacks)"
    )
    best = min(counted, key=lambda n: counted[n][0]) if counted else None
    chosen = counted[best][1] if best else EncoderConfig(model=str(folder), layers=layer)

    encoder = load_encoder(chosen)
    encoder.encode([WARM_UP])
    config = FeatureConfig(prosody=ProsodyConfig(), encoder=chosen)
    store = FeatureStore(work / "store" / str(time.time_ns()), config)
    t0 = time.perf_counter()
    for iv in interviews:
        store.save(featurize_interview(iv, turns[iv.interview_id], config, encoder))
    ours_s = time.perf_counter() - t0
    rows.append((f"ours: featurize (prosody + {best or 'truncated fp32 (no path counted)'}) + store", ours_s))

    prosody_runs = []
    for _ in range(3):  # best of 3 (the first also pays one-off import and cache costs)
        cpu0 = time.process_time()
        for iv in interviews:
            extract_prosody(audio[iv.interview_id], 16_000, turns[iv.interview_id], ProsodyConfig())
        prosody_runs.append(time.process_time() - cpu0)
    prosody_cpu = min(prosody_runs)

    print(f"\n{'pipeline':<100} {'seconds':>8} {'RTF':>7}")
    for name, seconds in rows:
        print(f"{name:<100} {seconds:8.2f} {seconds / speech:7.3f}")
    print(
        f"prosody alone (one process, CPU time, best of 3: {', '.join(f'{t:.2f}' for t in prosody_runs)} s): "
        f"{speech / prosody_cpu:.0f}x real time"
    )
    print("not run: " + "; ".join(skipped))
    print(
        f"ours uses: layer {layer} via {best or 'no counted fast path'} (cosine >= 0.99 to the fp32 full "
        f"model's layer {layer}); bare = the faster plain forward of the full fp32 model ({bare_way})"
    )
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    print(f"ratio_vs_naive: {naive_s / ours_s:.2f}")
    print(f"ratio_vs_bare_forward: {ours_s / bare_s:.2f}")
    print(f"prosody_realtime_per_core: {speech / prosody_cpu:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
