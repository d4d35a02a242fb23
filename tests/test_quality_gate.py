"""Issue 14, input quality gate: audio that is not an interview's speech is refused with its reason, never
scored; speech passes; per-turn flags point at the turns that are not speech; a batch goes on."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import shared_path
from test_reliability_support import make_model, recording

from interview_mil.data.records import Interview
from interview_mil.segmentation import NoTurnsWarning, SegmentationConfig, segment_interview
from interview_mil.segmentation.quality import QualityReport, assess_quality
from interview_mil.segmentation.quality_measures import recording_measures

SR = 16_000


def _gate(path: Path, transcript: Path | None = None, **kw) -> QualityReport:
    info = sf.info(str(path))
    interview = Interview(
        interview_id=path.stem,
        audio_path=str(path),
        corpus="test",
        transcript_path=None if transcript is None else str(transcript),
        duration=info.duration,
        **kw,
    )
    with warnings.catch_warnings():  # silence gives no turns: the gate's reason, not also a warning
        warnings.simplefilter("ignore", NoTurnsWarning)
        # one synthetic voice (or a transcript, or a chosen channel): the gate is tested, not the diarizer
        one_voice = transcript is None and kw.get("channel") is None
        seg = segment_interview(interview, SegmentationConfig(source="vad" if one_voice else "auto"), keep_audio=True)
    return assess_quality(seg, recording=recording_measures(str(path), kw.get("channel")))


def _write(path: Path, x: np.ndarray, sr: int = SR) -> Path:
    sf.write(str(path), np.asarray(x, dtype=np.float32), sr)
    return path


def _bad_inputs(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    t = np.arange(40 * SR) / SR
    notes = rng.choice([220.0, 262.0, 294.0, 330.0, 392.0, 440.0], size=200)
    f = notes[(t // 0.25).astype(int)]
    phase = 2 * np.pi * np.cumsum(f) / SR
    tones = np.exp(-(t % 0.25) / 0.08) * (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase))
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    speech, _ = recording(seed=3)
    return {
        "noise_bursts": _write(folder / "noise_bursts.wav", 0.1 * rng.standard_normal(t.size) * ((t % 4) < 3)),
        "buzz": _write(folder / "buzz.wav", 0.3 * buzz / np.abs(buzz).max() * ((t % 3) < 2)),
        "tones": _write(folder / "tones.wav", 0.3 * tones),
        "clip_1s": _write(folder / "clip_1s.wav", speech[SR : 2 * SR]),
        "silence": _write(folder / "silence.wav", np.zeros(20 * SR)),
    }


def test_noise_tones_buzz_short_clip_and_silence_are_refused_with_a_reason(tmp_path):
    expected = {
        "noise_bursts": "noise-like spectrum",
        "buzz": "",  # refused for no speech found or for no pitch movement / rhythm: either says why
        "tones": "pitch movement",
        "clip_1s": "",
        "silence": "no participant speech",
    }
    for name, path in _bad_inputs(tmp_path).items():
        report = _gate(path)
        assert report.status == "insufficient", (name, report.measures)
        assert report.reasons and expected[name] in report.reason, (name, report.reason)


def test_speech_passes_and_its_turns_carry_no_flags(tmp_path):
    report = _gate(_write(tmp_path / "speech.wav", recording(seed=1)[0]))
    assert report.ok, report.reason
    assert len(report.turns) == 4 and (report.turns["quality_flags"] == "").all()
    assert report.measures["flatness"] < 0.1 and report.measures["pitch_glide_st"] > 0.05


def test_the_shared_conversation_passes():
    wav = shared_path("conversation", "sample.wav")
    report = _gate(wav)
    assert report.ok, report.reason
    assert "narrowband" in report.reason  # a telephone-band recording: flagged, still scored
    stm = shared_path("conversation", "sample.stm")
    assert _gate(wav, stm, participant_speaker="Diane").ok


def test_synthetic_interviews_pass(synthetic_corpus):
    for wav in sorted(synthetic_corpus.glob("*_P/*_AUDIO.wav")):
        report = _gate(wav, wav.parent / wav.name.replace("AUDIO.wav", "TRANSCRIPT.csv"))
        assert report.ok, (wav, report.reason)
        assert (report.turns["quality_flags"].str.contains("not_speech")).sum() == 0


def test_dc_offset_is_removed_before_vad_and_noted(tmp_path):
    x, _ = recording(seed=2)
    clean = _gate(_write(tmp_path / "clean.wav", x))
    offset = _gate(_write(tmp_path / "offset.wav", x + 0.1))
    assert offset.ok and len(offset.turns) == len(clean.turns) == 4
    assert "DC offset +0.100 removed" in offset.reason
    assert abs(offset.measures["speech_s"] - clean.measures["speech_s"]) < 0.05


def test_a_noise_turn_among_speech_is_flagged_and_the_recording_still_passes(tmp_path):
    x, spans = recording(seed=4, n_turns=4)
    a, b = int(spans[2][0] * SR), int(spans[2][1] * SR)
    x[a:b] = 0.05 * np.random.default_rng(1).standard_normal(b - a)
    report = _gate(_write(tmp_path / "mixed.wav", x))
    assert report.ok, report.reason
    flags = report.turns["quality_flags"].tolist()
    assert flags[2] == "not_speech" and flags[0] == flags[1] == flags[3] == ""


def test_heavy_clipping_is_refused_and_light_clipping_noted(tmp_path):
    x, _ = recording(seed=5)
    heavy = _gate(_write(tmp_path / "heavy.wav", np.clip(x * 8, -0.3, 0.3)))
    assert not heavy.ok and "clipped" in heavy.reason
    level = np.quantile(np.abs(x), 0.9995)
    light = _gate(_write(tmp_path / "light.wav", np.clip(x / level, -1, 1) * 0.99))
    assert light.ok and "light clipping" in light.reason, light.reason


def test_phase_inverted_stereo_is_pointed_out(tmp_path):
    x, _ = recording(seed=6)
    path = tmp_path / "inverted.wav"
    sf.write(str(path), np.stack([x, -x], axis=1), SR)
    assert "cancel" in recording_measures(str(path))["channel_note"]
    ok = tmp_path / "stereo.wav"
    sf.write(str(ok), np.stack([x, 0.8 * x], axis=1), SR)
    assert recording_measures(str(ok))["channel_note"] == "2 channels mixed to mono"


def test_a_batch_marks_refused_recordings_and_scores_the_rest(tmp_path, capsys):
    from test_reliability_support import run_cli

    model = make_model(tmp_path / "model")
    bad = _bad_inputs(tmp_path)
    good = _write(tmp_path / "good.wav", recording(seed=7)[0])
    code, out, err = run_cli(capsys, "score", model, bad["noise_bursts"], good, bad["silence"], "--out", tmp_path / "o")
    assert code == 3, err  # not 0: a script running score must see that two recordings got no answer
    assert "2 refused by the input quality gate" in out and "not speech" in out and "error" not in err
    rows = pd.read_csv(tmp_path / "o" / "interviews.csv").set_index("interview_id")
    assert list(rows["status"]) == ["insufficient_audio", "ok", "insufficient_audio"]
    assert rows.loc[["noise_bursts", "silence"], "probability"].isna().all()
    assert rows.loc[["noise_bursts", "silence"], "decision"].isna().all()
    assert rows.loc["noise_bursts", "quality_reason"].startswith("insufficient audio: not speech")
    assert "no participant speech" in rows.loc["silence", "quality_reason"]
    assert rows.loc["good", "quality"] == "ok" and np.isfinite(rows.loc["good", "probability"])
    turns = pd.read_csv(tmp_path / "o" / "turns.csv", keep_default_na=False)
    assert set(turns["interview_id"]) == {"good"}
    assert {"quality_flags", "q_snr_db", "q_flatness"} <= set(turns.columns)


@pytest.mark.parametrize("seconds", [3.0])
def test_too_little_speech_is_refused(tmp_path, seconds):
    x, _ = recording(seed=8, n_turns=1)
    report = _gate(_write(tmp_path / "one_turn.wav", x[: int((1 + seconds) * SR)]))
    assert not report.ok and ("participant speech" in report.reason or "turn(s)" in report.reason)


def test_a_long_recording_kept_without_its_audio_is_judged_turn_by_turn(tmp_path):
    path = _write(tmp_path / "speech.wav", recording(seed=9)[0] + 0.05)
    interview = Interview(interview_id="speech", audio_path=str(path), corpus="test", duration=sf.info(path).duration)
    seg = segment_interview(interview, SegmentationConfig(source="vad"), keep_audio=True)  # one synthetic voice
    whole = assess_quality(seg)
    by_turn = assess_quality(seg.without_audio())  # what a recording over vad.KEEP_AUDIO_MAX_S gives
    assert whole.ok and by_turn.ok
    for key in ("flatness", "pitch_glide_st", "modulation_db", "clipped_fraction"):
        assert by_turn.measures[key] == pytest.approx(whole.measures[key], rel=0.2, abs=0.01), key
