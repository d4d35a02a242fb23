"""E-DAIC (Extended DAIC, AVEC 2019) → interview manifest.

Expected layout::

    CORPUS/labels/train_split.csv   Participant_ID,Gender,PHQ_Binary,PHQ_Score,...   (also dev, test)
    CORPUS/{id}_P/{id}_P/{id}_AUDIO.wav      (nested, as unpacked from the archives) or
    CORPUS/{id}_P/{id}_AUDIO.wav             (flat)
    ... {id}_Transcript.csv beside the audio: Start_Time,End_Time,Text,Confidence (ASR, no speaker)

E-DAIC transcripts carry no speaker column, so interviewer speech cannot be removed from the turns
without a speaker source (an RTTM); the segmentation stage says so when it runs on them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data.records import Interview
from ..errors import ManifestError
from ..fileio import read_table
from .common import finish_manifest, first_existing, with_duration

LABEL_FILES = {"train": "train_split.csv", "dev": "dev_split.csv", "test": "test_split.csv"}
_GENDER = {"male": "M", "female": "F", "m": "M", "f": "F", "1": "M", "0": "F"}


def _gender(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return _GENDER.get(str(value).strip().lower())


def edaic_paths(corpus: Path, pid: str) -> tuple[Path | None, Path | None]:
    """(audio, transcript) for ``pid``, nested ``{id}_P/{id}_P/`` or flat ``{id}_P/``."""
    folders = [corpus / f"{pid}_P" / f"{pid}_P", corpus / f"{pid}_P", corpus]
    audio = first_existing([f / f"{pid}_AUDIO.wav" for f in folders])
    transcript = first_existing(
        [f / name for f in folders for name in (f"{pid}_Transcript.csv", f"{pid}_TRANSCRIPT.csv")]
    )
    return audio, transcript


def read_edaic_labels(corpus_dir: str | Path) -> pd.DataFrame:
    """``participant_id, split, label, phq8_score, gender`` from ``labels/*_split.csv``."""
    labels = Path(corpus_dir) / "labels"
    frames = []
    for split, name in LABEL_FILES.items():
        path = labels / name
        if not path.exists():
            raise ManifestError(
                "label file not found",
                path=path,
                fix="point to the E-DAIC folder that holds labels/{train,dev,test}_split.csv",
            )
        df = read_table(path, required=["Participant_ID"])
        binary = next((c for c in ("PHQ_Binary", "PHQ8_Binary") if c in df.columns), None)
        score = next((c for c in ("PHQ_Score", "PHQ8_Score") if c in df.columns), None)
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": df["Participant_ID"].astype(int).astype(str),
                    "split": split,
                    "label": df[binary] if binary else pd.NA,
                    "phq8_score": df[score] if score else pd.NA,
                    "gender": df["Gender"].map(_gender) if "Gender" in df.columns else None,
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    dup = rows["participant_id"].duplicated(keep=False)
    if dup.any():
        raise ManifestError(
            f"participants in more than one split: {sorted(set(rows.loc[dup, 'participant_id']))}", path=labels
        )
    return rows


def prepare_e_daic(corpus_dir: str | Path, output_dir: str | Path) -> Path:
    """Write ``output_dir/interviews.jsonl`` (and ``prepare_report.json``) for an E-DAIC copy."""
    corpus = Path(corpus_dir)
    interviews, problems = [], []
    for row in read_edaic_labels(corpus).itertuples(index=False):
        audio, transcript = edaic_paths(corpus, row.participant_id)
        if audio is None:
            problems.append(f"{row.participant_id}: no {row.participant_id}_AUDIO.wav")
            continue
        interview = Interview(
            interview_id=row.participant_id,
            audio_path=str(audio.resolve()),
            participant_id=row.participant_id,
            split=row.split,
            label=None if pd.isna(row.label) else int(row.label),
            phq8_score=None if pd.isna(row.phq8_score) else float(row.phq8_score),
            gender=row.gender if isinstance(row.gender, str) else None,
            corpus="e_daic",
            transcript_path=str(transcript.resolve()) if transcript else None,
        )
        interview = with_duration(interview, problems)
        if interview is not None:
            interviews.append(interview)
    return finish_manifest(interviews, problems, output_dir, "e_daic")
