"""The synthetic corpus → interview manifest, through the DAIC-WOZ loader (same layout), with the
test split's labels filled in from ``ground_truth/labels.csv``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ...fileio import read_table
from ..common import finish_manifest
from ..daic_woz import daic_interviews


def prepare_synthetic(corpus_dir: str | Path, output_dir: str | Path) -> Path:
    """Write ``output_dir/interviews.jsonl`` for a corpus made by ``generate_corpus``."""
    corpus = Path(corpus_dir)
    truth = read_table(corpus / "ground_truth" / "labels.csv", required=["Participant_ID", "PHQ8_Binary", "PHQ8_Score"])
    known = {str(r.Participant_ID): r for r in truth.itertuples(index=False)}
    interviews, problems = daic_interviews(corpus, corpus_name="synthetic")
    filled = []
    for interview in interviews:
        row = known.get(interview.interview_id)
        if interview.label is None and row is not None:
            interview = dataclasses.replace(interview, label=int(row.PHQ8_Binary), phq8_score=float(row.PHQ8_Score))
        filled.append(interview)
    return finish_manifest(filled, problems, output_dir, "synthetic")
