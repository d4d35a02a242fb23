"""Segmentation accuracy: the acceptance figures of the segmentation stage, printed.

    python benchmarks/segmentation_accuracy.py [--synth DIR] [--generate N] [--seed S]
                                               [--conversation ../shared/data/conversation] [--json OUT]

Synthetic corpus (``interview-mil synth`` layout, ground truth in ``DIR/ground_truth``; generated into
DIR with ``--generate N`` when DIR does not exist):
  * VAD-only participant turns vs ``turns.csv``: turns matched one-to-one by overlap; median absolute
    boundary error (starts and ends pooled), missed/extra turns, response latency error, frame agreement;
    the same with bleed removal off and at other margins (how much interviewer speech leaks into turns);
  * DAIC-WOZ transcript turns: identical to ground truth after merging (no VAD refinement), and what VAD
    refinement changes (boundary shift, pause counts vs the inserted pauses).
Real conversation (``sample.wav``, ``sample.stm``, ``sample.rttm``):
  * STM and RTTM turns per speaker against the files' own segments; STM vs RTTM for the same person;
  * VAD speech regions vs the union of the reference turns, frame by frame (10 ms), per aggressiveness.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from interview_mil.data import Interview, audio_info, load_audio
from interview_mil.segmentation import (
    BleedConfig,
    RefineConfig,
    SegmentationConfig,
    TranscriptConfig,
    TurnConfig,
    VadConfig,
    detect_speech,
    segment_interview,
)
from interview_mil.segmentation.regions import frame_agreement, regions_to_mask
from interview_mil.segmentation.speakers import read_rttm, read_stm
from interview_mil.segmentation.vad import speech_mask

WHOLE = TurnConfig(max_length=None)


def match(pred: list[tuple[float, float]], truth: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """One-to-one (pred index, truth index) pairs, greedily by largest overlap."""
    pairs = sorted(
        (
            (min(b, d) - max(a, c), i, j)
            for i, (a, b) in enumerate(pred)
            for j, (c, d) in enumerate(truth)
            if min(b, d) > max(a, c)
        ),
        reverse=True,
    )
    used_p, used_t, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_p and j not in used_t:
            used_p.add(i), used_t.add(j), out.append((i, j))
    return out


def _merge_pieces(turns):
    """Turns with pieces re-joined into their parent: [(start, end, latency)]."""
    out: dict[str, list] = {}
    for t in turns:
        key = t.parent_turn_id or t.turn_id
        if key in out:
            out[key][1] = t.end
        else:
            out[key] = [t.start, t.end, t.response_latency]
    return [tuple(v) for v in out.values()]


def vad_only(root: Path, ids: list[int], gt: pd.DataFrame, seg: pd.DataFrame, config: SegmentationConfig) -> dict:
    errors, starts, ends, latency, agree = [], [], [], [], []
    n_truth = n_pred = n_match = 0
    leak = interviewer_time = 0.0
    seconds = 0.0
    t0 = time.perf_counter()
    for pid in ids:
        audio = root / f"{pid}_P" / f"{pid}_AUDIO.wav"
        seconds += audio_info(audio).duration
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            turns = _merge_pieces(segment_interview(Interview(str(pid), str(audio)), config, source="vad").turns)
        g = gt[gt.Participant_ID == pid]
        truth = list(zip(g.start_time, g.stop_time))
        pairs = match([(a, b) for a, b, _ in turns], truth)
        n_truth, n_pred, n_match = n_truth + len(truth), n_pred + len(turns), n_match + len(pairs)
        for i, j in pairs:
            starts.append(abs(turns[i][0] - truth[j][0]))
            ends.append(abs(turns[i][1] - truth[j][1]))
            if turns[i][2] is not None:
                latency.append(turns[i][2] - g.response_latency.iloc[j])
        size = int(audio_info(audio).duration * 100) + 1
        mask = regions_to_mask([(a, b) for a, b, _ in turns], size)
        agree.append(frame_agreement(mask, regions_to_mask(truth, size)))
        ellie = seg[(seg.Participant_ID == pid) & (seg.speaker == "Ellie")]
        e_mask = regions_to_mask(zip(ellie.start_time, ellie.stop_time), size)
        leak += float((mask & e_mask).sum()) / 100
        interviewer_time += float(e_mask.sum()) / 100
    errors = starts + ends
    return {
        "truth_turns": n_truth,
        "predicted_turns": n_pred,
        "matched": n_match,
        "missed": n_truth - n_match,
        "extra": n_pred - n_match,
        "median_abs_boundary_error_ms": round(1000 * float(np.median(errors)), 1) if errors else None,
        "median_abs_start_error_ms": round(1000 * float(np.median(starts)), 1) if starts else None,
        "median_abs_end_error_ms": round(1000 * float(np.median(ends)), 1) if ends else None,
        "p90_abs_boundary_error_ms": round(1000 * float(np.percentile(errors, 90)), 1) if errors else None,
        "boundaries_within_50ms": round(float(np.mean(np.array(errors) <= 0.05)), 3) if errors else None,
        "median_latency_error_ms": round(1000 * float(np.median(latency)), 1) if latency else None,
        "turn_frame_agreement": round(float(np.mean(agree)), 4),
        "interviewer_speech_inside_turns": round(leak / max(interviewer_time, 1e-9), 4),
        "seconds_per_audio_minute": round(60 * (time.perf_counter() - t0) / seconds, 2),
    }


def transcript_turns(root: Path, ids: list[int], gt: pd.DataFrame) -> dict:
    raw_cfg = SegmentationConfig(refine=RefineConfig(enabled=False), turns=WHOLE)
    identical = total = same_latency = 0
    shifts, pauses_equal, pause_err = [], [], []
    for pid in ids:
        iv = Interview(
            str(pid),
            str(root / f"{pid}_P" / f"{pid}_AUDIO.wav"),
            transcript_path=str(root / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv"),
        )
        raw = segment_interview(iv, raw_cfg).turns
        refined = segment_interview(iv, SegmentationConfig(turns=WHOLE)).turns
        g = gt[gt.Participant_ID == pid].reset_index(drop=True)
        total += len(g)
        if len(raw) != len(g):
            continue
        for t, r, f in zip(raw, g.itertuples(), refined):
            identical += abs(t.start - r.start_time) < 5e-4 and abs(t.end - r.stop_time) < 5e-4 and t.text == r.text
            same_latency += t.response_latency is not None and abs(t.response_latency - r.response_latency) < 2e-3
            shifts += [abs(f.start - t.start), abs(f.end - t.end)]
            if f.n_pauses is not None:
                pauses_equal.append(f.n_pauses == r.n_pauses)
                pause_err.append(abs(f.pause_time - r.pause_time))
    return {
        "truth_turns": total,
        "identical_after_merging": identical,
        "latency_identical": same_latency,
        "refined_median_boundary_shift_ms": round(1000 * float(np.median(shifts)), 1),
        "refined_max_boundary_shift_ms": round(1000 * float(np.max(shifts)), 1),
        "refined_n_pauses_equal_to_inserted": round(float(np.mean(pauses_equal)), 3),
        "refined_median_pause_time_error_ms": round(1000 * float(np.median(pause_err)), 1),
    }


def synthetic(root: Path) -> dict:
    gt = pd.read_csv(root / "ground_truth" / "turns.csv")
    seg = pd.read_csv(root / "ground_truth" / "segments.csv")
    ids = sorted(int(i) for i in gt.Participant_ID.unique())
    out = {
        "interviews": len(ids),
        "vad_only": vad_only(root, ids, gt, seg, SegmentationConfig()),
        "vad_only_no_bleed_removal": vad_only(root, ids, gt, seg, SegmentationConfig(bleed=BleedConfig(enabled=False))),
        "transcript": transcript_turns(root, ids, gt),
    }
    for margin in (6.0, 18.0):
        out[f"vad_only_margin_{margin:g}dB"] = vad_only(
            root, ids, gt, seg, SegmentationConfig(bleed=BleedConfig(margin_db=margin))
        )
    return out


def _spans(turns):
    return [(round(t.start, 3), round(t.end, 3)) for t in turns]


def conversation(folder: Path) -> dict:
    wav, stm, rttm = folder / "sample.wav", folder / "sample.stm", folder / "sample.rttm"
    stm_rec, rttm_rec = read_stm(stm), read_rttm(rttm)
    every_line = SegmentationConfig(
        refine=RefineConfig(enabled=False), turns=WHOLE, transcript=TranscriptConfig(merge_gap=0.0)
    )
    merged = SegmentationConfig(refine=RefineConfig(enabled=False), turns=WHOLE)
    out: dict = {}
    masks = {}
    for kind, path, records, speakers in [
        ("stm", stm, stm_rec, ("Diane", "Sheila")),
        ("rttm", rttm, rttm_rec, ("speaker90", "speaker91")),
    ]:
        for spk in speakers:
            iv = Interview(
                "sample",
                str(wav),
                participant_speaker=spk,
                **({"transcript_path": str(path)} if kind == "stm" else {"rttm_path": str(path)}),
            )
            lines = sorted((round(r[1], 3), round(r[2], 3)) for r in records if r[0] == spk)
            per_line = _spans(segment_interview(iv, every_line).turns)
            turns = segment_interview(iv, merged).turns
            refined = segment_interview(iv).turns
            covered = all(any(t.start <= a + 1e-3 and b <= t.end + 1e-3 for t in turns) for a, b in lines)
            kept = sum(t.duration for t in refined) / sum(t.duration for t in turns)
            out[f"{kind}:{spk}"] = {
                "lines": len(lines),
                "turns_without_merging_equal_lines": per_line == lines,
                "turns_after_merging": len(turns),
                "every_line_inside_one_turn": covered,
                "refined_fraction_of_turn_time_kept": round(kept, 3),
            }
            masks[spk] = regions_to_mask([(t.start, t.end) for t in turns], 3001)
    out["stm_vs_rttm_frame_agreement"] = {
        "Sheila~speaker91": round(frame_agreement(masks["Sheila"], masks["speaker91"]), 4),
        "Diane~speaker90": round(frame_agreement(masks["Diane"], masks["speaker90"]), 4),
    }
    signal = load_audio(wav)
    vad = {}
    for aggressiveness in (0, 1, 2, 3):
        cfg = VadConfig(aggressiveness=aggressiveness)
        activity = detect_speech(signal, 16_000, cfg)
        found = speech_mask(activity)
        ref_rttm = regions_to_mask([(a, b) for _, a, b, _ in rttm_rec], activity.n_cells)
        ref_stm = regions_to_mask([(a, b) for _, a, b, _, _ in stm_rec], activity.n_cells)
        vad[f"aggressiveness_{aggressiveness}"] = {
            "agreement_with_rttm_union": round(frame_agreement(found, ref_rttm), 4),
            "agreement_with_stm_union": round(frame_agreement(found, ref_stm), 4),
            "missed_speech": round(float((ref_rttm & ~found).sum() / ref_rttm.sum()), 4),
            "false_alarm": round(float((found & ~ref_rttm).sum() / max((~ref_rttm).sum(), 1)), 4),
        }
    out["vad_frame_agreement"] = vad
    out["vad_default_aggressiveness"] = VadConfig().aggressiveness
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synth", default="/tmp/seg_synth", help="synthetic corpus folder")
    parser.add_argument("--generate", type=int, default=6, help="interviews to generate when --synth is absent")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--conversation", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "conversation")
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    print(f"load average: {os.getloadavg()[0]:.2f} (timings are shared-machine wall clock)")
    results: dict = {}
    root = Path(args.synth)
    if not (root / "ground_truth" / "turns.csv").exists():
        try:
            from interview_mil.corpora.synthetic import SynthConfig, generate_corpus
        except ImportError:
            print("synthetic corpus generator not available: synthetic figures pending")
            root = None
        else:
            generate_corpus(root, SynthConfig(n_interviews=args.generate, seed=args.seed), progress=False)
    if root is not None:
        results["synthetic"] = synthetic(root)
    folder = Path(args.conversation)
    if (folder / "sample.wav").exists():
        results["conversation"] = conversation(folder)
    else:
        print(f"{folder} not found: real-conversation figures skipped")
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
