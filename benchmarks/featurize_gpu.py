"""GPU encoder speed, run by ``benchmarks/featurize.py --device cuda`` (× real time per speech encoder).

Models: wav2vec2-base (``Wav2Vec2Config()``), WavLM-base-plus (``WavLMConfig()``: the base-plus layout)
and the Whisper-base encoder (d_model 512, 6 layers, 8 heads, FFN 2048, 80 mel bins), each built locally
with seeded random weights (the speed of a checkpoint; nothing is downloaded), saved, and loaded through
``load_encoder`` on the GPU in ``--dtype`` (bfloat16 by default). Turns: ``--speech-seconds`` of
interview-like participant turns (lengths log-normal around 4 s, 0.5–40 s; turns over 20 s are chunked
by the encoder), noise-like audio. Timed: ``Encoder.encode`` over all turns (input checks, per-turn
normalisation, chunking, length-bucketed batches of ``batch_seconds`` padded audio, pooling, the copy
back), best of ``--repeats`` after one warm-up run. × real time = speech seconds / wall seconds.

Baseline in the same run (wav2vec2-base only): the plain transformers forward in the same dtype at
batch 16 on length-sorted, zero-padded turns (the published anchor's setup, ~1,780× on an A100 in bf16),
without our padding guard or pooling. Agreement: the padding check's figure for each model, and the
largest relative difference ||e - e_fp32|| / ||e_fp32|| of the reduced-precision embeddings to
float32 ones (same device) on 40 of the turns.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SR = 16_000


def interview_turns(total_seconds: float, seed: int = 0) -> list[np.ndarray]:
    """Turns whose lengths follow a log-normal around 4 s (0.5–40 s), ``total_seconds`` in all."""
    rng = np.random.default_rng(seed)
    waves, total = [], 0.0
    while total < total_seconds:
        seconds = float(np.clip(rng.lognormal(np.log(4.0), 0.8), 0.5, 40.0))
        waves.append((0.1 * rng.standard_normal(int(seconds * SR))).astype(np.float32))
        total += seconds
    return waves


def build_models(root: Path) -> dict[str, Path]:
    """{name: folder} of the three base-size models with seeded random weights."""
    import torch
    import transformers as tf

    folders = {}
    torch.manual_seed(0)
    for name, model in (
        ("wav2vec2-base", tf.Wav2Vec2Model(tf.Wav2Vec2Config())),
        ("wavlm-base-plus", tf.WavLMModel(tf.WavLMConfig())),
    ):
        folders[name] = root / name
        model.save_pretrained(folders[name])
        tf.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=False).save_pretrained(folders[name])
    whisper = tf.WhisperConfig(
        d_model=512,
        encoder_layers=6,
        encoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_layers=1,
        decoder_attention_heads=8,
        decoder_ffn_dim=2048,
        num_mel_bins=80,
    )
    folders["whisper-base encoder"] = root / "whisper-base"
    tf.WhisperModel(whisper).save_pretrained(folders["whisper-base encoder"])
    tf.WhisperFeatureExtractor(feature_size=80).save_pretrained(folders["whisper-base encoder"])
    return folders


def timed(call, repeats: int) -> float:
    """Best wall time of ``repeats`` calls after one warm-up call (GPU synchronised after each)."""
    import torch

    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    call()
    best = float("inf")
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        call()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def bare_forward(folder: Path, waves: list[np.ndarray], dtype, device: str, batch: int = 16):
    """The plain forward: length-sorted batches of ``batch`` zero-padded turns, no mask, no pooling."""
    import torch
    import transformers as tf

    model = tf.Wav2Vec2Model.from_pretrained(folder).eval().to(device, dtype)
    order = sorted(range(len(waves)), key=lambda i: -waves[i].size)
    batches = []
    for k in range(0, len(order), batch):
        items = [waves[i] for i in order[k : k + batch]]
        padded = np.zeros((len(items), items[0].size), np.float32)
        for j, w in enumerate(items):
            padded[j, : w.size] = (w - w.mean()) / np.sqrt(w.var() + 1e-7)
        batches.append(torch.from_numpy(padded))

    def run():
        with torch.inference_mode():
            for x in batches:
                model(x.to(device, dtype, non_blocking=True)).last_hidden_state.float().mean()

    return run


def relative_errors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """||a - b|| / ||b|| per row."""
    return np.linalg.norm(a - b, axis=1) / (np.linalg.norm(b, axis=1) + 1e-12)


def main_cuda(args, work: Path, device: str = "cuda") -> int:
    """The GPU benchmark (``device="cpu"`` runs the same code on the CPU: a smoke test of the script)."""
    import functools

    import torch

    from interview_mil.features import EncoderConfig, load_encoder

    if device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: the GPU figures are unmeasured")
        return 1
    name = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    print(f"device: {name}; torch {torch.__version__}; dtype {args.dtype}")
    waves = interview_turns(args.speech_seconds)
    speech = sum(w.size for w in waves) / SR
    subset = waves[:: max(1, len(waves) // 40)][:40]
    print(f"{len(waves)} turns, {speech:.0f} s of speech; building base-size models with random weights")
    folders = build_models(work / "models")
    runs = [
        ("wav2vec2-base", "last", 120.0),
        ("wav2vec2-base", "last", 320.0),
        ("wav2vec2-base", 6, 320.0),
        ("wavlm-base-plus", "last", 320.0),
        ("whisper-base encoder", "last", 480.0),
    ]
    rows = []
    for name, layers, batch_seconds in runs:
        config = EncoderConfig(
            model=str(folders[name]), layers=layers, device=device, dtype=args.dtype, batch_seconds=batch_seconds
        )
        encoder = load_encoder(config)
        seconds = timed(functools.partial(encoder.encode, waves), args.repeats)
        reference = load_encoder(EncoderConfig(model=str(folders[name]), layers=layers, device=device))
        error = relative_errors(encoder.encode(subset), reference.encode(subset))
        check = "n/a" if encoder.padding_error is None else f"{encoder.padding_error:.1e} ({encoder.conv_mode})"
        label = f"{name}, layer {layers}, batch {batch_seconds:.0f} s"
        rows.append((label, speech / seconds, check, float(error.max())))
        print(f"  {label}: {speech / seconds:.0f}x real time", flush=True)
        del encoder, reference
        if device == "cuda":
            torch.cuda.empty_cache()
    dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[args.dtype]
    bare_s = timed(bare_forward(folders["wav2vec2-base"], waves, dtype, device), args.repeats)
    ours = max(r[1] for r in rows if r[0].startswith("wav2vec2-base, layer last"))
    print(f"\n{'encoder (ours: Encoder.encode)':<48} {'x real time':>12} {'padding check':>20} {'err vs fp32':>12}")
    for label, rtf, check, error in rows:
        print(f"{label:<48} {rtf:12.0f} {check:>20} {error:12.1e}")
    print(f"{'bare transformers forward, wav2vec2-base, batch 16':<48} {speech / bare_s:12.0f}")
    print(f"ratio_ours_vs_bare_wav2vec2_base: {ours / (speech / bare_s):.2f}")
    print(f"wav2vec2_base_realtime_factor: {ours:.0f}")
    return 0
