"""Long recordings in bounded memory: audio read block by block and span by span gives the same samples,
VAD over blocks the same speech, segmentation without the decoded audio the same turns, features read
span by span the same rows as from the whole recording; and streamed VAD's memory does not grow with the
recording's length."""

from __future__ import annotations

import dataclasses
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from interview_mil.data import load_audio, write_audio
from interview_mil.data.audio import read_blocks
from interview_mil.data.records import Interview
from interview_mil.features import EncoderConfig, FeatureConfig, featurize_interview, load_encoder
from interview_mil.features import spans as spans_module
from interview_mil.features.encoders.tiny import build_tiny_model
from interview_mil.segmentation import SegmentationConfig, segment_interview
from interview_mil.segmentation import vad as vad_module
from interview_mil.segmentation.vad import detect_speech, detect_speech_blocks, recording_activity

SR = 16_000


@pytest.fixture(scope="module")
def long_wav(synthetic_corpus, tmp_path_factory) -> Path:
    """The synthetic corpus's interviews joined into one recording of about 2.5 minutes (16 kHz mono)."""
    audio = np.concatenate([load_audio(p) for p in sorted(synthetic_corpus.rglob("*_AUDIO.wav"))])
    return write_audio(tmp_path_factory.mktemp("long") / "joined.wav", audio)


def interview(path: Path, duration: float | None = None) -> Interview:
    return Interview(interview_id="long", audio_path=str(path), corpus="test", duration=duration)


def test_blocks_join_to_the_whole_recording(long_wav, tmp_path):
    whole = load_audio(long_wav)
    joined = np.concatenate(list(read_blocks(long_wav, 30)))
    np.testing.assert_array_equal(joined, whole)
    stereo = tmp_path / "stereo44k.wav"  # another rate: each block resampled on its own
    x = whole[: 95 * SR]
    resampled = np.interp(np.arange(int(95 * 44_100)) / 44_100, np.arange(x.size) / SR, x)
    sf.write(stereo, np.stack([resampled, 0.5 * resampled], axis=1), 44_100, subtype="FLOAT")
    for channel in (None, 1):
        blocks = list(read_blocks(stereo, 30, channel=channel))
        assert [b.size for b in blocks] == [30 * SR] * 3 + [5 * SR]
        np.testing.assert_allclose(np.concatenate(blocks), load_audio(stereo, channel=channel), atol=1e-5)


def test_vad_over_blocks_equals_vad_over_the_whole_signal(long_wav):
    whole = load_audio(long_wav)
    expected = detect_speech(whole, SR)
    streamed = detect_speech_blocks(lambda: read_blocks(long_wav, 30), SR)
    assert streamed.regions == expected.regions and len(expected.regions) > 20
    np.testing.assert_array_equal(streamed.raw, expected.raw)
    np.testing.assert_array_equal(streamed.level_db, expected.level_db)
    assert (streamed.duration, streamed.floor_db, streamed.noise_db) == (
        expected.duration,
        expected.floor_db,
        expected.noise_db,
    )


def test_segmentation_of_a_long_recording_keeps_no_audio_and_finds_the_same_turns(long_wav, monkeypatch):
    config = SegmentationConfig()
    kept = segment_interview(interview(long_wav), config, source="vad", keep_audio=True)
    assert kept.audio is not None
    monkeypatch.setattr(vad_module, "KEEP_AUDIO_MAX_S", 60.0)  # the recording now counts as long
    streamed = segment_interview(interview(long_wav), config, source="vad", keep_audio=True)
    assert streamed.audio is None and streamed.duration == pytest.approx(kept.duration, abs=1e-3)
    assert len(streamed.turns) == len(kept.turns) > 10
    for a, b in zip(streamed.turns, kept.turns):  # the DC filter runs per block: edges within a cell or two
        assert abs(a.start - b.start) <= 0.02 and abs(a.end - b.end) <= 0.02
    assert len(streamed.interviewer) == len(kept.interviewer)
    np.testing.assert_allclose(np.array(streamed.interviewer), np.array(kept.interviewer), atol=0.02)


def test_features_read_span_by_span_equal_those_of_the_whole_recording(long_wav, tmp_path, monkeypatch):
    seg = segment_interview(interview(long_wav), SegmentationConfig(), source="vad", keep_audio=True)
    folder = build_tiny_model("wav2vec2", tmp_path / "w2v2")
    config = FeatureConfig(encoder=EncoderConfig(model=str(folder), max_chunk_seconds=4.0))
    encoder = load_encoder(config.encoder)
    whole = featurize_interview(seg.interview, seg.turns, config, encoder, audio=load_audio(long_wav))
    monkeypatch.setattr(spans_module, "GROUP_SECONDS", 20.0)  # many groups, turns at their edges
    groups = spans_module.turn_groups(seg.turns, config.prosody.padding, 20.0)
    assert len(groups) > 5 and [t for g in groups for t in g] == seg.turns
    record = dataclasses.replace(seg.interview, duration=None)
    by_span = featurize_interview(record, seg.turns, config, encoder)
    np.testing.assert_allclose(by_span.embeddings, whole.embeddings, atol=1e-4)  # batched differently
    numeric = whole.prosody_columns()
    np.testing.assert_allclose(
        by_span.prosody[numeric].to_numpy(float), whole.prosody[numeric].to_numpy(float), rtol=2e-3, atol=1e-3
    )
    # read against all turns' loud speech, not each group's
    np.testing.assert_allclose(by_span.prosody["intensity_mean_db"], whole.prosody["intensity_mean_db"], atol=1e-6)


def test_pooled_level_equals_the_level_of_the_pieces_joined():
    from interview_mil.features.prosody.loudness import speech_level_db

    rng = np.random.default_rng(1)
    pieces = [rng.normal(0.01, 0.1 * (1 + k % 3), rng.integers(50, 5_000)) for k in range(20)]
    pooled = spans_module.PooledLevel()
    for piece in pieces:
        pooled.add(piece)
    joined = np.concatenate(pieces)
    assert pooled.level_db() == pytest.approx(speech_level_db(joined - joined.mean(), SR), abs=1e-9)


def test_streamed_vad_memory_does_not_grow_with_the_recording(long_wav, tmp_path):
    audio = load_audio(long_wav)
    short = write_audio(tmp_path / "short.wav", audio[: 60 * SR])
    long = write_audio(tmp_path / "long.wav", np.tile(audio, 3)[: 480 * SR])

    def peak(path: Path, keep: float) -> int:
        tracemalloc.start()
        recording_activity(str(path), SegmentationConfig().vad, keep_seconds=keep)
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak_bytes

    streamed_short, streamed_long = peak(short, 0.0), peak(long, 0.0)
    whole_long = peak(long, 1e9)
    assert streamed_long < 1.3 * streamed_short + 8e6  # 8x the audio, about the same memory
    assert whole_long > 4 * streamed_long  # decoding the whole 8 minutes is what this avoids
