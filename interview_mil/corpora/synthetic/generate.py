"""``generate_corpus``: write a synthetic interview corpus in the exact DAIC-WOZ layout.

Layout (``DIR`` = output folder)::

    DIR/{id}_P/{id}_AUDIO.wav                 int16; 8, 16 or 44.1 kHz, mono or stereo (its recording
                                              conditions; 16 kHz mono with ``vary_recording=False``)
    DIR/{id}_P/{id}_TRANSCRIPT.csv            tab-separated: start_time stop_time speaker value
    DIR/{train,dev}_split_Depression_AVEC2017.csv
    DIR/test_split_Depression_AVEC2017.csv    participant_ID,Gender (labels withheld, as in AVEC 2017)
    DIR/ground_truth/labels.csv               every interview's split, label, PHQ-8 score, gender
    DIR/ground_truth/turns.csv                every participant response turn and whether it has markers
    DIR/ground_truth/segments.csv             every stretch of synthesised speech, both speakers
    DIR/ground_truth/corpus.json              settings, per-interview voice parameters, timings
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import pandas as pd

from ... import __version__
from ...config import to_dict
from ...data.audio import write_audio
from ...fileio import atomic_path, write_json, write_table
from .plan import InterviewPlan, SynthConfig, assign_splits, draw_labels, plan_interview
from .render import RenderedInterview, draw_recording, render_interview
from .script import CLOSING, OPENING
from .voices import SpeechBank

log = logging.getLogger(__name__)

PHQ8_ITEMS = (
    "PHQ8_NoInterest",
    "PHQ8_Depressed",
    "PHQ8_Sleep",
    "PHQ8_Tired",
    "PHQ8_Appetite",
    "PHQ8_Failure",
    "PHQ8_Concentrating",
    "PHQ8_Moving",
)
# The generator's version: raised whenever a change moves what a given config produces (voices, plans,
# markers, rendering). Written into ``ground_truth/corpus.json`` and read by the benchmarks into every figure,
# so figures from different generators are never compared as if they were one.
SYNTH_VERSION = 5
GENDER_CODE = {"F": 0, "M": 1}  # AVEC 2017 split files code gender as 0 = female, 1 = male


def _write_interview(out: Path, plan: InterviewPlan, rendered: RenderedInterview) -> None:
    folder = out / f"{plan.interview_id}_P"
    write_audio(folder / f"{plan.interview_id}_AUDIO.wav", rendered.audio, rendered.sample_rate)
    rows = [
        {"start_time": l.start, "stop_time": l.stop, "speaker": l.speaker, "value": l.value} for l in rendered.lines
    ]
    with atomic_path(folder / f"{plan.interview_id}_TRANSCRIPT.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, sep="\t", index=False, float_format="%.3f")


def _split_rows(plans: list[InterviewPlan], splits: list[str], which: str) -> pd.DataFrame:
    rows = []
    for plan, split in zip(plans, splits):
        if split != which:
            continue
        row = {
            "Participant_ID": int(plan.interview_id),
            "PHQ8_Binary": plan.label,
            "PHQ8_Score": plan.phq8_score,
            "Gender": GENDER_CODE[plan.participant.gender],
        }
        row.update(dict(zip(PHQ8_ITEMS, plan.phq8_items)))
        rows.append(row)
    columns = ["Participant_ID", "PHQ8_Binary", "PHQ8_Score", "Gender", *PHQ8_ITEMS]
    return pd.DataFrame(rows, columns=columns)


def generate_corpus(out_dir: str | Path, config: SynthConfig | None = None, progress: bool = True) -> dict:
    """Generate the corpus described by ``config`` into ``out_dir``; returns a summary dict.

    Deterministic for a given config (piper's noise generator is seeded; every random draw comes from
    ``config.seed``). Files are written atomically, interview by interview.
    """
    from tqdm.auto import tqdm

    cfg = config or SynthConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    labels = draw_labels(cfg)
    splits = assign_splits(labels, cfg)
    plans = [plan_interview(i, y, cfg) for i, y in enumerate(labels)]
    texts = {OPENING, CLOSING}
    for plan in plans:
        for answer in plan.answers:
            texts.add(answer.question)
            texts.update(answer.sentences)
    bank = SpeechBank(sorted(texts), seed=cfg.seed)
    with tqdm(total=len(texts), desc="synthesising speech", unit="text", disable=not progress) as bar:
        bank.prepare(progress=lambda n: bar.update(1))
    t_tts = time.perf_counter() - t0
    label_rows, turn_rows, seg_rows, voices = [], [], [], {}
    for plan, split in tqdm(
        list(zip(plans, splits)), desc="rendering interviews", unit="interview", disable=not progress
    ):
        recording = draw_recording(cfg.seed, int(plan.interview_id) - cfg.first_id) if cfg.vary_recording else None
        rendered = render_interview(plan, bank, cfg.noise_dbfs, recording, cfg.bleed_lowpass)
        _write_interview(out, plan, rendered)
        pid = int(plan.interview_id)
        label_rows.append(
            {
                "Participant_ID": pid,
                "split": split,
                "PHQ8_Binary": plan.label,
                "PHQ8_Score": plan.phq8_score,
                "Gender": plan.participant.gender,
                "duration_s": round(rendered.duration, 3),
                "marker_fraction": round(plan.marker_fraction, 4),
            }
        )
        for t in rendered.turns:
            turn_rows.append(
                {
                    "Participant_ID": pid,
                    **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in dataclasses.asdict(t).items()},
                }
            )
            turn_rows[-1]["start_time"] = turn_rows[-1].pop("start")
            turn_rows[-1]["stop_time"] = turn_rows[-1].pop("stop")
        seg_rows += [
            {
                "Participant_ID": pid,
                "speaker": s.speaker,
                "start_time": round(s.start, 3),
                "stop_time": round(s.stop, 3),
                "turn_index": s.turn_index,
            }
            for s in rendered.segments
        ]
        voices[plan.interview_id] = {
            "participant": to_dict(plan.participant),
            "interviewer": to_dict(plan.interviewer),
            "bleed_db": plan.bleed_db,
            "recording": None if recording is None else to_dict(recording),
        }
    for which in ("train", "dev"):
        write_table(_split_rows(plans, splits, which), out / f"{which}_split_Depression_AVEC2017.csv")
    test = _split_rows(plans, splits, "test")[["Participant_ID", "Gender"]]
    write_table(test.rename(columns={"Participant_ID": "participant_ID"}), out / "test_split_Depression_AVEC2017.csv")
    gt = out / "ground_truth"
    write_table(pd.DataFrame(label_rows), gt / "labels.csv")
    turn_cols = [
        "Participant_ID",
        "turn_index",
        "start_time",
        "stop_time",
        "marker",
        "response_latency",
        "n_pauses",
        "pause_time",
        "marker_strength",
        "text",
    ]
    write_table(pd.DataFrame(turn_rows)[turn_cols], gt / "turns.csv")
    write_table(pd.DataFrame(seg_rows), gt / "segments.csv")
    summary = {
        "interview_mil_version": __version__,
        "generator_version": SYNTH_VERSION,
        "config": to_dict(cfg),
        "n_interviews": len(plans),
        "n_depressed": int(sum(labels)),
        "splits": {s: splits.count(s) for s in ("train", "dev", "test")},
        "seconds_of_audio": round(sum(r["duration_s"] for r in label_rows), 1),
        "n_texts_synthesised": len(texts),
        "seconds_synthesised": round(bank.seconds_synthesised, 1),
        "tts_seconds": round(t_tts, 1),
        "total_seconds": round(time.perf_counter() - t0, 1),
        "voices": voices,
    }
    write_json(gt / "corpus.json", summary)
    log.info(
        "wrote %d interviews (%.0f s of audio) to %s in %.0f s",
        len(plans),
        summary["seconds_of_audio"],
        out,
        summary["total_seconds"],
    )
    return summary
