"""Any folder of recordings + a labels table → interview manifest.

``prepare_folder(audio_dir, labels_csv, output_dir, id_column="id", label_column="label")``: each row of
the labels table names a recording by its file stem (``{id}.wav``, ``.flac``, ``.ogg``, ``.mp3``, searched
recursively). Beside a recording, ``{id}.rttm`` (speaker turns; give ``participant_speaker``), ``{id}.stm``
or a ``{id}.csv``/``{id}.tsv`` transcript are picked up. A binary label is taken from ``label_column`` or
derived from ``score_column >= threshold``. Without ``split_column`` participants are split 70/15/15,
stratified by label, grouped by ``participant_column`` (or the id) so nobody is in two splits.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..data.records import Interview
from ..errors import ManifestError
from ..fileio import read_table
from .common import finish_manifest, first_existing, grouped_stratified_splits, with_duration

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".WAV", ".FLAC")


def _find_audio(audio_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(audio_dir.rglob("*")):
        if path.suffix in AUDIO_SUFFIXES and path.is_file():
            found.setdefault(path.stem, path)
    return found


def prepare_folder(
    audio_dir: str | Path,
    labels_csv: str | Path,
    output_dir: str | Path,
    *,
    id_column: str = "id",
    label_column: str | None = "label",
    score_column: str | None = None,
    threshold: float = 10.0,
    participant_column: str | None = None,
    split_column: str | None = None,
    gender_column: str | None = None,
    participant_speaker: str | None = None,
    channel: int | None = None,
    seed: int = 0,
) -> Path:
    """Write ``output_dir/interviews.jsonl`` for a folder of recordings; see the module docstring."""
    audio_dir = Path(audio_dir)
    if not audio_dir.is_dir():
        raise ManifestError("audio folder not found", path=audio_dir)
    wanted = [c for c in (id_column, label_column, score_column, participant_column, split_column, gender_column) if c]
    table = read_table(labels_csv, required=wanted)
    if label_column is None and score_column is None:
        raise ManifestError("give a label column or a score column", path=labels_csv)
    audio = _find_audio(audio_dir)
    rows = table.to_dict(orient="records")
    ids = [str(r[id_column]) for r in rows]
    groups = [str(r[participant_column]) if participant_column else i for r, i in zip(rows, ids)]

    def label_of(r) -> int | None:
        if label_column and not pd.isna(r[label_column]):
            return int(r[label_column])
        if score_column and not pd.isna(r[score_column]):
            return int(float(r[score_column]) >= threshold)
        return None

    labels = [label_of(r) for r in rows]
    splits = dict.fromkeys(groups) if split_column else grouped_stratified_splits(groups, labels, seed=seed)
    interviews, problems = [], []
    for r, iid, group, label in zip(rows, ids, groups, labels):
        path = audio.get(iid)
        if path is None:
            problems.append(f"{iid}: no audio file named {iid}.wav/.flac/.ogg/.mp3 under {audio_dir}")
            continue
        stem = path.with_suffix("")
        transcript = first_existing([Path(f"{stem}{s}") for s in (".stm", ".csv", ".tsv")])
        rttm = first_existing([Path(f"{stem}.rttm")])
        score = r.get(score_column) if score_column else None
        interview = Interview(
            interview_id=iid,
            audio_path=str(path.resolve()),
            participant_id=group,
            split=str(r[split_column]) if split_column else splits[group],
            label=label,
            phq8_score=None if score is None or pd.isna(score) else float(score),
            gender=str(r[gender_column]) if gender_column and not pd.isna(r[gender_column]) else None,
            corpus="folder",
            transcript_path=str(transcript.resolve()) if transcript else None,
            rttm_path=str(rttm.resolve()) if rttm else None,
            participant_speaker=participant_speaker,
            channel=channel,
        )
        interview = with_duration(interview, problems)
        if interview is not None:
            interviews.append(interview)
    return finish_manifest(interviews, problems, output_dir, "folder")
