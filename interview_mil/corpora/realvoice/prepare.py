"""The real-voice corpus → interview manifest, through the DAIC-WOZ loader (same layout): the test split's
labels filled in from ``ground_truth/labels.csv`` and each interview's participant set to its LibriSpeech
speaker (``ls<id>``), so every split and cross-validation fold keeps a voice's interviews together."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...fileio import read_table
from ..common import finish_manifest
from ..daic_woz import daic_interviews


def prepare_realvoice(corpus_dir: str | Path, output_dir: str | Path) -> Path:
    """Write ``output_dir/interviews.jsonl`` for a corpus made by ``generate_realvoice_corpus``."""
    corpus = Path(corpus_dir)
    truth = read_table(
        corpus / "ground_truth" / "labels.csv", required=["Participant_ID", "PHQ8_Binary", "PHQ8_Score", "speaker_id"]
    )
    known = {str(r.Participant_ID): r for r in truth.itertuples(index=False)}
    interviews, problems = daic_interviews(corpus, corpus_name="realvoice")
    filled = []
    for interview in interviews:
        row = known.get(interview.interview_id)
        if row is not None:
            changes = {
                "participant_id": f"ls{row.speaker_id}",
                "meta": {**interview.meta, "speaker_id": str(row.speaker_id)},
            }
            if interview.label is None:
                changes.update(label=int(row.PHQ8_Binary), phq8_score=float(row.PHQ8_Score))
            interview = dataclasses.replace(interview, **changes)
        filled.append(interview)
    return finish_manifest(filled, problems, output_dir, "realvoice")
