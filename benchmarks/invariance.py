"""Invariance to recording conditions: does the answer change when only the recording changes?

Each recording is scored as it is (the baseline, in the same run) and after one transformation at a time;
the table reports, per transformation, the largest change of the probability on real and on synthetic
recordings and of its logit (a probability near 0 or 1 hides a change its logit shows), decision flips,
gate verdicts that changed, the prosody feature that moved most and the mean change of the embedding
columns (median over matched turns of |change|, in units of that feature's standard deviation over all
baseline turns of the run, so dB, Hz and seconds compare). Transformations:

* ``gain-20/-10/+6``: level change (written as 32-bit float, so +6 dB does not also clip);
* ``dc+0.05/+0.1``: a DC offset added (float);
* ``8k``/``16k``/``44k``: resampled (16-bit PCM); ``stereo-mix``: 44.1 kHz stereo (second channel 2 dB
  lower) mixed to mono by the loader;
* ``clip-light``: gain until 0.1 % of the samples reach full scale, then clipped (16-bit);
* ``noise-30``: white noise 30 dB below the speech level.

Recordings: the shared real conversation (no transcript: diarized, the harder case) and the held-out
(test split) interviews of a synthetic corpus (with their transcripts, as the demo scores them).

    python benchmarks/invariance.py --model demo_out/model --corpus demo_out/corpus --out runs/invariance

Acceptance (issue 14): |change| <= 0.05 for gain, DC, 44.1 kHz and the stereo mix, <= 0.10 at 8 kHz, no
decision flips. Research screening aid, not a diagnosis.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from interview_mil.data.audio import resample
from interview_mil.data.manifest import read_manifest
from interview_mil.pipeline import ScreeningPipeline

CONVERSATION = Path("../shared/data/conversation/sample.wav")
BOUND = {"gain": 0.05, "dc": 0.05, "44k": 0.05, "stereo": 0.05, "8k": 0.10}


def _active_rms(x: np.ndarray, sr: int) -> float:
    hop = max(1, sr // 100)
    n = len(x) // hop
    levels = (x[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    return float(np.sqrt(np.mean(np.sort(levels)[n // 2 :])))


def _resampled(x: np.ndarray, sr: int, rate: int) -> np.ndarray:
    return np.stack([resample(x[:, c], sr, rate) for c in range(x.shape[1])], axis=1)


def transformations(x: np.ndarray, sr: int, seed: int) -> dict[str, tuple[np.ndarray, int, str, int | None]]:
    """name → (samples (n, channels), sample rate, subtype, channel to score or None) for ``x`` (n, ch)."""
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[np.ndarray, int, str, int | None]] = {}
    for g in (-20, -10, 6):
        out[f"gain{g:+d}"] = (x * 10 ** (g / 20), sr, "FLOAT", None)
    for d in (0.05, 0.1):
        out[f"dc+{d:g}"] = (x + d, sr, "FLOAT", None)
    for rate, name in ((8000, "8k"), (16000, "16k"), (44100, "44k")):
        if rate != sr:
            out[name] = (_resampled(x, sr, rate), rate, "PCM_16", None)
    mono = x.mean(axis=1, keepdims=True)
    hi = _resampled(mono, sr, 44100)
    stereo = np.concatenate([hi, hi * 10 ** (-2 / 20)], axis=1)
    out["stereo-mix"] = (stereo, 44100, "PCM_16", None)
    peak = float(np.quantile(np.abs(x), 0.999))
    out["clip-light"] = (np.clip(x / peak, -1.0, 1.0), sr, "PCM_16", None)
    noise = rng.standard_normal(x.shape) * _active_rms(mono[:, 0], sr) * 10 ** (-30 / 20)
    out["noise-30"] = (x + noise, sr, "FLOAT", None)
    return out


def score(pipe: ScreeningPipeline, audio: Path, transcript: str | None, channel: int | None) -> dict:
    bags = {}
    r = pipe.apply(audio, transcript=transcript, channel=channel, hook=lambda s, rec: bags.update({s: rec}))
    bag = bags.get("bag")
    X = None if bag is None else pd.DataFrame(bag.X, columns=list(pipe.model.feature_names_in_))
    spans = [] if bag is None else [(t.start, t.end) for t in bag.turns]
    return {"p": r.probability, "decision": r.row.decision, "status": r.row.status, "X": X, "spans": spans}


def feature_change(base: dict, new: dict) -> pd.Series:
    """Median over matched turns (overlap >= 50 % of the base turn) of |change|, per feature; empty when
    nothing matches."""
    if base["X"] is None or new["X"] is None:
        return pd.Series(dtype=float)
    rows = []
    for i, (a0, a1) in enumerate(base["spans"]):
        overlaps = [max(0.0, min(a1, b1) - max(a0, b0)) for b0, b1 in new["spans"]]
        j = int(np.argmax(overlaps)) if overlaps else -1
        if j >= 0 and overlaps[j] >= 0.5 * (a1 - a0):
            rows.append((base["X"].iloc[i] - new["X"].iloc[j]).abs())
    if not rows:
        return pd.Series(dtype=float)
    return pd.concat(rows, axis=1).median(axis=1)


def recordings(corpus: Path | None, conversation: Path, work: Path) -> list[tuple[str, str, Path, str | None]]:
    """(kind, id, audio, transcript) of the real conversation and the corpus's held-out interviews."""
    out = [("real", "conversation", conversation, None)] if conversation.exists() else []
    if corpus is not None:
        from interview_mil.corpora.synthetic.prepare import prepare_synthetic

        manifest = read_manifest(prepare_synthetic(corpus, work / "manifest"))
        out += [
            ("synthetic", i.interview_id, Path(i.audio_path), i.transcript_path) for i in manifest if i.split == "test"
        ]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model bundle (e.g. demo_out/model)")
    ap.add_argument("--corpus", type=Path, help="synthetic corpus whose test split is scored")
    ap.add_argument("--conversation", type=Path, default=CONVERSATION)
    ap.add_argument("--out", type=Path, default=Path("runs/invariance"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    args.out.mkdir(parents=True, exist_ok=True)
    pipe = ScreeningPipeline.from_pretrained(args.model)
    rows, feats, bases = [], [], []
    started = time.perf_counter()
    for kind, rid, audio, transcript in recordings(args.corpus, args.conversation, args.out):
        base = score(pipe, audio, transcript, None)
        bases.append(base["X"])
        x, sr = sf.read(str(audio), dtype="float32", always_2d=True)
        print(f"{kind} {rid}: {sr} Hz x{x.shape[1]}, p = {base['p']:.3f} ({base['status']})", flush=True)
        for name, (y, rate, subtype, channel) in transformations(x, sr, seed=len(rows)).items():
            path = args.out / f"{rid}_{name}.wav"
            sf.write(str(path), y.astype(np.float32), rate, subtype=subtype)
            new = score(pipe, path, transcript, channel)
            change = feature_change(base, new)
            feats.append(change.rename(len(rows)))
            rows.append(
                {
                    "kind": kind,
                    "recording": rid,
                    "transform": name,
                    "p_base": base["p"],
                    "p": new["p"],
                    "dp": abs(new["p"] - base["p"]),
                    "flip": bool(base["decision"] is not None and new["decision"] != base["decision"]),
                    "gate_changed": new["status"] != base["status"],
                }
            )
            path.unlink()
    spread = pd.concat([b for b in bases if b is not None]).std(ddof=0).replace(0.0, np.nan)
    change = pd.concat(feats, axis=1).T.reindex(range(len(rows))) / spread  # rows x features, in SDs
    emb = [c for c in change.columns if str(c).startswith("emb_")]
    prosody = change.drop(columns=emb)
    table = pd.DataFrame(rows)
    table["worst_feature"] = prosody.idxmax(axis=1, skipna=True).where(prosody.notna().any(axis=1), "")
    table["worst_feature_change"] = prosody.max(axis=1)
    table["embedding_change"] = change[emb].mean(axis=1) if emb else np.nan
    table.to_csv(args.out / "invariance_rows.csv", index=False)
    change.assign(recording=table["recording"], transform=table["transform"]).to_csv(
        args.out / "invariance_features.csv"
    )
    print(summary(table))
    print(f"\n{len(table)} transformed recordings scored in {time.perf_counter() - started:.0f} s")


def summary(table: pd.DataFrame) -> str:
    """One line per transformation: the largest |Δp| on real and synthetic recordings, flips, gate changes,
    the turn feature that moved most (median |Δ| in turn spreads, its largest over recordings), the bound."""
    lines = [
        "| transformation | max abs(Δp) real | max abs(Δp) synthetic | max abs(Δlogit) | flips | gate changed | "
        "most-moved prosody feature (Δ in SDs) | embedding Δ (mean, SDs) | bound | within |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def logit(p: pd.Series) -> pd.Series:
        q = p.clip(1e-6, 1 - 1e-6)
        return np.log(q / (1 - q))

    table = table.assign(dlogit=(logit(table["p"]) - logit(table["p_base"])).abs())
    for name, g in table.groupby("transform", sort=False):
        real, synth = g[g.kind == "real"].dp, g[g.kind == "synthetic"].dp
        worst = g.loc[g.worst_feature_change.idxmax()] if g.worst_feature_change.notna().any() else None
        bound = next((b for key, b in BOUND.items() if name.startswith(key)), None)
        top = max(real.max() if len(real) else 0.0, synth.max() if len(synth) else 0.0)
        ok = "" if bound is None else ("yes" if top <= bound and not g.flip.any() else "NO")
        lines.append(
            f"| {name} | {real.max() if len(real) else float('nan'):.3f} | "
            f"{synth.max() if len(synth) else float('nan'):.3f} | {g.dlogit.max():.2f} | "
            f"{int(g.flip.sum())}/{len(g)} | "
            f"{int(g.gate_changed.sum())} | "
            f"{'' if worst is None else f'{worst.worst_feature} ({worst.worst_feature_change:.2f})'} | "
            f"{g.embedding_change.max():.2f} | "
            f"{'' if bound is None else f'≤ {bound:.2f}'} | {ok} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
