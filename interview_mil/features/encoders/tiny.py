"""Tiny random speech models of every supported family, for tests and smoke runs (no download).

``build_tiny_model("wav2vec2", folder)`` writes a model folder (config, random weights, feature
extractor settings) that ``load_encoder(EncoderConfig(model=str(folder)))`` loads through the same code
path as a real checkpoint. The embeddings mean nothing; shapes, layers, padding and speed paths do.
Frame rates match the real models: 50 frames per second (a 320-sample convolution stride).
"""

from __future__ import annotations

from pathlib import Path

FAMILIES = ("wav2vec2", "wav2vec2-stable", "hubert", "wavlm", "data2vec-audio", "whisper")


def build_tiny_model(family: str, folder: str | Path, n_layers: int = 3, hidden: int = 32, seed: int = 0) -> Path:
    """Write a tiny random ``family`` model (one of ``FAMILIES``) to ``folder``; return the folder.

    ``wav2vec2-stable`` is wav2vec2 with the large models' layout (LayerNorm convolutions, a final
    encoder LayerNorm), which layer truncation must handle.
    """
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    folder = Path(folder)
    conv = dict(conv_dim=(16, 16, 16), conv_stride=(10, 8, 4), conv_kernel=(10, 8, 4))
    common = dict(
        hidden_size=hidden,
        num_hidden_layers=n_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        num_conv_pos_embedding_groups=2,
        **conv,
    )
    if family in ("wav2vec2", "wav2vec2-stable"):
        stable = family == "wav2vec2-stable"
        config = tf.Wav2Vec2Config(
            num_conv_pos_embeddings=16,
            do_stable_layer_norm=stable,
            feat_extract_norm="layer" if stable else "group",
            **common,
        )
        model = tf.Wav2Vec2Model(config)
    elif family == "hubert":
        model = tf.HubertModel(tf.HubertConfig(num_conv_pos_embeddings=16, **common))
    elif family == "wavlm":
        model = tf.WavLMModel(
            tf.WavLMConfig(num_conv_pos_embeddings=16, num_buckets=16, max_bucket_distance=64, **common)
        )
    elif family == "data2vec-audio":
        model = tf.Data2VecAudioModel(
            tf.Data2VecAudioConfig(num_conv_pos_embeddings=2, conv_pos_kernel_size=5, **common)
        )
    elif family == "whisper":
        config = tf.WhisperConfig(
            d_model=hidden,
            encoder_layers=n_layers,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=2 * hidden,
            decoder_ffn_dim=2 * hidden,
            num_mel_bins=80,
            vocab_size=64,
            max_target_positions=16,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
            decoder_start_token_id=1,
            suppress_tokens=[],
            begin_suppress_tokens=[],
        )
        model = tf.WhisperForConditionalGeneration(config)
    else:
        raise ValueError(f"unknown family {family!r}; use one of {FAMILIES}")
    model.save_pretrained(folder)
    if family == "whisper":
        tf.WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    else:
        layer_norm = getattr(model.config, "feat_extract_norm", "group") == "layer"
        tf.Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=layer_norm).save_pretrained(folder)
    return folder
