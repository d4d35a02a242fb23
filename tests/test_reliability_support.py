"""Shared pieces of the reliability tests (issue 15): a tiny prosody model bundle trained in a second,
speech-like recordings generated in the test, and a command-line runner that checks what a user sees.
No tests here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from interview_mil.cli.main import main

SR = 16_000


def recording(seed: int = 0, n_turns: int = 4, gap: float = 5.0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(samples at ``SR``, answer spans in s): ``n_turns`` voiced, syllable-like answers separated by ``gap``
    s of near silence, after 1 s of it (the VAD source finds one turn per answer)."""
    from interview_mil.features.prosody.synthetic import gliding_f0, syllable_envelope, voiced_signal

    rng = np.random.default_rng(seed)
    parts, spans, t = [np.zeros(SR, np.float32)], [], 1.0
    for k in range(n_turns):
        env = syllable_envelope(int(rng.integers(8, 14)), 0.2, SR)
        f0 = 120 + 40 * rng.random()
        contour = gliding_f0(f0, f0 * 1.1, len(env) / SR, SR, vibrato_st=0.5)
        parts.append((voiced_signal(contour, SR, amplitude=0.3, seed=seed * 10 + k) * env).astype(np.float32))
        spans.append((t, t + len(env) / SR))
        parts.append(np.zeros(int(SR * gap), np.float32))
        t += len(env) / SR + gap
    x = np.concatenate(parts)
    return (x + 1e-4 * rng.standard_normal(x.size)).astype(np.float32), spans


def write_recording(path: Path, seed: int = 0, n_turns: int = 4, gap: float = 5.0) -> Path:
    """``recording(seed, n_turns, gap)`` written to ``path`` (16-bit WAV)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, recording(seed, n_turns, gap)[0], SR)
    return path


def make_model(directory: Path) -> Path:
    """A prosody + attention bundle (lean prosody set, VAD turns) fitted on random bags: its answers mean
    nothing, but it runs every stage of ``score`` exactly as a trained model does."""
    from interview_mil.features import FeatureConfig, FeatureRecipe
    from interview_mil.features.prosody.config import ProsodyConfig, prosody_feature_names
    from interview_mil.mil import InterviewClassifier
    from interview_mil.segmentation import SegmentationConfig

    prosody = ProsodyConfig(mfcc=0, voice_quality=False, spectral=False)
    names = prosody_feature_names(prosody)
    rng = np.random.default_rng(0)
    bags = [rng.normal(size=(int(rng.integers(2, 6)), len(names))) for _ in range(12)]
    clf = InterviewClassifier(hidden=(8,), attention_dim=8, max_epochs=3, val_fraction=0, threshold=0.5)
    clf.fit(bags, [i % 2 for i in range(12)], feature_names=names)
    vad = SegmentationConfig(source="vad")  # the recordings hold one (synthetic) voice: no speakers to tell apart
    recipe = FeatureRecipe(segmentation=vad, features=FeatureConfig(prosody=prosody), parts=("prosody",))
    return clf.save(directory, metadata={"feature_recipe": recipe.to_dict()})


def make_screened_model(directory: Path) -> Path:
    """``make_model``'s bundle with a conformal three-way screen (alpha 0.1) and the out-of-fold predictions
    it is refitted from at another alpha, as ``train`` saves them."""
    from interview_mil.features import FeatureConfig, FeatureRecipe
    from interview_mil.features.prosody.config import ProsodyConfig
    from interview_mil.mil import InterviewClassifier
    from interview_mil.mil.conformal import METADATA_KEY, ConformalScreen
    from interview_mil.segmentation import SegmentationConfig

    clf = InterviewClassifier.load(make_model(directory))
    rng = np.random.default_rng(1)
    y = np.arange(60) % 2
    p = np.clip(0.5 + 0.3 * (y - 0.5) + 0.2 * rng.standard_normal(60), 0.01, 0.99)
    clf.oof_proba_, clf.oof_y_ = p, y
    prosody = ProsodyConfig(mfcc=0, voice_quality=False, spectral=False)
    vad = SegmentationConfig(source="vad")
    recipe = FeatureRecipe(segmentation=vad, features=FeatureConfig(prosody=prosody), parts=("prosody",))
    screen = ConformalScreen.fit(p, y, 0.1)
    return clf.save(directory, metadata={"feature_recipe": recipe.to_dict(), METADATA_KEY: screen.to_dict()})


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``interview-mil ARGS`` in-process: (exit code, stdout, stderr). An exception escaping ``main`` (a
    traceback for the user) fails the test by itself; none may be printed either."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    return code, captured.out, captured.err


def assert_clear_error(err: str, *named: str) -> None:
    """A user error: one ``error:`` line naming each of ``named`` (file, field, option) and a ``fix:``."""
    assert err.count("error:") == 1, err
    assert "fix:" in err, err
    for name in named:
        assert str(name) in err, (name, err)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name → bytes), to show earlier results are left intact."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
