"""The diarization benchmark's recording builder (``benchmarks/two_speaker.py``) and metric helpers
(``benchmarks/diarization.py``): the reference RTTM says where the voices are, and the metrics give known
values on hand-made annotations."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import soundfile as sf
from conftest import shared_path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def modules():
    """(two_speaker, diarization), imported from benchmarks/ without leaving its thread settings behind."""
    with mock.patch.dict(os.environ), mock.patch.object(sys, "path", [str(BENCHMARKS), *sys.path]):
        import diarization
        import two_speaker
    return two_speaker, diarization


@pytest.fixture(scope="module")
def quick_set(modules, tmp_path_factory):
    two_speaker, _ = modules
    speech = shared_path("librispeech")
    out = tmp_path_factory.mktemp("two_speaker")
    return two_speaker.build_recordings(out, "quick", seed=0, speech_dir=speech)


def frame_db(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(centre times s, RMS dBFS) of the 10 ms frames of a WAV file."""
    x, sr = sf.read(path, dtype="float64")
    hop = sr // 100
    n = len(x) // hop
    return (np.arange(n) + 0.5) / 100, 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)


def test_voices_sit_where_the_reference_rttm_puts_them(modules, quick_set):
    _, diarization = modules
    for rec in quick_set:
        t, level = frame_db(rec.path)
        ref, roles = diarization.read_reference(rec.rttm)
        assert roles == {"participant": "participant", "interviewer": "interviewer"}
        inside, near = np.zeros(t.size, bool), np.zeros(t.size, bool)
        for a, b in ref.participant + ref.interviewer:
            inside |= (t > a + 0.02) & (t < b - 0.02)
            near |= (t > a - 0.1) & (t < b + 0.1)
        floor = np.median(level[~near])
        assert np.mean(level[inside] > floor + 15) > 0.65, rec.uri  # speech (short pauses inside phrases aside)
        assert level[~near].max() < floor + 6, rec.uri  # nothing but the noise floor outside the reference
        assert len(ref.answers) == rec.n_answers  # one answer per question; backchannels do not split one


def test_conditions_are_in_the_files(modules, quick_set):
    two_speaker, diarization = modules
    for rec in quick_set:
        cond = rec.condition
        info = sf.info(rec.path)
        assert info.samplerate == (8000 if cond.channel == "telephone" else 16000) == rec.sample_rate
        assert info.subtype == "PCM_16" and info.channels == 1
        assert abs(info.duration - rec.duration) < 1e-3
        assert cond.minutes * 60 <= rec.duration < cond.minutes * 60 + 30
        ref, _ = diarization.read_reference(rec.rttm)
        overlap = diarization.total(diarization.intersect(ref.participant, ref.interviewer))
        short = [b - a for a, b in ref.interviewer if b - a < 0.7]
        assert (overlap > 0.15 * rec.n_overlaps > 0) if cond.overlaps else overlap == 0, rec.uri
        assert (len(short) == rec.n_backchannels > 0) if cond.backchannels else not short, rec.uri
        assert all(0.25 <= s <= 0.65 for s in short)
        assert (rec.interviewer_gender == rec.participant_gender) == (cond.gender == "same")
        assert ref.interviewer[0][0] < ref.participant[0][0]  # the interviewer speaks first
    assert {r.condition.level_db for r in quick_set} == {-6.0, 0.0, 6.0}


def test_manifest_reloads_and_the_generator_is_deterministic(modules, quick_set, tmp_path):
    two_speaker, _ = modules
    root = quick_set[0].path.parent
    assert two_speaker.load_recordings(root, "quick", 0) == quick_set
    assert two_speaker.load_recordings(root, "quick", 1) is None
    again = two_speaker.build_recordings(tmp_path, "quick", seed=0, speech_dir=shared_path("librispeech"))
    assert quick_set[0].rttm.read_text() == again[0].rttm.read_text()
    assert np.array_equal(sf.read(quick_set[0].path)[0], sf.read(again[0].path)[0])


# ---------------------------------------------------------------- metrics on hand-made annotations

PARTICIPANT = [(2.0, 5.0), (5.5, 8.0), (11.0, 15.0)]  # answers: (2-5, 5.5-8) then (11-15)
INTERVIEWER = [(0.0, 1.5), (5.05, 5.45), (9.0, 11.5)]  # question, backchannel in a pause, overlapping question


def reference(diarization, interviewer=INTERVIEWER):
    return diarization.Reference(PARTICIPANT, interviewer, diarization.answers_from_reference(PARTICIPANT, interviewer))


def test_answers_are_split_by_questions_not_by_backchannels(modules):
    _, diarization = modules
    ref = reference(diarization)
    assert ref.answers == [[(2.0, 5.0), (5.5, 8.0)], [(11.0, 15.0)]]


def test_a_perfect_hypothesis_scores_perfectly(modules):
    pytest.importorskip("pyannote.metrics")
    _, diarization = modules
    apart = [(0.0, 1.5), (5.05, 5.45), (9.0, 10.8)]  # no overlap
    s = diarization.score(reference(diarization, apart), diarization.Hypothesis(PARTICIPANT, apart), 16.0)
    figures = diarization.summary([s])
    for key in ("der_0.25", "der_0", "jer_0.25", "jer_0", "contamination"):
        assert figures[key] == pytest.approx(0.0, abs=1e-9), key
    assert figures["recall"] == pytest.approx(1.0)
    assert s.answers_per_turn == [1, 1, 1] and s.chosen


def test_overlap_inside_a_perfect_turn_counts_as_contamination(modules):
    pytest.importorskip("pyannote.metrics")
    _, diarization = modules
    s = diarization.score(reference(diarization), diarization.Hypothesis(PARTICIPANT, INTERVIEWER), 16.0)
    figures = diarization.summary([s])
    assert figures["der_0"] == pytest.approx(0.0, abs=1e-9) and figures["recall"] == pytest.approx(1.0)
    assert figures["contamination"] == pytest.approx(0.5 / 9.5)  # the interviewer's 11.0-11.5 in the last turn


def test_swapped_speakers_keep_der_but_choose_the_wrong_participant(modules):
    pytest.importorskip("pyannote.metrics")
    _, diarization = modules
    hyp = diarization.Hypothesis(INTERVIEWER, PARTICIPANT)
    s = diarization.score(reference(diarization), hyp, 16.0)
    figures = diarization.summary([s])
    assert figures["der_0"] == pytest.approx(0.0, abs=1e-9)  # DER maps speakers optimally: labels do not count
    assert not s.chosen
    assert figures["contamination"] == pytest.approx(1.0)
    assert figures["recall"] == pytest.approx(0.0)  # the only shared time, 11.0-11.5, is overlap: not counted


def test_known_values_of_a_merged_and_a_missing_turn(modules):
    pytest.importorskip("pyannote.metrics")
    _, diarization = modules
    # one turn over both answers (through the overlapping question), nothing for the last 2 s
    hyp = diarization.Hypothesis([(2.0, 13.0)], [(0.0, 1.5)])
    s = diarization.score(reference(diarization), hyp, 16.0)
    figures = diarization.summary([s])
    assert s.answers_per_turn == [2]
    assert figures["turns_multi_answer"] == 1.0
    # interviewer inside the turn: 5.05-5.45 and 9.0-11.5 → 2.9 s of an 11 s turn
    assert figures["contamination"] == pytest.approx(2.9 / 11.0)
    # participant outside overlap: 9.5 s minus 11.0-11.5 = 9.0 s; inside the turn: 3 + 2.5 + 1.5 s
    assert figures["recall"] == pytest.approx(7.0 / 9.0)
    # collar 0, errors: missed 13-15 and the interviewer in the overlap 11-11.5 (2.5 s); the interviewer
    # called participant 5.05-5.45 and 9-11 (2.4 s confusion); speech-free 5.0-5.05, 5.45-5.5, 8-9 (1.1 s)
    total_speech = 9.5 + 1.5 + 0.4 + 2.5  # reference speech, overlap counted per speaker
    assert figures["der_0"] == pytest.approx((2.5 + 2.4 + 1.1) / total_speech)
