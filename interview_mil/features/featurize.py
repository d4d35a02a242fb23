"""Turn features for one interview, or for a whole manifest into a resumable ``FeatureStore``.

``featurize_interview`` reads the interview's audio once, cuts the turns, runs the prosody set and the
encoder (loaded once by the caller and reused). ``featurize_manifest`` skips interviews already in the
store, keeps the encoder loaded across interviews, optionally computes prosody in ``workers`` processes
while the encoder runs in this one, records a failed interview and finishes the rest.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.audio import TARGET_SR, audio_info, load_audio
from ..data.records import Interview, Turn, turn_problems
from ..errors import AudioError, FeatureError
from .config import FeatureConfig
from .spans import features_by_span
from .store import FeatureStore
from .turn_features import TurnFeatures

EDGE_TOLERANCE_S = 0.05  # a turn may end this far past the end of the recording (rounding in tables)


def check_turns(interview: Interview, turns: Sequence[Turn], audio_seconds: float | None = None) -> None:
    """``FeatureError`` naming the interview and file when ``turns`` are empty or fail the record checks of
    ``data.records.turn_problems`` (another interview's turn, a duplicate id, a bad span, a turn outside
    the ``audio_seconds`` of the decoded recording, turns out of order)."""
    where = f"interview {interview.interview_id!r}"
    if not turns:
        raise FeatureError(
            f"{where}: no turns to featurize",
            path=interview.audio_path,
            fix="check the turns table for this interview (interview-mil segment)",
        )
    record = interview if audio_seconds is None else dataclasses.replace(interview, duration=audio_seconds)
    problems = turn_problems(record, turns, tolerance=EDGE_TOLERANCE_S)
    if problems:
        raise FeatureError(
            f"{where}: {'; '.join(problems[:5])}",
            path=interview.audio_path,
            fix="the turns table does not match this recording: pass each interview its own "
            "turns, in order, inside the audio (rerun interview-mil segment)",
        )


def interview_audio(interview: Interview, audio: np.ndarray | None = None) -> np.ndarray:
    """The whole recording as float32 mono 16 kHz (read from disk unless given); ``AudioError`` on NaN."""
    if audio is None:
        return load_audio(interview.audio_path, channel=interview.channel)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise AudioError(
            f"interview {interview.interview_id!r}: audio must be non-empty mono (n,), got shape {audio.shape}",
            path=interview.audio_path,
        )
    if not np.all(np.isfinite(audio)):
        raise AudioError(
            f"interview {interview.interview_id!r}: audio contains NaN or infinite samples",
            path=interview.audio_path,
            fix="re-export the recording",
        )
    return audio


def turn_waves(audio: np.ndarray, turns: Sequence[Turn], sample_rate: int = TARGET_SR) -> list[np.ndarray]:
    """Each turn's samples ``audio[start:end]`` (the end clipped to the audio)."""
    return [
        audio[int(math.floor(t.start * sample_rate)) : min(int(math.ceil(t.end * sample_rate)), audio.size)]
        for t in turns
    ]


def prosody_table(
    interview: Interview, turns: Sequence[Turn], config: FeatureConfig, audio: np.ndarray | None = None
) -> pd.DataFrame:
    """Prosody rows (turn order, no turn_id column) for ``turns``; without ``audio``, the turns' spans are
    read from disk group by group (``features.spans``: memory does not grow with the recording)."""
    from .prosody import extract_prosody

    if audio is None:
        check_turns(interview, turns, audio_info(interview.audio_path).duration)
        table = features_by_span(interview, list(turns), config)[0]
    else:
        audio = interview_audio(interview, audio)
        check_turns(interview, turns, audio.size / TARGET_SR)
        table = extract_prosody(audio, TARGET_SR, list(turns), config.prosody)
    if table["turn_id"].astype(str).tolist() != [t.turn_id for t in turns]:
        raise FeatureError(f"interview {interview.interview_id!r}: prosody rows out of turn order")
    return table.drop(columns=["turn_id"]).reset_index(drop=True)


def featurize_interview(
    interview: Interview,
    turns: Sequence[Turn],
    config: FeatureConfig,
    encoder=None,
    audio: np.ndarray | None = None,
    prosody: pd.DataFrame | None = None,
) -> TurnFeatures:
    """Features of every turn of one interview. ``encoder``: a loaded ``Encoder`` (loaded from
    ``config.encoder`` when None); ``audio``: the whole recording (read when None); ``prosody``: rows
    already computed elsewhere (a worker process). Without ``audio`` the turns' spans are read from disk
    group by group (``features.spans``), never the whole recording. Raises ``FeatureError``/``AudioError``."""
    turns = list(turns)
    if config.encoder is not None and encoder is None:
        from .encoders import load_encoder

        encoder = load_encoder(config.encoder)
    encoder = encoder if config.encoder is not None else None
    embeddings = None
    if audio is None:
        check_turns(interview, turns, audio_info(interview.audio_path).duration)
        table, embeddings = features_by_span(interview, turns, config, encoder, prosody=prosody is None)
        if table is not None:
            if table["turn_id"].astype(str).tolist() != [t.turn_id for t in turns]:
                raise FeatureError(f"interview {interview.interview_id!r}: prosody rows out of turn order")
            prosody = table.drop(columns=["turn_id"]).reset_index(drop=True)
    else:
        audio = interview_audio(interview, audio)
        check_turns(interview, turns, audio.size / TARGET_SR)
        if config.prosody is not None and prosody is None:
            prosody = prosody_table(interview, turns, config, audio)
        if encoder is not None:
            embeddings = encoder.encode(turn_waves(audio, turns))
    return TurnFeatures(
        interview.interview_id, [t.turn_id for t in turns], prosody if config.prosody is not None else None, embeddings
    )


@dataclass
class FeaturizeReport:
    """What a batch run did: interviews written, skipped (already done) and failed (id → reason)."""

    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    store_dir: Path | None = None


def group_turns(turns: Mapping[str, Sequence[Turn]] | pd.DataFrame) -> dict[str, list[Turn]]:
    """``{interview_id: turns ordered by turn_index}`` from a mapping or a turns table."""
    if isinstance(turns, pd.DataFrame):
        grouped: dict[str, list[Turn]] = defaultdict(list)
        for row in turns.to_dict(orient="records"):
            turn = Turn.from_dict(row)
            grouped[turn.interview_id].append(turn)
        return {k: sorted(v, key=lambda t: t.turn_index) for k, v in grouped.items()}
    return {str(k): list(v) for k, v in turns.items()}


def _prosody_job(interview: Interview, turns: list[Turn], config: FeatureConfig) -> pd.DataFrame:
    """Worker-process entry: the interview's prosody rows."""
    return prosody_table(interview, turns, config)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def featurize_manifest(
    interviews: Sequence[Interview],
    turns: Mapping[str, Sequence[Turn]] | pd.DataFrame,
    config: FeatureConfig,
    store_root: str | Path,
    workers: int = 1,
    device: str | None = None,
    progress: bool = True,
) -> FeaturizeReport:
    """Featurize every interview not yet in the store under ``store_root``.

    ``workers`` > 1 computes prosody in that many processes while the encoder runs here. ``device``
    overrides ``config.encoder.device`` (not part of the store key). A failed interview is recorded in
    the report (nothing else is lost); a missing model raises before any work.
    """
    from tqdm.auto import tqdm

    if device is not None and config.encoder is not None:
        config = dataclasses.replace(config, encoder=dataclasses.replace(config.encoder, device=device))
    store = FeatureStore(store_root, config)
    report = FeaturizeReport(store_dir=store.dir)
    by_id = group_turns(turns)
    todo = []
    for interview in interviews:
        if store.has(interview.interview_id):
            report.skipped.append(interview.interview_id)
        else:
            todo.append(interview)
    if not todo:
        return report
    encoder = None
    if config.encoder is not None:
        from .encoders import load_encoder

        encoder = load_encoder(config.encoder)
    pool = None
    futures: dict[str, Future] = {}
    if workers > 1 and config.prosody is not None:
        import multiprocessing

        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        for interview in todo:
            futures[interview.interview_id] = pool.submit(
                _prosody_job, interview, by_id.get(interview.interview_id, []), config
            )
    try:
        for interview in tqdm(todo, desc="featurize", unit="interview", disable=not progress):
            iid = interview.interview_id
            try:
                turns_i = by_id.get(iid, [])
                if iid in futures:  # embed here while the workers measure prosody
                    embeddings = None
                    if config.encoder is not None:
                        embeddings = featurize_interview(
                            interview, turns_i, dataclasses.replace(config, prosody=None), encoder
                        ).embeddings
                    prosody = futures.pop(iid).result()
                    features = TurnFeatures(iid, [t.turn_id for t in turns_i], prosody, embeddings)
                else:
                    features = featurize_interview(interview, turns_i, config, encoder)
                store.save(features)
                report.done.append(iid)
            except Exception as exc:  # a batch job records the failure and finishes the rest
                report.failed[iid] = _describe(exc)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return report
