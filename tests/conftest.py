"""Shared test set-up: no network, ever; tiny generated audio; paths to ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Nothing in the suite may reach a model hub: fail fast instead of retrying for ~30 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data {path} is absent (read-only material beside the checkout)")
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def tone(freq: float = 220.0, seconds: float = 1.0, sr: int = 16_000, amp: float = 0.3) -> np.ndarray:
    """A sine tone, float32, shape (n,)."""
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory) -> Path:
    """A tiny synthetic corpus (4 interviews of about 40 s, 2 depressed), generated once per session
    with the real generator (piper speech). Read-only for tests: copy before modifying."""
    pytest.importorskip("piper", reason="the synthetic corpus needs interview-mil[synth]")
    from interview_mil.corpora.synthetic import SynthConfig, generate_corpus

    out = tmp_path_factory.mktemp("synthetic_corpus")
    generate_corpus(
        out,
        SynthConfig(n_interviews=4, seed=3, target_duration_s=40.0, depressed_fraction=0.5, label_strength=1.0),
        progress=False,
    )
    return out


@pytest.fixture(scope="session")
def recipe_corpus(tmp_path_factory) -> Path:
    """10 synthetic interviews of about 30 s (half depressed; train 6, dev 2, test 2) for end-to-end
    tests of experiments, recipes and scoring. Read-only for tests."""
    pytest.importorskip("piper", reason="the synthetic corpus needs interview-mil[synth]")
    from interview_mil.corpora.synthetic import SynthConfig, generate_corpus

    out = tmp_path_factory.mktemp("recipe_corpus")
    generate_corpus(
        out,
        SynthConfig(n_interviews=10, seed=5, target_duration_s=30.0, depressed_fraction=0.5, label_strength=1.0),
        progress=False,
    )
    return out
