"""DAIC-WOZ (AVEC 2016/2017 depression sub-challenge) → interview manifest.

Expected layout (as distributed, after unzipping each ``{id}_P.zip``)::

    CORPUS/{id}_P/{id}_AUDIO.wav
    CORPUS/{id}_P/{id}_TRANSCRIPT.csv
    CORPUS/train_split_Depression_AVEC2017.csv   Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,...
    CORPUS/dev_split_Depression_AVEC2017.csv
    CORPUS/test_split_Depression_AVEC2017.csv    participant_ID,Gender   (lower-case p, no labels)
    CORPUS/full_test_split.csv                   Participant_ID,PHQ_Binary,PHQ_Score,Gender (optional)

Known label defect: participant 409 has PHQ8_Score 10 but PHQ8_Binary 0 in the release; PHQ-8 >= 10 is
the positive class, so its label is set to 1. Gender is coded 0 = female, 1 = male in the split files.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..data.records import Interview
from ..errors import ManifestError
from ..fileio import read_table
from .common import finish_manifest, first_existing, with_duration

log = logging.getLogger(__name__)

SPLIT_FILES = {
    "train": "train_split_Depression_AVEC2017.csv",
    "dev": "dev_split_Depression_AVEC2017.csv",
    "test": "test_split_Depression_AVEC2017.csv",
}
FULL_TEST_FILE = "full_test_split.csv"
GENDER = {0: "F", 1: "M"}
PHQ8_POSITIVE = 10


def _id_column(df: pd.DataFrame, path: Path) -> str:
    for name in df.columns:
        if name.strip().lower() == "participant_id":
            return name
    raise ManifestError(
        f"no Participant_ID column (found {list(df.columns)})", path=path, fix="use the official AVEC 2017 split file"
    )


def _label_columns(df: pd.DataFrame) -> tuple[str | None, str | None]:
    binary = next((c for c in ("PHQ8_Binary", "PHQ_Binary") if c in df.columns), None)
    score = next((c for c in ("PHQ8_Score", "PHQ_Score") if c in df.columns), None)
    return binary, score


def read_daic_splits(corpus_dir: str | Path) -> pd.DataFrame:
    """One row per participant: ``participant_id, split, label, phq8_score, gender``.

    Test labels come from ``full_test_split.csv`` when it is present, else stay missing.
    Applies the 409 label fix (score 10 → binary 1) and logs it.
    """
    corpus = Path(corpus_dir)
    frames = []
    for split, name in SPLIT_FILES.items():
        path = corpus / name
        if not path.exists():
            if split == "test":
                continue
            raise ManifestError(
                "official split file not found",
                path=path,
                fix="point to the DAIC-WOZ folder that holds the AVEC 2017 split files",
            )
        df = read_table(path)
        idc = _id_column(df, path)
        binary, score = _label_columns(df)
        if split != "test" and (binary is None or score is None):
            raise ManifestError("missing PHQ8_Binary/PHQ8_Score columns", path=path)
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": df[idc].astype(int).astype(str),
                    "split": split,
                    "label": df[binary] if binary else pd.NA,
                    "phq8_score": df[score] if score else pd.NA,
                    "gender": df["Gender"].map(GENDER) if "Gender" in df.columns else None,
                }
            )
        )
    rows = pd.concat(frames, ignore_index=True)
    full = corpus / FULL_TEST_FILE
    if full.exists():
        df = read_table(full)
        idc = _id_column(df, full)
        binary, score = _label_columns(df)
        if binary and score:
            known = dict(zip(df[idc].astype(int).astype(str), zip(df[binary], df[score])))
            test = rows["split"] == "test"
            rows.loc[test, "label"] = rows.loc[test, "participant_id"].map(lambda p: known.get(p, (pd.NA,))[0])
            rows.loc[test, "phq8_score"] = rows.loc[test, "participant_id"].map(
                lambda p: known.get(p, (pd.NA, pd.NA))[1]
            )
    wrong = (
        rows["phq8_score"].notna()
        & rows["label"].notna()
        & ((pd.to_numeric(rows["phq8_score"]) >= PHQ8_POSITIVE).astype(int) != pd.to_numeric(rows["label"]))
    )
    for _, row in rows[wrong].iterrows():
        log.warning(
            "participant %s: PHQ-8 score %s disagrees with binary label %s; using score >= %d",
            row.participant_id,
            row.phq8_score,
            row.label,
            PHQ8_POSITIVE,
        )
    rows.loc[wrong, "label"] = (pd.to_numeric(rows.loc[wrong, "phq8_score"]) >= PHQ8_POSITIVE).astype(int)
    dup = rows["participant_id"].duplicated(keep=False)
    if dup.any():
        raise ManifestError(
            f"participants listed in more than one split file: {sorted(set(rows.loc[dup, 'participant_id']))}",
            path=corpus,
        )
    return rows


def daic_paths(corpus: Path, pid: str) -> tuple[Path | None, Path | None]:
    """(audio, transcript) for participant ``pid``: ``{id}_P/`` folders, or files directly in the corpus."""
    audio = first_existing([corpus / f"{pid}_P" / f"{pid}_AUDIO.wav", corpus / f"{pid}_AUDIO.wav"])
    transcript = first_existing([corpus / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv", corpus / f"{pid}_TRANSCRIPT.csv"])
    return audio, transcript


def daic_interviews(corpus_dir: str | Path, corpus_name: str = "daic_woz") -> tuple[list[Interview], list[str]]:
    """Interview records for every participant in the split files, plus the problems of those skipped."""
    corpus = Path(corpus_dir)
    interviews, problems = [], []
    for row in read_daic_splits(corpus).itertuples(index=False):
        audio, transcript = daic_paths(corpus, row.participant_id)
        if audio is None:
            hint = " (still zipped?)" if (corpus / f"{row.participant_id}_P.zip").exists() else ""
            problems.append(f"{row.participant_id}: no {row.participant_id}_AUDIO.wav{hint}")
            continue
        interview = Interview(
            interview_id=row.participant_id,
            audio_path=str(audio.resolve()),
            participant_id=row.participant_id,
            split=row.split,
            label=None if pd.isna(row.label) else int(row.label),
            phq8_score=None if pd.isna(row.phq8_score) else float(row.phq8_score),
            gender=row.gender if isinstance(row.gender, str) else None,
            corpus=corpus_name,
            transcript_path=str(transcript.resolve()) if transcript else None,
        )
        interview = with_duration(interview, problems)
        if interview is not None:
            interviews.append(interview)
    return interviews, problems


def prepare_daic_woz(corpus_dir: str | Path, output_dir: str | Path) -> Path:
    """Write ``output_dir/interviews.jsonl`` (and ``prepare_report.json``) for a DAIC-WOZ copy."""
    interviews, problems = daic_interviews(corpus_dir)
    return finish_manifest(interviews, problems, output_dir, "daic_woz")
