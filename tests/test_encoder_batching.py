"""The GPU path's batching, exercised on the CPU: masked group norm vs. the per-turn convolution stack,
the padding-agreement check that models trained without an attention mask (wav2vec2-base, HuBERT-base,
WavLM-base+) need, equal-length buckets as its fallback, and reduced precision."""

from __future__ import annotations

import numpy as np
import pytest

from interview_mil.errors import ConfigError
from interview_mil.features import EncoderConfig, load_encoder
from interview_mil.features.encoders import plan_batches
from interview_mil.features.encoders.padding import PADDING_TOLERANCE, conv_lengths, probe_waves
from interview_mil.features.encoders.tiny import build_tiny_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_batching")
    cache: dict[str, str] = {}

    def get(family: str) -> str:
        if family not in cache:
            cache[family] = str(build_tiny_model(family, root / family))
        return cache[family]

    return get


def turns(seconds=(2.3, 0.6, 1.1, 0.45, 1.7), seed=3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.1 * rng.standard_normal(int(s * 16_000))).astype(np.float32) for s in seconds]


def test_conv_lengths_match_the_model(models):
    encoder = load_encoder(EncoderConfig(model=models("wav2vec2")))
    config = encoder.model.config
    lengths = [400, 401, 16_000, 23_457]
    ours = conv_lengths(lengths, config.conv_kernel, config.conv_stride)
    import torch

    assert ours == encoder.model._get_feat_extract_output_lengths(torch.tensor(lengths)).tolist()


@pytest.mark.parametrize("family", ["wav2vec2", "hubert", "wavlm"])
def test_masked_group_norm_equals_turns_alone(models, family):
    """The GPU default (one padded batch, GroupNorm statistics over each turn's own frames) gives every
    turn the embedding it has alone, like the CPU default (convolution stack per turn)."""
    encoder = load_encoder(EncoderConfig(model=models(family), layers="all", batch_seconds=60))
    assert encoder.needs_padding_check and encoder.conv_mode == "per_item"  # CPU default
    w = turns()
    alone = np.stack([encoder.encode([x])[0] for x in w])
    per_item = encoder.encode(w)
    encoder.set_conv_mode("masked")
    masked = encoder.encode(w)
    assert len(plan_batches([x.size for x in w], 60 * 16_000)) == 1  # all five turns in one padded batch
    np.testing.assert_allclose(per_item, alone, atol=2e-5)
    np.testing.assert_allclose(masked, alone, atol=2e-5)
    assert encoder.check_padding() < 1e-5


@pytest.mark.parametrize("family", ["wav2vec2", "hubert"])
def test_padding_check_catches_unmasked_padding_and_falls_back_to_equal_lengths(models, family):
    encoder = load_encoder(EncoderConfig(model=models(family), batch_seconds=60))
    assert encoder.padding_error < PADDING_TOLERANCE["float32"]
    w = turns()
    alone = np.stack([encoder.encode([x])[0] for x in w])
    encoder.set_conv_mode("plain")  # the padding reaches the group norm, as in a plain batched forward
    assert not np.allclose(encoder.encode(w), alone, atol=1e-3)  # what the check guards against
    error = encoder.check_padding()
    assert error > 10 * PADDING_TOLERANCE["float32"] and encoder.max_padding == 0.0
    np.testing.assert_allclose(encoder.encode(w), alone, atol=2e-5)  # equal lengths only: no padding
    np.testing.assert_allclose(encoder.encode([w[0], w[0], w[1]]), alone[[0, 0, 1]], atol=2e-5)


def test_models_with_layer_norm_convolutions_need_no_check(models):
    for family in ("wav2vec2-stable", "data2vec-audio", "whisper"):
        encoder = load_encoder(EncoderConfig(model=models(family)))
        assert not encoder.needs_padding_check and encoder.padding_error is None
        with pytest.raises(ConfigError):
            encoder.set_conv_mode("masked")


def test_equal_length_buckets():
    lengths = [5, 4, 5, 3, 4, 5]
    batches = plan_batches(lengths, batch_samples=100, max_padding=0.0)
    assert [[lengths[i] for i in b] for b in batches] == [[5, 5, 5], [4, 4], [3]]
    assert plan_batches(lengths, batch_samples=10, max_padding=0.0) == [[0, 2], [5], [1, 4], [3]]


@pytest.mark.parametrize("dtype", ["bfloat16", "int8"])
def test_reduced_precision_batches_agree_and_stay_close(models, dtype):
    folder = models("wav2vec2")
    w = turns()
    reference = load_encoder(EncoderConfig(model=folder)).encode(w)
    encoder = load_encoder(EncoderConfig(model=folder, dtype=dtype, batch_seconds=60))
    assert encoder.padding_error < PADDING_TOLERANCE[dtype] and encoder.max_padding > 0
    if dtype == "bfloat16":
        encoder.set_conv_mode("masked")
        assert encoder.check_padding() < PADDING_TOLERANCE[dtype]
    out = encoder.encode(w)
    cos = (out * reference).sum(1) / np.linalg.norm(out, axis=1) / np.linalg.norm(reference, axis=1)
    assert out.dtype == np.float32 and (cos > 0.98).all()


def test_wavlm_int8_is_refused_with_the_fix(models):
    with pytest.raises(ConfigError, match="bfloat16"):
        load_encoder(EncoderConfig(model=models("wavlm"), dtype="int8"))


def test_probe_waves_are_deterministic_and_of_different_lengths():
    a, b = probe_waves(), probe_waves()
    assert [x.size for x in a] == [25_600, 11_200]
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_gpu_masked_batches_match_cpu(models, dtype):
    """On a GPU (skipped without one): the default masked batches in ``dtype`` give the CPU's float32
    per-turn embeddings within the precision's tolerance, and pass the padding check."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    w = turns()
    for family in ("wav2vec2", "hubert", "wavlm", "whisper"):
        cpu = load_encoder(EncoderConfig(model=models(family))).encode(w)
        gpu = load_encoder(EncoderConfig(model=models(family), device="cuda", dtype=dtype, batch_seconds=60))
        assert gpu.conv_mode == ("plain" if family == "whisper" else "masked")
        if gpu.needs_padding_check:
            assert gpu.padding_error < PADDING_TOLERANCE[dtype] and gpu.max_padding > 0, family
        out = gpu.encode(w)
        error = np.linalg.norm(out - cpu, axis=1) / np.linalg.norm(cpu, axis=1)
        assert error.max() < PADDING_TOLERANCE[dtype], (family, error.max())


def test_attention_memory_cap_on_the_cpu(models):
    lengths = [100, 100, 50, 50, 50, 50, 30]
    batches = plan_batches(lengths, batch_samples=10_000, max_square=100**2)
    assert [[lengths[i] for i in b] for b in batches] == [[100], [100], [50, 50, 50, 50], [30]]
    cpu = load_encoder(EncoderConfig(model=models("wav2vec2"), max_chunk_seconds=20.0))
    assert cpu.max_square == (20 * 16_000) ** 2  # a batch of 20 s chunks holds one
