"""Prosody acceptance figures, measured in one run.

1. Pitch accuracy on voiced test signals with known gliding F0 contours over 75–400 Hz: median absolute
   error (%) per contour for our tracker (Praat autocorrelation at 4 kHz, as ``extract_prosody`` runs it)
   vs librosa ``yin`` (and ``pyin`` on a subset: it is slow), with each tracker's speed (x real time per
   core, CPU time of this process).
2. Synthetic corpus: turns from the transcript (``prepare_synthetic`` + ``segment_interview``), prosody
   per turn, per-feature AUC of marker (positive class) vs neutral turns, pooled and within speaker
   (each value minus its interview's median over all turns, labels unused). AUC < 0.5: markers lower.
3. Prosody real-time factor per core over the corpus turns (CPU time of the best of ``--repeats`` passes;
   run under ``taskset -c 0``; on a shared machine contention inflates CPU time too).

    taskset -c 0 python benchmarks/prosody_accuracy.py --corpus /tmp/f1_synth
    (the corpus: interview-mil synth --out /tmp/f1_synth --n-interviews 12 --seed 1; made if missing)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from interview_mil.features.prosody import ProsodyConfig, extract_prosody  # noqa: E402
from interview_mil.features.prosody.pitch import track_pitch  # noqa: E402
from interview_mil.features.prosody.synthetic import gliding_f0, voiced_signal  # noqa: E402

SR = 16_000
SECONDS = 2.0
CONTOURS = [
    (75, 90),
    (90, 75),
    (85, 110),
    (110, 140),
    (140, 120),
    (130, 180),
    (180, 230),
    (230, 190),
    (220, 280),
    (280, 340),
    (340, 290),
    (330, 400),
    (400, 350),
    (120, 240),
    (300, 150),
]
PYIN_SUBSET = {(75, 90), (140, 120), (220, 280), (330, 400)}
EXPECTED = {  # feature -> direction of marker turns described by the corpus generator
    "f0_range_st": "lower",
    "f0_sd_st": "lower",
    "intensity_sd_db": "lower",
    "intensity_range_db": "lower",
    "intensity_delta_sd_db": "lower",
    "intensity_mean_db": "lower",
    "speech_rate_syl_per_s": "lower",
    "articulation_rate_syl_per_s": "lower",
    "pause_ratio": "higher",
    "response_latency_s": "higher",
}


def _errors(est_hz: np.ndarray, times: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """(median abs % error over frames the tracker calls voiced, % frames voiced, % gross errors > 20 %)."""
    ref = truth[np.clip(np.rint(times * SR).astype(int), 0, len(truth) - 1)]
    inside = (times >= 0.05) & (times <= len(truth) / SR - 0.05)  # skip the onsets, as every tracker pads
    est, ref = est_hz[inside], ref[inside]
    voiced = np.isfinite(est) & (est > 0)
    err = np.abs(est[voiced] - ref[voiced]) / ref[voiced]
    if not len(err):
        return float("nan"), 0.0, float("nan")
    return 100 * float(np.median(err)), 100 * float(voiced.mean()), 100 * float(np.mean(err > 0.2))


def pitch_table(config: ProsodyConfig) -> pd.DataFrame:
    import librosa

    rows, seconds, cpu = [], {"ours": 0.0, "yin": 0.0, "pyin": 0.0}, {"ours": 0.0, "yin": 0.0, "pyin": 0.0}
    hop = int(config.time_step * SR)
    for f_start, f_end in CONTOURS:
        truth = gliding_f0(f_start, f_end, SECONDS, SR, vibrato_st=0.5)
        x = voiced_signal(truth, SR, seed=f_start + f_end)
        row = {"contour_hz": f"{f_start}->{f_end}"}
        t = time.process_time()
        track = track_pitch(x.astype(np.float64), SR, config)
        cpu["ours"] += time.process_time() - t
        seconds["ours"] += SECONDS
        row["ours_err_%"], row["ours_voiced_%"], row["ours_gross_%"] = _errors(track.f0, track.times, truth)
        t = time.process_time()
        f0 = librosa.yin(x, fmin=config.f0_min, fmax=config.f0_max, sr=SR, frame_length=1024, hop_length=hop)
        cpu["yin"] += time.process_time() - t
        seconds["yin"] += SECONDS
        row["yin_err_%"], _, row["yin_gross_%"] = _errors(f0, np.arange(len(f0)) * hop / SR, truth)
        if (f_start, f_end) in PYIN_SUBSET:
            t = time.process_time()
            f0, _, _ = librosa.pyin(x, fmin=config.f0_min, fmax=config.f0_max, sr=SR, frame_length=1024, hop_length=hop)
            cpu["pyin"] += time.process_time() - t
            seconds["pyin"] += SECONDS
            row["pyin_err_%"], row["pyin_voiced_%"], _ = _errors(f0, np.arange(len(f0)) * hop / SR, truth)
        rows.append(row)
    table = pd.DataFrame(rows)
    speed = {k: seconds[k] / cpu[k] for k in cpu if cpu[k] > 0}
    return table, speed


def corpus_features(
    corpus: Path, work: Path, config: ProsodyConfig, repeats: int = 3
) -> tuple[pd.DataFrame, float, list[float]]:
    """Prosody of every segmented turn with its ground-truth marker; (table, turn seconds, CPU seconds of
    each of ``repeats`` passes over all interviews: the least loaded pass is the fairest figure)."""
    from interview_mil.corpora import prepare_synthetic
    from interview_mil.data.audio import load_audio
    from interview_mil.data.manifest import read_manifest
    from interview_mil.segmentation import segment_interview

    interviews = read_manifest(prepare_synthetic(corpus, work))
    truth = pd.read_csv(corpus / "ground_truth" / "turns.csv")
    jobs = []
    for interview in interviews:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            jobs.append((interview, segment_interview(interview).turns, load_audio(interview.audio_path)))
    cpu = []
    for _ in range(max(repeats, 1)):
        t = time.process_time()
        tables = [extract_prosody(audio, SR, turns, config) for _, turns, audio in jobs]
        cpu.append(time.process_time() - t)
    for (interview, turns, _), df in zip(jobs, tables):
        gt = truth[truth.Participant_ID == int(interview.interview_id)]
        overlap = [np.minimum(gt.stop_time, t.end) - np.maximum(gt.start_time, t.start) for t in turns]
        df["marker"] = [int(gt.marker.iloc[int(np.argmax(o))]) if np.max(o) > 0 else -1 for o in overlap]
        df["interview_id"] = interview.interview_id
    speech_s = sum(turn.duration for _, turns, _ in jobs for turn in turns)
    return pd.concat(tables, ignore_index=True), speech_s, cpu


def auc_table(df: pd.DataFrame) -> pd.DataFrame:
    from sklearn.metrics import roc_auc_score

    df = df[(df.marker >= 0) & ~df.flag_too_short & ~df.flag_unvoiced]
    rows = []
    for name, direction in EXPECTED.items():
        values = df[name]
        centred = values - df.groupby("interview_id")[name].transform("median")
        ok = values.notna()
        auc = roc_auc_score(df.marker[ok], values[ok])
        auc_within = roc_auc_score(df.marker[ok], centred[ok])
        met = (auc < 0.5) if direction == "lower" else (auc > 0.5)
        rows.append(
            {
                "feature": name,
                "expected": f"markers {direction}",
                "AUC": round(auc, 3),
                "AUC_within_speaker": round(auc_within, 3),
                "marker_median": round(float(values[df.marker == 1].median()), 3),
                "neutral_median": round(float(values[df.marker == 0].median()), 3),
                "direction_met": bool(met),
            }
        )
    return pd.DataFrame(rows)


def _text_syllables(text: str) -> int:
    """Rough syllable count of English text: groups of vowel letters per word, a silent final e dropped."""
    count = 0
    for word in re.findall(r"[a-z']+", str(text).lower()):
        groups = re.findall(r"[aeiouy]+", word)
        n = len(groups) - (1 if word.endswith("e") and len(groups) > 1 and not word.endswith("le") else 0)
        count += max(n, 1)
    return count


def truth_check(corpus: Path, config: ProsodyConfig) -> dict[str, float]:
    """Pauses and syllables on the ground-truth answers (true onsets/offsets, inserted gaps known)."""
    from interview_mil.data.audio import load_audio
    from interview_mil.data.records import Turn

    truth = pd.read_csv(corpus / "ground_truth" / "turns.csv")
    rows = []
    for pid, gt in truth.groupby("Participant_ID"):
        audio = load_audio(corpus / f"{pid}_P" / f"{pid}_AUDIO.wav")
        turns = [
            Turn(str(pid), f"{pid}_{r.turn_index}", i, r.start_time, r.stop_time - r.start_time)
            for i, r in enumerate(gt.itertuples())
        ]
        df = extract_prosody(audio, SR, turns, config)
        df["true_pauses"], df["true_pause_s"] = gt.n_pauses.to_numpy(), gt.pause_time.to_numpy()
        df["text_syllables"] = [_text_syllables(t) for t in gt.text]
        rows.append(df)
    df = pd.concat(rows, ignore_index=True)
    nuclei = df.speech_rate_syl_per_s * df.duration_s
    return {
        "turns": len(df),
        "pause_count_exact_%": 100 * float((df.n_pauses == df.true_pauses).mean()),
        "pause_count_mae": float((df.n_pauses - df.true_pauses).abs().mean()),
        "pause_total_mae_s": float((df.pause_total_s - df.true_pause_s).abs().mean()),
        "pause_total_r": float(np.corrcoef(df.pause_total_s, df.true_pause_s)[0, 1]),
        "nuclei_vs_text_syllables_r": float(np.corrcoef(nuclei, df.text_syllables)[0, 1]),
        "nuclei_over_text_syllables": float(nuclei.sum() / df.text_syllables.sum()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/f1_synth"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/f1_prosody_bench"))
    parser.add_argument("--skip-pitch", action="store_true")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the corpus (best is reported)")
    args = parser.parse_args()
    config = ProsodyConfig()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(f"load average at start: {os.getloadavg()}; CPU affinity: {sorted(os.sched_getaffinity(0))}")

    if not args.skip_pitch:
        table, speed = pitch_table(config)
        print("\n== 1. pitch accuracy on known gliding contours (2 s, ±0.5 st vibrato, SNR 35 dB) ==")
        print(table.round(3).to_string(index=False))
        ours = table["ours_err_%"].median()
        print(
            f"median over contours of median abs error: ours {ours:.3f} %, yin "
            f"{table['yin_err_%'].median():.3f} %, pyin {table['pyin_err_%'].median():.3f} % "
            f"(pyin on {len(PYIN_SUBSET)} contours); worst contour ours {table['ours_err_%'].max():.3f} %"
        )
        print("speed (x real time per core, CPU time): " + ", ".join(f"{k} {v:.0f}x" for k, v in speed.items()))
        print(f"pitch_accuracy_ok: {bool(table['ours_err_%'].max() < 2.0)}")

    if not (args.corpus / "ground_truth" / "turns.csv").exists():
        from interview_mil.corpora.synthetic import SynthConfig, generate_corpus

        print(f"\ngenerating the synthetic corpus in {args.corpus} (12 interviews, seed 1)")
        generate_corpus(args.corpus, SynthConfig(n_interviews=12, seed=1), progress=False)
    df, speech_s, cpu = corpus_features(args.corpus, args.work, config, args.repeats)
    print(f"\n== 2. marker vs neutral turns on {args.corpus} ==")
    valid = df[df.marker >= 0]
    print(
        f"{len(df)} turns from {df.interview_id.nunique()} interviews: {int((valid.marker == 1).sum())} marker, "
        f"{int((valid.marker == 0).sum())} neutral; flagged too short {int(df.flag_too_short.sum())}, "
        f"unvoiced {int(df.flag_unvoiced.sum())}"
    )
    print("AUC with marker turns as the positive class (< 0.5: markers lower, > 0.5: markers higher)")
    print(auc_table(df).to_string(index=False))

    print("\nagainst the ground truth (answers at their true bounds; gaps < min_pause are not pauses):")
    print(
        "  "
        + ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in truth_check(args.corpus, config).items()
        )
    )

    print("\n== 3. speed ==")
    print(
        f"{speech_s:.1f} s of turns; prosody CPU seconds per pass: {', '.join(f'{c:.2f}' for c in cpu)} "
        f"(x real time per core: {', '.join(f'{speech_s / c:.0f}' for c in cpu)}); "
        f"load average now {os.getloadavg()[0]:.2f}"
    )
    print(f"prosody_realtime_per_core: {speech_s / min(cpu):.1f}")


if __name__ == "__main__":
    main()
