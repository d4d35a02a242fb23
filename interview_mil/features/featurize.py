"""Turn features for one interview: ``featurize_interview`` reads the interview's audio, cuts the turns,
runs the prosody set and the encoder (loaded once by the caller and reused); ``prosody_table`` is the
prosody part alone (what a worker process or a Ray task computes). A whole manifest into the resumable
``FeatureStore`` is ``features.engine.featurize_manifest``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..data.audio import TARGET_SR, audio_info, load_audio
from ..data.records import Interview, Turn, turn_problems
from ..errors import AudioError, FeatureError
from .config import FeatureConfig
from .spans import features_by_span
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
