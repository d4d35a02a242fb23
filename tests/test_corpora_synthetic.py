import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from interview_mil.corpora.synthetic import SynthConfig, generate_corpus
from interview_mil.corpora.synthetic.plan import assign_splits, draw_labels, plan_interview
from interview_mil.corpora.synthetic.prepare import prepare_synthetic
from interview_mil.corpora.synthetic.voices import frame_db
from interview_mil.data import load_audio, read_manifest

PHQ_COLS = (
    "Participant_ID,PHQ8_Binary,PHQ8_Score,Gender,PHQ8_NoInterest,PHQ8_Depressed,PHQ8_Sleep,"
    "PHQ8_Tired,PHQ8_Appetite,PHQ8_Failure,PHQ8_Concentrating,PHQ8_Moving"
)


def _ids(corpus):
    return sorted(p.name[:-2] for p in corpus.glob("*_P"))


def test_daic_woz_layout(synthetic_corpus):
    ids = _ids(synthetic_corpus)
    assert ids == ["1000", "1001", "1002", "1003"]
    for pid in ids:
        info = sf.info(synthetic_corpus / f"{pid}_P" / f"{pid}_AUDIO.wav")
        # each interview is recorded under its own conditions (render.draw_recording)
        assert info.samplerate in (8000, 16_000, 44_100) and info.channels in (1, 2) and info.subtype == "PCM_16"
        lines = (synthetic_corpus / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv").read_text().splitlines()
        assert lines[0] == "start_time\tstop_time\tspeaker\tvalue"
        assert {line.split("\t")[2] for line in lines[1:]} == {"Ellie", "Participant"}
    for split in ("train", "dev"):
        header = (synthetic_corpus / f"{split}_split_Depression_AVEC2017.csv").read_text().splitlines()[0]
        assert header == PHQ_COLS
    test_header = (synthetic_corpus / "test_split_Depression_AVEC2017.csv").read_text().splitlines()[0]
    assert test_header == "participant_ID,Gender"
    for name in ("labels.csv", "turns.csv", "segments.csv", "corpus.json"):
        assert (synthetic_corpus / "ground_truth" / name).exists()


def _level(x):
    """Active level (dB) of a clip: mean power of its loudest half of 10 ms frames."""
    levels = np.sort(frame_db(x, 16_000))
    return 10 * np.log10(np.mean(10 ** (levels[len(levels) // 2 :] / 10)))


def test_transcript_times_match_the_audio(synthetic_corpus):
    truth = pd.read_csv(synthetic_corpus / "ground_truth" / "turns.csv")
    for pid in _ids(synthetic_corpus):
        wav = synthetic_corpus / f"{pid}_P" / f"{pid}_AUDIO.wav"
        audio = load_audio(wav)
        tr = pd.read_csv(synthetic_corpus / f"{pid}_P" / f"{pid}_TRANSCRIPT.csv", sep="\t")
        noise = np.percentile(frame_db(audio, 16_000), 10)
        part = tr[tr.speaker == "Participant"]
        ellie = tr[tr.speaker == "Ellie"]
        part_levels = [_level(audio[int(r.start_time * 16000) : int(r.stop_time * 16000)]) for r in part.itertuples()]
        ellie_levels = [_level(audio[int(r.start_time * 16000) : int(r.stop_time * 16000)]) for r in ellie.itertuples()]
        # every Participant span holds speech far above the noise floor
        assert min(part_levels) > noise + 30
        # interviewer lines are audible bleed: above the noise, well below the participant
        assert noise + 10 < max(ellie_levels) < min(part_levels) - 8
        # outside the participant's turns there is only silence or bleed
        mask = np.ones(len(audio), dtype=bool)
        for r in truth[truth.Participant_ID == int(pid)].itertuples():
            mask[int(r.start_time * 16000) : int(r.stop_time * 16000)] = False
        outside = np.sort(frame_db(audio[mask], 16_000))
        # (marker turns are up to ~7.5 dB quieter than the speaker's neutral turns, by design)
        assert outside[-10] < min(part_levels) - 6
        # ground-truth turns start at the first and end at the last line of each answer
        starts = set(np.round(truth[truth.Participant_ID == int(pid)].start_time, 3))
        assert starts <= set(np.round(part.start_time, 3))


def test_labels_markers_and_splits(synthetic_corpus):
    labels = pd.read_csv(synthetic_corpus / "ground_truth" / "labels.csv")
    turns = pd.read_csv(synthetic_corpus / "ground_truth" / "turns.csv")
    assert labels.PHQ8_Binary.sum() == 2
    assert ((labels.PHQ8_Score >= 10) == (labels.PHQ8_Binary == 1)).all()
    per = turns.groupby("Participant_ID").marker.agg(["sum", "mean"])
    for row in labels.itertuples():
        n_markers, frac = per.loc[row.Participant_ID]
        if row.PHQ8_Binary:
            assert n_markers >= 1 and frac <= 0.5
        else:
            assert n_markers <= 1
    marker = turns[turns.marker == 1]
    neutral = turns[(turns.marker == 0) & turns.Participant_ID.isin(marker.Participant_ID)]
    assert marker.response_latency.mean() > neutral.response_latency.mean()


def test_splits_are_stratified_and_disjoint():
    cfg = SynthConfig(n_interviews=20, seed=5)
    labels = draw_labels(cfg)
    splits = assign_splits(labels, cfg)
    assert sum(labels) == 8
    for split in ("train", "dev", "test"):
        ys = {y for y, s in zip(labels, splits) if s == split}
        assert ys == {0, 1}


def test_plans_depend_only_on_seed_and_index():
    cfg = SynthConfig(seed=11)
    assert plan_interview(3, 1, cfg) == plan_interview(3, 1, cfg)
    assert plan_interview(3, 1, cfg) != plan_interview(4, 1, cfg)
    plan = plan_interview(2, 0, cfg)
    sentences = [s for a in plan.answers for s in a.sentences]
    assert len(sentences) == len(set(sentences))  # a speaker never repeats a sentence


def test_generation_is_reproducible(tmp_path):
    cfg = SynthConfig(n_interviews=1, seed=2, target_duration_s=8.0)
    generate_corpus(tmp_path / "a", cfg, progress=False)
    generate_corpus(tmp_path / "b", cfg, progress=False)
    a = (tmp_path / "a" / "1000_P" / "1000_AUDIO.wav").read_bytes()
    b = (tmp_path / "b" / "1000_P" / "1000_AUDIO.wav").read_bytes()
    assert a == b  # bit-exact: piper's and Praat's random generators are both seeded


def test_prepare_goes_through_the_daic_loader(synthetic_corpus, tmp_path):
    manifest = read_manifest(prepare_synthetic(synthetic_corpus, tmp_path))
    assert [i.interview_id for i in manifest] == _ids(synthetic_corpus)
    assert all(i.label is not None and i.transcript_path and i.duration > 20 for i in manifest)
    assert {i.corpus for i in manifest} == {"synthetic"}


def test_bad_settings_and_missing_piper(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="label_strength"):
        SynthConfig(label_strength=2.0)
    from interview_mil.cli.main import main

    assert main(["synth", "--out", str(tmp_path), "--n-interviews", "0"]) == 2
    monkeypatch.setitem(sys.modules, "piper", None)
    from interview_mil.corpora.synthetic.voices import SynthDependencyError

    with pytest.raises(SynthDependencyError, match=r"interview-mil\[synth\]"):
        generate_corpus(tmp_path / "x", SynthConfig(n_interviews=1, target_duration_s=10), progress=False)


def test_marker_strength_varies_by_participant_and_controls_are_milder():
    cfg = SynthConfig(n_interviews=60, seed=4, label_strength=0.7, control_marker_prob=0.5, target_duration_s=80.0)
    plans = [plan_interview(i, y, cfg) for i, y in enumerate(draw_labels(cfg))]
    dep = [max(a.strength for a in p.answers) for p in plans if p.label == 1]
    ctl = [max(a.strength for a in p.answers) for p in plans if p.label == 0 and any(a.marker for a in p.answers)]
    assert dep and ctl
    # one strength per participant, inside its declared share of label_strength
    for p in plans:
        marked = {round(a.strength, 12) for a in p.answers if a.marker}
        assert len(marked) <= 1 and all((a.strength > 0) == a.marker for a in p.answers)
    assert 0.6 * 0.7 - 1e-9 <= min(dep) and max(dep) <= 0.7 + 1e-9 and max(dep) - min(dep) > 0.1
    assert 0.25 * 0.7 - 1e-9 <= min(ctl) and max(ctl) <= 0.6 * 0.7 + 1e-9
    # strengths come from their own random stream: who speaks, what is asked and which turns are marked
    # do not move with them
    other = SynthConfig(**{**cfg.__dict__, "marker_strength": (1.0, 1.0)})
    for i, y in enumerate(draw_labels(cfg)[:10]):
        a, b = plan_interview(i, y, cfg), plan_interview(i, y, other)
        assert [x.marker for x in a.answers] == [x.marker for x in b.answers]
        assert [x.question for x in a.answers] == [x.question for x in b.answers]
        assert a.participant.gender == b.participant.gender and a.phq8_score == b.phq8_score
    with pytest.raises(ValueError, match="marker_strength"):
        SynthConfig(marker_strength=(0.8, 0.2))
