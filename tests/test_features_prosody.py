"""Prosody features: every family on generated signals with known answers, flags for short / silent /
unvoiced turns, clear errors on bad audio, and one run on the real synthetic corpus."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from interview_mil.config import from_dict
from interview_mil.data.records import Turn
from interview_mil.errors import ConfigError, FeatureError
from interview_mil.features.prosody import (
    PROSODY_FEATURES,
    PROSODY_FLAGS,
    ProsodyConfig,
    extract_prosody,
    extract_turn_prosody,
    prosody_feature_names,
)
from interview_mil.features.prosody.pitch import track_pitch
from interview_mil.features.prosody.synthetic import gliding_f0, syllable_envelope, voiced_signal, with_pauses

SR = 16_000
CONTRACT = (
    "f0_mean_hz f0_median_hz f0_sd_st f0_range_st f0_slope_st_per_s voiced_fraction "
    "intensity_mean_db intensity_sd_db intensity_range_db intensity_delta_sd_db duration_s "
    "speech_rate_syl_per_s articulation_rate_syl_per_s n_pauses pause_total_s pause_longest_s "
    "pause_ratio response_latency_s jitter_local shimmer_local hnr_db"
).split()


def speech_like(
    n_syllables: int,
    f0: float = 150.0,
    syllable_s: float = 0.2,
    seed: int = 0,
    vibrato_st: float = 0.5,
    amplitude: float = 0.3,
) -> np.ndarray:
    """Voiced syllable-like bursts: a loudness bump per syllable over a slowly rising F0."""
    env = syllable_envelope(n_syllables, syllable_s, SR)
    contour = gliding_f0(f0, f0 * 1.1, len(env) / SR, SR, vibrato_st=vibrato_st)
    return voiced_signal(contour, SR, amplitude=amplitude, seed=seed) * env


def turn(start: float, duration: float, tid: str = "t0", latency: float | None = 0.8) -> Turn:
    return Turn("iv1", tid, 0, start, duration, response_latency=latency)


# --- names and config -------------------------------------------------------------------------------


def test_feature_names_follow_the_contract():
    assert list(PROSODY_FEATURES[: len(CONTRACT)]) == CONTRACT
    mfcc = [f"mfcc_{i:02d}_mean" for i in range(1, 14)]
    assert list(PROSODY_FEATURES[len(CONTRACT) : len(CONTRACT) + 13]) == mfcc
    assert PROSODY_FEATURES[-3:] == ("spectral_slope_db_per_khz", "alpha_ratio_db", "hammarberg_db")
    lean = prosody_feature_names(ProsodyConfig(mfcc=0, voice_quality=False, spectral=False))
    assert "jitter_local" not in lean and not any(n.startswith("mfcc") for n in lean)
    assert len(prosody_feature_names(ProsodyConfig(mfcc=20))) == len(PROSODY_FEATURES) + 7


def test_config_from_yaml_mapping_and_bad_values():
    cfg = from_dict(ProsodyConfig, {"f0_min": 60, "mfcc": 0, "min_pause": 0.3})
    assert cfg.f0_min == 60.0 and cfg.mfcc == 0 and cfg.min_pause == 0.3
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict(ProsodyConfig, {"f0_minimum": 60})
    with pytest.raises(ConfigError, match="f0_min"):
        ProsodyConfig(f0_min=500, f0_max=400)
    with pytest.raises(ConfigError, match="pitch_sample_rate"):
        ProsodyConfig(f0_max=1500)


# --- pitch ------------------------------------------------------------------------------------------

GLIDES = [(75, 95), (95, 130), (130, 180), (180, 250), (250, 330), (330, 400), (400, 300), (220, 110)]


@pytest.mark.parametrize("f_start,f_end", GLIDES)
def test_pitch_tracks_known_contours_within_2_percent(f_start, f_end):
    contour = gliding_f0(f_start, f_end, 1.2, SR, vibrato_st=0.5)
    x = voiced_signal(contour, SR, seed=f_start)
    track = track_pitch(x.astype(np.float64), SR, ProsodyConfig())
    truth = contour[np.clip(np.rint(track.times * SR).astype(int), 0, len(contour) - 1)]
    voiced = np.isfinite(track.f0)
    assert voiced.mean() > 0.9
    error = np.abs(track.f0[voiced] - truth[voiced]) / truth[voiced]
    assert np.median(error) < 0.02
    feats = extract_turn_prosody(x, SR, None)
    assert feats["f0_median_hz"] == pytest.approx(np.median(truth), rel=0.03)


def test_pitch_trackers_by_name():
    x = voiced_signal(gliding_f0(140, 180, 1.0, SR), SR)
    cc = extract_turn_prosody(x, SR, None, ProsodyConfig(pitch_tracker="praat_cc"))
    assert cc["f0_median_hz"] == pytest.approx(extract_turn_prosody(x, SR, None)["f0_median_hz"], rel=0.01)
    with pytest.raises(ConfigError, match="praat_ac"):
        extract_turn_prosody(x, SR, None, ProsodyConfig(pitch_tracker="crepe"))


def test_flat_pitch_has_less_spread_than_modulated_pitch():
    flat = extract_turn_prosody(voiced_signal(gliding_f0(150, 150, 2.0, SR), SR), SR, None)
    lively = extract_turn_prosody(
        voiced_signal(gliding_f0(150, 150, 2.0, SR, vibrato_st=3.0, vibrato_hz=2.0), SR), SR, None
    )
    assert flat["f0_sd_st"] < 0.3 and flat["f0_range_st"] < 1.0
    assert lively["f0_sd_st"] > 5 * flat["f0_sd_st"]
    assert lively["f0_range_st"] > 4.0  # ±3 st sine: 5-95 % range ≈ 5.9 st


def test_f0_slope_and_voiced_fraction():
    rising = extract_turn_prosody(voiced_signal(gliding_f0(100, 150, 2.0, SR), SR), SR, None)
    assert rising["f0_slope_st_per_s"] == pytest.approx(12 * math.log2(1.5) / 2.0, rel=0.1)
    falling = extract_turn_prosody(voiced_signal(gliding_f0(200, 150, 2.0, SR), SR), SR, None)
    assert falling["f0_slope_st_per_s"] < -1.5
    half = with_pauses([voiced_signal(gliding_f0(150, 150, 1.0, SR), SR)] * 2, [1.0])
    assert extract_turn_prosody(half, SR, None)["voiced_fraction"] == pytest.approx(2 / 3, abs=0.06)


# --- loudness ---------------------------------------------------------------------------------------


def test_loudness_level_and_variability():
    base = speech_like(10)
    quiet = extract_turn_prosody(base * 0.1, SR, None)
    loud = extract_turn_prosody(base, SR, None)
    # loudness is read against the audio's own loud speech: a 20 dB softer recording reads the same
    assert loud["intensity_mean_db"] == pytest.approx(quiet["intensity_mean_db"], abs=0.5)
    assert loud["intensity_sd_db"] == pytest.approx(quiet["intensity_sd_db"], abs=0.3)
    steady = extract_turn_prosody(voiced_signal(gliding_f0(150, 160, 2.0, SR), SR), SR, None)
    assert steady["intensity_sd_db"] < 1.0 < loud["intensity_sd_db"]
    assert steady["intensity_delta_sd_db"] < loud["intensity_delta_sd_db"]
    assert steady["intensity_range_db"] < loud["intensity_range_db"]


# --- timing -----------------------------------------------------------------------------------------


def test_inserted_pauses_are_counted_with_their_total():
    pieces = [speech_like(5, seed=0), speech_like(6, seed=1), speech_like(4, seed=2), speech_like(5, seed=3)]
    gaps = [0.4, 0.15, 0.8]  # the 0.15 s gap is below min_pause (0.25 s): not a pause
    x = with_pauses(pieces, gaps)
    feats = extract_turn_prosody(x, SR, None)
    assert feats["n_pauses"] == 2
    assert feats["pause_total_s"] == pytest.approx(1.2, abs=0.12)
    assert feats["pause_longest_s"] == pytest.approx(0.8, abs=0.08)
    assert feats["pause_ratio"] == pytest.approx(feats["pause_total_s"] / feats["duration_s"])
    fluent = extract_turn_prosody(np.concatenate(pieces), SR, None)
    assert fluent["n_pauses"] == 0 and fluent["pause_ratio"] == 0.0


def test_leading_and_trailing_silence_are_not_pauses():
    x = with_pauses([np.zeros(8000, np.float32) + 1e-4, speech_like(8), np.zeros(8000, np.float32) + 1e-4], [0.3, 0.3])
    feats = extract_turn_prosody(x, SR, None)
    assert feats["n_pauses"] == 0


def test_syllable_nuclei_give_speech_and_articulation_rate():
    fast = extract_turn_prosody(speech_like(16, syllable_s=0.2), SR, None)  # 5 syllables/s
    slow = extract_turn_prosody(speech_like(10, syllable_s=0.32), SR, None)  # 3.1 syllables/s
    assert fast["speech_rate_syl_per_s"] == pytest.approx(5.0, rel=0.15)
    assert slow["speech_rate_syl_per_s"] == pytest.approx(1 / 0.32, rel=0.15)
    gappy = extract_turn_prosody(with_pauses([speech_like(8), speech_like(8, seed=4)], [1.0]), SR, None)
    # pauses lower the speech rate but not the articulation rate
    assert gappy["speech_rate_syl_per_s"] < 0.85 * gappy["articulation_rate_syl_per_s"]
    assert gappy["articulation_rate_syl_per_s"] == pytest.approx(5.0, rel=0.2)


def test_response_latency_comes_from_the_turn():
    x = speech_like(6)
    assert extract_turn_prosody(x, SR, turn(0.0, len(x) / SR, latency=1.7))["response_latency_s"] == 1.7
    assert math.isnan(extract_turn_prosody(x, SR, turn(0.0, len(x) / SR, latency=None))["response_latency_s"])


# --- voice quality and spectrum ---------------------------------------------------------------------


def _jittered_f0(mean_hz: float, seconds: float, jitter: float, seed: int = 0) -> np.ndarray:
    """Per-sample F0 constant within each period, periods varying randomly by ``jitter`` (relative sd)."""
    rng = np.random.default_rng(seed)
    out = []
    while sum(len(p) for p in out) < seconds * SR:
        f = mean_hz * (1 + jitter * rng.standard_normal())
        out.append(np.full(int(round(SR / f)), f))
    return np.concatenate(out)[: int(seconds * SR)]


def test_jitter_shimmer_and_hnr_follow_the_signal():
    clean = extract_turn_prosody(voiced_signal(_jittered_f0(140, 1.5, 0.0), SR, snr_db=40), SR, None)
    shaky = extract_turn_prosody(voiced_signal(_jittered_f0(140, 1.5, 0.03), SR, snr_db=40), SR, None)
    noisy = extract_turn_prosody(voiced_signal(_jittered_f0(140, 1.5, 0.0), SR, snr_db=5), SR, None)
    assert clean["jitter_local"] < 0.005 < shaky["jitter_local"]
    assert noisy["shimmer_local"] > clean["shimmer_local"]
    assert clean["hnr_db"] > noisy["hnr_db"] + 10
    lean = extract_turn_prosody(
        voiced_signal(_jittered_f0(140, 1.0, 0.0), SR), SR, None, ProsodyConfig(voice_quality=False)
    )
    assert "jitter_local" not in lean


def test_spectral_tilt_moves_slope_alpha_and_hammarberg():
    contour = gliding_f0(150, 170, 1.5, SR)
    bright = extract_turn_prosody(voiced_signal(contour, SR, tilt=0.6), SR, None)
    dull = extract_turn_prosody(voiced_signal(contour, SR, tilt=2.0), SR, None)
    assert dull["spectral_slope_db_per_khz"] < bright["spectral_slope_db_per_khz"]
    assert dull["alpha_ratio_db"] < bright["alpha_ratio_db"]
    assert dull["hammarberg_db"] > bright["hammarberg_db"]
    mfcc = [bright[f"mfcc_{i:02d}_mean"] for i in range(1, 14)]
    assert all(np.isfinite(mfcc)) and mfcc != [dull[f"mfcc_{i:02d}_mean"] for i in range(1, 14)]


# --- whole interviews, flags, errors ----------------------------------------------------------------


def _interview() -> tuple[np.ndarray, list[Turn]]:
    """6 s: speech 0.5–2.5 s, a 0.1 s blip at 3.0 s, digital silence 3.5–4.5 s, noise 4.8–5.8 s."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(6 * SR) * 1e-4).astype(np.float32)
    x[int(0.5 * SR) : int(2.5 * SR)] = speech_like(10)
    x[int(3.0 * SR) : int(3.1 * SR)] = speech_like(1, syllable_s=0.1)
    x[int(3.5 * SR) : int(4.5 * SR)] = 0.0
    x[int(4.8 * SR) : int(5.8 * SR)] = (rng.standard_normal(SR) * 0.1).astype(np.float32)
    turns = [
        Turn("iv1", "speech", 0, 0.5, 2.0, response_latency=1.2),
        Turn("iv1", "blip", 1, 3.0, 0.1),
        Turn("iv1", "silent", 2, 3.5, 1.0),
        Turn("iv1", "noise", 3, 4.8, 1.0),
    ]
    return x, turns


def test_extract_prosody_rows_columns_and_flags():
    x, turns = _interview()
    df = extract_prosody(x, SR, turns)
    assert list(df.columns) == ["turn_id", *PROSODY_FEATURES, *PROSODY_FLAGS]
    assert list(df.turn_id) == ["speech", "blip", "silent", "noise"]
    rows = df.set_index("turn_id")
    assert rows.loc["speech", "response_latency_s"] == 1.2 and not rows.loc["speech", PROSODY_FLAGS].any()
    assert rows.loc["speech", "f0_median_hz"] == pytest.approx(157, rel=0.05)
    assert rows.loc["blip", "flag_too_short"] and rows.loc["blip", "duration_s"] == pytest.approx(0.1)
    assert rows.loc[["blip", "silent"], "f0_mean_hz"].isna().all()
    assert rows.loc["silent", "flag_silent"] and rows.loc["silent", "flag_unvoiced"]
    assert rows.loc[["blip", "silent"], "intensity_mean_db"].isna().all()
    noise = rows.loc["noise"]
    assert noise["flag_unvoiced"] and not noise["flag_silent"] and not noise["flag_too_short"]
    assert math.isnan(noise["f0_median_hz"]) and math.isnan(noise["speech_rate_syl_per_s"])
    assert math.isnan(noise["jitter_local"]) and math.isnan(noise["mfcc_01_mean"])
    assert np.isfinite(noise["intensity_mean_db"])
    assert df[list(PROSODY_FLAGS)].dtypes.eq(bool).all()


def test_offset_span_gives_the_same_features_as_the_whole_recording():
    x, turns = _interview()
    whole = extract_prosody(x, SR, turns[:1])
    part = extract_prosody(x[SR // 4 : 3 * SR], SR, turns[:1], offset=0.25)
    pd.testing.assert_frame_equal(whole, part, rtol=1e-6)
    alone = extract_turn_prosody(x[int(0.5 * SR) : int(2.5 * SR)], SR, turns[0])
    assert alone["f0_median_hz"] == pytest.approx(whole.loc[0, "f0_median_hz"], rel=0.01)
    assert extract_prosody(x, SR, []).columns[0] == "turn_id"


def test_non_finite_audio_raises_a_clear_error():
    x, turns = _interview()
    x[int(1.0 * SR)] = np.nan
    with pytest.raises(FeatureError, match=r"interview 'iv1', turn 'speech'.*non-finite"):
        extract_prosody(x, SR, turns)
    extract_prosody(x, SR, turns[1:])  # NaN outside the turns that are measured does no harm
    with pytest.raises(FeatureError, match="non-finite"):
        extract_turn_prosody(np.full(SR, np.inf, np.float32), SR, None)


def test_bad_shapes_and_turns_outside_the_audio_raise():
    x, turns = _interview()
    with pytest.raises(FeatureError, match="mono"):
        extract_prosody(np.stack([x, x]), SR, turns)
    late = Turn("iv1", "late", 0, 5.5, 2.0)
    with pytest.raises(FeatureError, match="'late'.*outside the audio"):
        extract_prosody(x, SR, [late])


def test_int16_audio_is_scaled():
    x = speech_like(8)
    as_int = np.round(x * 32767).astype(np.int16)
    a, b = extract_turn_prosody(x, SR, None), extract_turn_prosody(as_int, SR, None)
    assert b["intensity_mean_db"] == pytest.approx(a["intensity_mean_db"], abs=0.1)


# --- the real synthetic corpus ----------------------------------------------------------------------


def test_synthetic_corpus_turns(synthetic_corpus, tmp_path):
    from interview_mil.corpora import prepare_synthetic
    from interview_mil.data.audio import load_audio
    from interview_mil.data.manifest import read_manifest
    from interview_mil.segmentation import segment_interview

    interviews = read_manifest(prepare_synthetic(synthetic_corpus, tmp_path))
    truth = pd.read_csv(synthetic_corpus / "ground_truth" / "turns.csv")
    frames = []
    for interview in interviews:
        turns = segment_interview(interview).turns
        df = extract_prosody(load_audio(interview.audio_path), SR, turns)
        gt = truth[truth.Participant_ID == int(interview.interview_id)]
        # each segmented turn takes the marker strength of the ground-truth answer it overlaps most; the
        # check below reads depressed speakers' markers (>= 0.6; a control's odd flat answer is milder)
        strength = [
            float(
                gt.marker_strength.iloc[np.argmax(np.minimum(gt.stop_time, t.end) - np.maximum(gt.start_time, t.start))]
            )
            for t in turns
        ]
        df["marker"] = [int(v >= 0.6) if v > 0 else 0 for v in strength]
        df = df[[v == 0 or v >= 0.6 for v in strength]]
        df["interview_id"] = interview.interview_id
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    assert len(df) >= 10
    ok = ~df.flag_too_short & ~df.flag_unvoiced
    assert ok.mean() > 0.9
    assert df.loc[ok, "f0_median_hz"].between(70, 400).all()
    assert df.loc[ok, "speech_rate_syl_per_s"].between(0.5, 8).all()
    assert (df.response_latency_s.dropna() >= 0).all()
    # each marker turn against its own speaker's neutral turns: flatter, quieter and more even, slower,
    # at least as paused, later — on at least five of the six measures (a turn with pauses inserted can read
    # less even in loudness), and each measure on at least half of the marker turns
    checked, held = 0, []
    for _, own in df[ok].groupby("interview_id"):
        neutral = own[own.marker == 0].median(numeric_only=True)
        for _, marker in own[own.marker == 1].iterrows():
            checked += 1
            held.append(
                [
                    marker.f0_range_st < neutral.f0_range_st,
                    marker.intensity_sd_db < neutral.intensity_sd_db,
                    marker.intensity_mean_db < neutral.intensity_mean_db,
                    marker.speech_rate_syl_per_s < neutral.speech_rate_syl_per_s,
                    marker.pause_ratio >= neutral.pause_ratio,
                    marker.response_latency_s > neutral.response_latency_s,
                ]
            )
    held = np.asarray(held)
    assert (held.sum(axis=1) >= 5).all(), held
    assert (held.mean(axis=0) >= 0.5).all(), held
    assert checked >= 2
