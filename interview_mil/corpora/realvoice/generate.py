"""``generate_realvoice_corpus``: interviews of real LibriSpeech voices, in the exact DAIC-WOZ layout the
synthetic corpus uses, with depression-like markers planted by signal processing.

Layout (``DIR`` = output folder)::

    DIR/{id}_P/{id}_AUDIO.wav                 16 kHz mono int16
    DIR/{id}_P/{id}_TRANSCRIPT.csv            tab-separated: start_time stop_time speaker value
                                              (speakers Ellie / Participant; value = the phrase id)
    DIR/{train,dev}_split_Depression_AVEC2017.csv
    DIR/test_split_Depression_AVEC2017.csv    participant_ID,Gender (labels withheld, as in AVEC 2017)
    DIR/ground_truth/labels.csv               every interview: split, label, PHQ-8, speaker, strength, ...
    DIR/ground_truth/turns.csv                every answer: times, marker, strengths, source phrase, ...
    DIR/ground_truth/corpus.json              config, generator version, per-interview speakers, ceiling
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ... import __version__
from ...config import to_dict
from ...data.audio import write_audio
from ...errors import ConfigError
from ...fileio import atomic_path, write_json, write_table
from ..synthetic.generate import GENDER_CODE, PHQ8_ITEMS
from .phrases import PhraseRules, all_speakers, check_speech_dir, phrases_by_speaker
from .plan import InterviewPlan, RealVoiceConfig, plan_corpus, speaker_set
from .render import RenderedInterview, estimate_gender, render_interview, speaker_gain_db

log = logging.getLogger(__name__)

REALVOICE_VERSION = 1
"""Bumped whenever the same config would give different audio, labels or markers."""

TURN_COLUMNS = (
    "Participant_ID",
    "turn_index",
    "start_time",
    "stop_time",
    "marker",
    "marker_strength",
    "applied_strength",
    "planted",
    "response_latency",
    "n_pauses",
    "pause_time",
    "speaker_id",
    "phrase_id",
    "question_id",
)


def planted_ceiling_auc(plans: Sequence[InterviewPlan]) -> float | None:
    """AUC of an oracle that scores each interview by its strongest planted answer: the best any model
    can reach from the planted evidence alone (ties count half; None without both classes)."""
    y = np.array([p.label for p in plans])
    score = np.array([max((a.strength for a in p.answers), default=0.0) for p in plans])
    pos, neg = score[y == 1], score[y == 0]
    if not len(pos) or not len(neg):
        return None
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(wins / (len(pos) * len(neg)))


def _write_interview(out: Path, plan: InterviewPlan, rendered: RenderedInterview) -> None:
    folder = out / f"{plan.interview_id}_P"
    write_audio(folder / f"{plan.interview_id}_AUDIO.wav", rendered.audio)
    rows = [
        {"start_time": l.start, "stop_time": l.stop, "speaker": l.speaker, "value": l.value} for l in rendered.lines
    ]
    with atomic_path(folder / f"{plan.interview_id}_TRANSCRIPT.csv") as tmp:
        pd.DataFrame(rows).to_csv(tmp, sep="\t", index=False, float_format="%.3f")


def _split_rows(plans: list[InterviewPlan], genders: dict[str, str], which: str) -> pd.DataFrame:
    rows = [
        {
            "Participant_ID": int(p.interview_id),
            "PHQ8_Binary": p.label,
            "PHQ8_Score": p.phq8_score,
            "Gender": GENDER_CODE[genders[p.speaker]],
            **dict(zip(PHQ8_ITEMS, p.phq8_items)),
        }
        for p in plans
        if p.split == which
    ]
    return pd.DataFrame(rows, columns=["Participant_ID", "PHQ8_Binary", "PHQ8_Score", "Gender", *PHQ8_ITEMS])


def _turn_rows(plan: InterviewPlan, rendered: RenderedInterview) -> list[dict]:
    rows = []
    for t in rendered.turns:
        row = {k: round(v, 4) if isinstance(v, float) else v for k, v in dataclasses.asdict(t).items()}
        row.update(Participant_ID=int(plan.interview_id), speaker_id=plan.speaker)
        row["start_time"], row["stop_time"] = round(row.pop("start"), 3), round(row.pop("stop"), 3)
        rows.append(row)
    return rows


def generate_realvoice_corpus(
    out_dir: str | Path, config: RealVoiceConfig | None = None, progress: bool = True
) -> dict:
    """Generate the corpus described by ``config`` into ``out_dir``; returns the summary written to
    ``ground_truth/corpus.json``.

    Deterministic for a given config and source folder: the same seed gives byte-identical audio,
    transcripts and tables. Files are written atomically, interview by interview. Raises ``ConfigError``
    when ``config.speech_dir`` holds no LibriSpeech speech or no speaker has ``answers[0]`` phrases.
    """
    from tqdm.auto import tqdm

    cfg = config or RealVoiceConfig()
    t0 = time.perf_counter()
    root = check_speech_dir(cfg.speech_dir)
    rules = PhraseRules()
    ids = all_speakers(root)
    phrases = phrases_by_speaker(root, rules, speakers=speaker_set(ids, cfg.speakers))
    plans = plan_corpus({s: [p.phrase_id for p in v] for s, v in phrases.items()}, ids, cfg)
    if not plans:
        raise ConfigError(
            f"no speaker ({cfg.speakers}) has the {cfg.answers[0]} phrases an interview needs",
            path=root,
            fix="lower corpus.synth.answers[0] or use speakers: all",
        )
    by_id = {p.phrase_id: p for found in phrases.values() for p in found}
    gains = {s: speaker_gain_db(found, cfg.speech_dbfs) for s, found in phrases.items()}
    genders = {s: estimate_gender(phrases[s]) for s in sorted({p.speaker for p in plans}, key=int)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    label_rows, turn_rows, interviews = [], [], {}
    for plan in tqdm(plans, desc="rendering interviews", unit="interview", disable=not progress):
        rendered = render_interview(plan, by_id, gains, cfg)
        _write_interview(out, plan, rendered)
        turn_rows += _turn_rows(plan, rendered)
        label_rows.append(
            {
                "Participant_ID": int(plan.interview_id),
                "split": plan.split,
                "PHQ8_Binary": plan.label,
                "PHQ8_Score": plan.phq8_score,
                "Gender": genders[plan.speaker],
                "speaker_id": plan.speaker,
                "interviewer_id": plan.interviewer,
                "participant_strength": plan.participant_strength,
                "n_answers": len(plan.answers),
                "n_marker_answers": sum(a.marker for a in plan.answers),
                "marker_fraction": round(plan.marker_fraction, 4),
                "duration_s": round(rendered.duration, 3),
                "generator_version": REALVOICE_VERSION,
            }
        )
        interviews[plan.interview_id] = {
            "speaker": plan.speaker,
            "interviewer": plan.interviewer,
            "gender_estimate": genders[plan.speaker],
            "speaker_gain_db": round(gains[plan.speaker], 2),
            "bleed_db": plan.bleed_db,
        }
    for which in ("train", "dev"):
        write_table(_split_rows(plans, genders, which), out / f"{which}_split_Depression_AVEC2017.csv")
    test = _split_rows(plans, genders, "test")[["Participant_ID", "Gender"]]
    write_table(test.rename(columns={"Participant_ID": "participant_ID"}), out / "test_split_Depression_AVEC2017.csv")
    gt = out / "ground_truth"
    write_table(pd.DataFrame(label_rows), gt / "labels.csv")
    write_table(pd.DataFrame(turn_rows, columns=list(TURN_COLUMNS)), gt / "turns.csv")
    ceiling = planted_ceiling_auc(plans)
    summary = {
        "generator": "realvoice",
        "generator_version": REALVOICE_VERSION,
        "interview_mil_version": __version__,
        "config": to_dict(cfg),
        "phrase_rules": to_dict(rules),
        "n_interviews": len(plans),
        "n_participants": len(genders),
        "n_depressed": sum(p.label for p in plans),
        "splits": {s: sum(p.split == s for p in plans) for s in ("train", "dev", "test")},
        "seconds_of_audio": round(sum(r["duration_s"] for r in label_rows), 1),
        "planted_ceiling_auc": None if ceiling is None else round(ceiling, 4),
        "phrases_per_speaker": {s: len(found) for s, found in phrases.items()},
        "total_seconds": round(time.perf_counter() - t0, 1),
        "interviews": interviews,
    }
    write_json(gt / "corpus.json", summary)
    log.info(
        "wrote %d real-voice interviews (%.0f s of audio, planted ceiling AUC %s) to %s in %.0f s",
        len(plans),
        summary["seconds_of_audio"],
        summary["planted_ceiling_auc"],
        out,
        summary["total_seconds"],
    )
    return summary
