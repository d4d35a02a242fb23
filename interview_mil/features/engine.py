"""``featurize_manifest``: a whole manifest into the resumable ``FeatureStore``, on one of two engines.

``local`` (default): this machine; the encoder is loaded once here and kept across interviews, and with
``workers`` > 1 prosody runs in that many processes meanwhile. ``ray``: prosody as Ray tasks and the
encoder in a pool of Ray actors (``features.engine_ray``). Both skip interviews already in the store,
write each finished interview atomically, record a failed interview and finish the rest.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.records import Interview, Turn
from ..errors import RECORDING_ERRORS
from .config import FeatureConfig
from .featurize import featurize_interview, prosody_table
from .store import FeatureStore
from .turn_features import TurnFeatures


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
    engine: str | None = None,
    address: str | None = None,
    on_saved: Callable[[str], None] | None = None,
) -> FeaturizeReport:
    """Featurize every interview not yet in the store under ``store_root``.

    ``engine`` (default ``config.engine``): ``"local"``: ``workers`` > 1 computes prosody in that many
    processes while the encoder runs here; ``"ray"``: prosody as Ray tasks and ``workers`` encoder actors
    on the Ray cluster at ``address`` (default ``config.engine_address``; see ``features.engine_ray``).
    Both write the same store. ``device`` overrides ``config.encoder.device`` (not part of the store key).
    ``on_saved(interview_id)`` is called after each interview is written. A failed interview is recorded
    in the report (nothing else is lost); a missing model raises before any work.
    """
    from tqdm.auto import tqdm

    if device is not None and config.encoder is not None:
        config = dataclasses.replace(config, encoder=dataclasses.replace(config.encoder, device=device))
    if engine is not None or address is not None:  # validated like the config's own fields
        config = dataclasses.replace(
            config, engine=engine or config.engine, engine_address=address or config.engine_address
        )
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
    if config.engine == "ray":
        from .engine_ray import featurize_with_ray

        return featurize_with_ray(
            todo, by_id, config, store, report, workers, config.engine_address, progress, on_saved
        )
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
            except RECORDING_ERRORS as exc:  # this interview's failure is recorded; the batch goes on (a bug stops it)
                report.failed[iid] = _describe(exc)
            else:
                report.done.append(iid)
                if on_saved is not None:
                    on_saved(iid)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return report
