"""The real-voice corpus: markers planted into LibriSpeech phrases move what a listener (Praat, webrtcvad)
measures, in the planted direction and more with more strength; a small corpus has the DAIC-WOZ layout, is
reproducible to the byte and plants nothing in its no-signal cell; speaker sets give disjoint voices.
Skips where ../shared/data/librispeech is absent."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import parselmouth
import pytest
import soundfile as sf
from conftest import shared_path
from scipy.signal import welch

from interview_mil.corpora import PREPARERS
from interview_mil.corpora.realvoice import (
    REALVOICE_VERSION,
    RealVoiceConfig,
    generate_realvoice_corpus,
    markers,
    phrases_by_speaker,
)
from interview_mil.corpora.realvoice.phrases import all_speakers, speech_frames
from interview_mil.corpora.realvoice.plan import plan_corpus
from interview_mil.data import read_manifest
from interview_mil.errors import ConfigError

SR = 16_000
SMALL = {"n_interviews": 6, "answers": (3, 5), "seed": 5, "depressed_fraction": 0.5}


@pytest.fixture(scope="module")
def speech_dir() -> str:
    return str(shared_path("librispeech"))


@pytest.fixture(scope="module")
def phrase_ids(speech_dir) -> tuple[dict[str, list[str]], list[str]]:
    found = phrases_by_speaker(speech_dir)
    return {s: [p.phrase_id for p in v] for s, v in found.items()}, all_speakers(speech_dir)


@pytest.fixture(scope="module")
def clean_phrase(speech_dir) -> np.ndarray:
    """A 2.5-5 s phrase of a clean, well-voiced recording (speaker 3080)."""
    return next(p.samples for p in phrases_by_speaker(speech_dir, speakers=["3080"])["3080"] if 2.5 < p.duration < 5)


@pytest.fixture(scope="module")
def corpus(speech_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("realvoice")
    generate_realvoice_corpus(out, RealVoiceConfig(speech_dir=speech_dir, **SMALL), progress=False)
    return out


# --- what each marker does to one real phrase, as measured -----------------------------------------------


def _sound(x):
    return parselmouth.Sound(np.asarray(x, dtype=np.float64), sampling_frequency=SR)


def _semitones(x):
    f0 = _sound(x).to_pitch(0.01, 75, 600).selected_array["frequency"]
    return 12 * np.log2(f0[f0 > 0])


def f0_spread(x, ref):
    q75, q25 = np.percentile(_semitones(x), [75, 25])
    return (q75 - q25) / 1.349  # robust SD (st): an octave error does not dominate it


def f0_median(x, ref):
    return float(np.median(_semitones(x)))


def duration(x, ref):
    return len(x) / SR


def rms_db(x, ref):
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def hnr_db(x, ref):
    """Mean HNR over the frames voiced in the original (noise can make more frames count as voiced)."""
    harmonicity = _sound(x).to_harmonicity_cc(0.01, 75, 0.1, 1.0)
    pitch = _sound(ref).to_pitch(0.01, 75, 600)
    voiced = np.array([np.isfinite(pitch.get_value_at_time(t)) for t in harmonicity.xs()])
    values = harmonicity.values[0]
    return float(values[voiced & (values > -200)].mean())


def high_over_low_db(x, ref):
    f, p = welch(x, SR, nperseg=1024)
    return 10 * np.log10(p[f > 2000].sum() / p[f < 2000].sum())


def silent_seconds(x, ref):
    return float((~speech_frames(x)).sum()) * 0.01


CASES = [  # marker, measure, direction, smallest change at s=1
    ("pitch_flat", f0_spread, -1, 0.4 * 1.0),  # at least 40 % of the spread gone (70 % planted)
    ("slow", duration, +1, 0.3),  # 35 % longer: checked relative below
    ("soft", rms_db, -1, 5.5),
    ("f0_level", f0_median, -1, 2.5),
    ("breathy", hnr_db, -1, 3.0),
    ("tilt", high_over_low_db, -1, 6.0),
    ("pauses", silent_seconds, +1, 1.5),  # 2.4 s inserted; webrtcvad must hear most of it as silence
]


@pytest.mark.parametrize(("name", "measure", "sign", "at_full"), CASES, ids=[c[0] for c in CASES])
def test_marker_moves_its_measure_more_with_strength(clean_phrase, name, measure, sign, at_full):
    plant = getattr(markers, name)
    x = clean_phrase
    assert plant(x, 0.0) is x  # strength 0: the samples themselves, untouched
    values = [measure(plant(x, s), x) for s in (0.0, 0.5, 1.0)]
    steps = sign * np.diff(values)
    assert np.all(steps > 0), f"{name}: {values} does not move {'up' if sign > 0 else 'down'} with strength"
    change = sign * (values[2] - values[0])
    if name == "pitch_flat":
        change /= values[0]
    if name == "slow":
        change /= values[0]
    assert change >= at_full, f"{name}: change {change:.3f} at s=1 is under {at_full}"


def test_psola_markers_keep_what_they_do_not_plant(clean_phrase):
    x = clean_phrase
    flat = markers.pitch_flat(x, 1.0)
    assert abs(len(flat) - len(x)) < 0.01 * len(x)  # pitch only: duration kept
    assert abs(f0_median(markers.slow(x, 1.0), x) - f0_median(x, x)) < 0.5  # duration only: pitch kept
    assert abs(rms_db(markers.tilt(x, 1.0), x) - rms_db(x, x)) < 3.0  # a shelf, not a gain
    combined = markers.apply_markers(x, {"pitch_flat": 1.0, "slow": 1.0, "latency": 1.0, "pauses": 1.0}, seed=1)
    assert combined.extra_latency_s == pytest.approx(1.5)
    assert len(combined.pauses_s) == 3 and len(combined.samples) > 1.35 * len(x) + 2.0 * SR
    with pytest.raises(ValueError, match="strength"):
        markers.soft(x, 1.5)


# --- a small corpus -------------------------------------------------------------------------------------


def _transcript(corpus, pid):
    return pd.read_csv(corpus / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv", sep="\t")


def test_layout_the_daic_loader_reads(corpus, tmp_path):
    labels = pd.read_csv(corpus / "ground_truth" / "labels.csv")
    turns = pd.read_csv(corpus / "ground_truth" / "turns.csv")
    assert len(labels) == 6 and set(labels.generator_version) == {REALVOICE_VERSION}
    assert {
        "Participant_ID",
        "turn_index",
        "start_time",
        "stop_time",
        "marker",
        "marker_strength",
        "speaker_id",
    } <= set(turns.columns)
    for row in labels.itertuples():
        pid = row.Participant_ID
        info = sf.info(corpus / f"{pid}_P" / f"{pid}_AUDIO.wav")
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
        lines = _transcript(corpus, pid)
        assert list(lines.columns) == ["start_time", "stop_time", "speaker", "value"]
        assert set(lines.speaker) == {"Ellie", "Participant"} and lines.stop_time.max() <= info.duration
        answers = lines[lines.speaker == "Participant"]
        mine = turns[turns.Participant_ID == pid]
        assert 3 <= len(answers) == len(mine) == row.n_answers <= 5
        assert np.allclose(answers.start_time, mine.start_time, atol=2e-3)
        assert (mine.marker_strength[mine.marker == 0] == 0).all()
        assert (row.PHQ8_Score >= 10) == bool(row.PHQ8_Binary)
    audio, _ = sf.read(corpus / f"{labels.Participant_ID[0]}_P" / f"{labels.Participant_ID[0]}_AUDIO.wav")
    lead_in = audio[: SR // 2]  # before the first question: the noise floor, not digital zero
    assert np.mean(lead_in == 0) < 0.1 and 10 ** (-75 / 20) < np.std(lead_in) < 10 ** (-55 / 20)
    summary = json.loads((corpus / "ground_truth" / "corpus.json").read_text())
    assert summary["generator_version"] == REALVOICE_VERSION and summary["config"]["answers"] == [3, 5]
    assert {v["speaker"] for v in summary["interviews"].values()} == set(labels.speaker_id.astype(str))
    header = (corpus / "test_split_Depression_AVEC2017.csv").read_text().splitlines()[0]
    assert header == "participant_ID,Gender"
    manifest = read_manifest(prepare(corpus, tmp_path))
    assert {i.corpus for i in manifest} == {"realvoice"} and all(i.label is not None for i in manifest)
    assert {i.participant_id for i in manifest} == {f"ls{s}" for s in labels.speaker_id}


def prepare(corpus, out):
    spec = dataclasses.make_dataclass(
        "Spec", [("name", str), ("root", str), ("labels", object), ("options", dict), ("synth", dict)]
    )("realvoice", str(corpus), None, {}, {})
    return PREPARERS.get("realvoice")(spec, out, False)


def test_marker_answers_come_later_than_the_speakers_own(corpus):
    """The latency marker, read from the transcript the way the segmenter reads it."""
    turns = pd.read_csv(corpus / "ground_truth" / "turns.csv")
    checked = 0
    for pid, mine in turns.groupby("Participant_ID"):
        lines = _transcript(corpus, pid)
        stops = lines.stop_time.shift(1)[lines.speaker == "Participant"].to_numpy()
        latency = lines.start_time[lines.speaker == "Participant"].to_numpy() - stops
        marked = mine.marker.to_numpy() == 1
        if marked.any() and (~marked).any() and (mine.marker_strength[marked] > 0.3).all():
            assert latency[marked].min() > latency[~marked].max()
            checked += 1
    assert checked >= 1


def test_same_seed_same_bytes_and_no_signal_cell(corpus, speech_dir, tmp_path):
    again = tmp_path / "again"
    generate_realvoice_corpus(again, RealVoiceConfig(speech_dir=speech_dir, **SMALL), progress=False)
    files = sorted(p.relative_to(corpus) for p in corpus.rglob("*") if p.is_file() and p.name != "corpus.json")
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file() and p.name != "corpus.json")
    for name in files:
        assert (corpus / name).read_bytes() == (again / name).read_bytes(), name
    none = tmp_path / "none"
    summary = generate_realvoice_corpus(
        none, RealVoiceConfig(speech_dir=speech_dir, marker_mode="none", **SMALL), progress=False
    )
    turns = pd.read_csv(none / "ground_truth" / "turns.csv")
    labels = pd.read_csv(none / "ground_truth" / "labels.csv")
    assert (turns.marker == 0).all() and (turns.applied_strength == 0).all() and (turns.n_pauses == 0).all()
    assert set(labels.PHQ8_Binary) == {0, 1} and summary["planted_ceiling_auc"] == 0.5
    # the labels are the local cell's: the no-signal cell differs only in what was planted
    local = pd.read_csv(corpus / "ground_truth" / "labels.csv")
    assert labels.PHQ8_Binary.tolist() == local.PHQ8_Binary.tolist()
    assert labels.speaker_id.tolist() == local.speaker_id.tolist()


def test_missing_speech_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="speech_dir"):
        generate_realvoice_corpus(tmp_path / "c", RealVoiceConfig(speech_dir=str(tmp_path / "nowhere")))


# --- plans (no audio) -------------------------------------------------------------------------------------


def test_speaker_sets_give_disjoint_voices(phrase_ids):
    ids, every = phrase_ids
    even = plan_corpus(ids, every, RealVoiceConfig(speakers="even"))
    odd = plan_corpus(ids, every, RealVoiceConfig(speakers="odd"))
    voices = [{p.speaker for p in plans} | {p.interviewer for p in plans} for plans in (even, odd)]
    assert voices[0] and voices[1] and not voices[0] & voices[1]
    assert len(plan_corpus(ids, every, RealVoiceConfig())) == len(even) + len(odd)


def test_each_knob_moves_only_its_own_draws(phrase_ids):
    ids, every = phrase_ids
    base = plan_corpus(ids, every, RealVoiceConfig(interviews_per_speaker=3, marker_fraction=(0.3, 0.6)))
    strong = plan_corpus(
        ids, every, RealVoiceConfig(interviews_per_speaker=3, marker_fraction=(0.3, 0.6), marker_strength=(0.9, 1.0))
    )
    more = plan_corpus(
        ids, every, RealVoiceConfig(interviews_per_speaker=3, marker_fraction=(0.3, 0.6), depressed_fraction=0.6)
    )
    for other in (strong, more):
        assert [[a.phrase_id for a in p.answers] for p in other] == [[a.phrase_id for a in p.answers] for p in base]
    assert [p.label for p in strong] == [p.label for p in base]
    assert [[a.marker for a in p.answers] for p in strong] == [[a.marker for a in p.answers] for p in base]
    assert all(s.participant_strength >= b.participant_strength for s, b in zip(strong, base) if b.label)
    assert {p.speaker for p in base if p.label} < {p.speaker for p in more if p.label}  # nested as the share grows
    by_speaker: dict[str, set] = {}
    for p in base:  # a speaker's interviews share its label and use distinct phrases
        by_speaker.setdefault(p.speaker, set()).add((p.label, p.split))
        assert 3 <= len(p.answers) <= 20
    assert max(len(v) for v in by_speaker.values()) == 1
    assert len(base) > len(by_speaker)
    used = [a.phrase_id for p in base for a in p.answers]
    assert len(used) == len(set(used))
    depressed = [p for p in base if p.label]
    assert all(10 <= p.phq8_score <= 24 for p in depressed) and all(p.phq8_score <= 9 for p in base if not p.label)
    assert max(p.marker_fraction for p in depressed) > 0.45  # the marker share reaches past 0.45


# --- what the project's own prosody features read of each marker -----------------------------------------

FEATURE_CASES = [  # marker, turn feature the model reads, direction, smallest change at s=1
    ("pitch_flat", "f0_sd_st", -1, 0.5),
    ("f0_level", "f0_median_hz", -1, 10.0),
    ("slow", "articulation_rate_syl_per_s", -1, 0.4),
    ("soft", "intensity_mean_db", -1, 3.0),  # 6 dB planted; the reference level pools both answers
    ("pauses", "pause_ratio", +1, 0.15),
    ("breathy", "hnr_db", -1, 2.0),
    ("tilt", "spectral_slope_db_per_khz", -1, 1.0),
]


@pytest.fixture(scope="module")
def clean_phrases(speech_dir) -> list[np.ndarray]:
    """Three 2.5-5 s phrases of the clean, well-voiced speaker 3080."""
    found = [p.samples for p in phrases_by_speaker(speech_dir, speakers=["3080"])["3080"] if 2.5 < p.duration < 5]
    assert len(found) >= 3
    return found[:3]


@pytest.mark.parametrize(("name", "column", "sign", "at_full"), FEATURE_CASES, ids=[c[0] for c in FEATURE_CASES])
def test_prosody_features_read_each_marker_in_its_direction_at_every_strength(
    clean_phrases, name, column, sign, at_full
):
    """The turn features the model reads move with every planted strength, in the planted direction, and by
    a size a clinician would notice at full strength (mean over three answers: on one 4-s answer the syllable
    count alone is uncertain by one syllable, 0.25 syllables/s). Each answer is measured as the second turn of
    a two-answer recording whose first answer is the same phrase unmarked (loudness is read against the
    speaker's own speech, so a quieter answer is quieter than the other one). Every answer of the corpus goes
    through one PSOLA resynthesis (``resynthesize_all``), so strength 0 is the resynthesised phrase here too."""
    from interview_mil.data.records import Turn
    from interview_mil.features.prosody import extract_prosody

    plant = getattr(markers, name)
    gap = np.full(SR, 1e-4, np.float32)
    values = np.zeros((len(clean_phrases), 5))
    for i, phrase in enumerate(clean_phrases):
        neutral = markers.psola(phrase)
        for k, s in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
            answer = np.asarray(neutral if s == 0 else plant(phrase, s), dtype=np.float32)
            audio = np.concatenate([gap, phrase.astype(np.float32), gap, answer, gap])
            first = Turn("rv", "a", 0, 1.0, len(phrase) / SR)
            second = Turn("rv", "b", 1, 2.0 + len(phrase) / SR, len(answer) / SR)
            values[i, k] = float(extract_prosody(audio, SR, [first, second])[column].iloc[1])
    mean = values.mean(axis=0)
    steps = sign * np.diff(mean)
    assert np.all(steps > 0), f"{name}: {column} {np.round(mean, 3)} does not move {sign:+d} at every strength"
    assert sign * (mean[-1] - mean[0]) >= at_full, f"{name}: {column} {np.round(mean, 3)}"
