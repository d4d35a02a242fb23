"""Batching the wav2vec2 family without letting the padding of a batch change a turn's embedding.

wav2vec2-base, HuBERT-base and WavLM-base(+) were trained one utterance at a time without an attention
mask (``feat_extract_norm="group"``; their feature extractors set no ``return_attention_mask``): the
first convolution layer normalises each channel over the whole input (a GroupNorm with one group per
channel), so the zeros that pad a shorter turn in a batch change every one of its frames. The transformer
blocks take an attention mask and the positional convolution sees zeroed padding (exact), so only the
convolution stack needs care. Three ways to run it (``CONV_MODES``):

``per_item``  each turn runs the convolution stack alone, unpadded (CPU default: nothing computed twice,
              least memory; measured faster than padded batches on 2 CPU threads)
``masked``    the stack runs on the padded batch and each GroupNorm takes its statistics over the turn's
              own frames only (GPU default: one launch per layer for the whole batch)
``plain``     the padded batch with no guard: right for LayerNorm stacks (``feat_extract_norm="layer"``),
              which normalise each frame on its own

``padding_agreement`` verifies the result on the loaded model: probe turns embedded alone and in one
padded batch must agree within ``PADDING_TOLERANCE`` of the precision in use; the encoder falls back to
batching equal lengths only (no padding at all) when they do not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

CONV_MODES = ("per_item", "masked", "plain")
# Largest relative difference ||batched - alone|| / ||alone|| of a probe turn's pooled embedding accepted
# as agreement, per precision. float32: rounding only (the GPU's TF32 convolutions give ~1e-4, CPU ~1e-6);
# bfloat16/float16: a different batch picks other matrix kernels, whose rounding differs at the precision's
# epsilon (2^-8 / 2^-11) through 12 blocks; int8: dynamic quantisation takes one activation scale per batch.
# Padding left unmasked in a group-norm model gives differences of 0.1 to 1 (measured on tiny random models).
PADDING_TOLERANCE = {"float32": 2e-3, "float16": 1e-2, "bfloat16": 3e-2, "int8": 5e-2}
PROBE_SECONDS = (1.6, 0.7)  # the shorter probe is padded by more than its own length in the batch


def conv_lengths(n_samples: Sequence[int], kernels: Sequence[int], strides: Sequence[int]) -> list[int]:
    """Frames left after convolutions of ``kernels``/``strides`` without padding, per input length."""
    out = []
    for n in n_samples:
        for k, s in zip(kernels, strides):
            n = (n - k) // s + 1
        out.append(int(n))
    return out


def _masked_group_norm(norm, kernels: tuple[int, ...], strides: tuple[int, ...]):
    """``norm`` (a GroupNorm with one group per channel) computed over each row's valid frames only;
    the row lengths in samples are set per batch on ``.lengths`` (None: the plain GroupNorm)."""
    import torch

    class MaskedGroupNorm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = norm
            self.lengths: list[int] | None = None

        def forward(self, x):  # x: (B, C, T)
            if self.lengths is None:
                return self.norm(x)
            frames = torch.tensor(conv_lengths(self.lengths, kernels, strides), device=x.device)
            xf = x.float()
            mask = (torch.arange(x.shape[-1], device=x.device)[None, :] < frames[:, None]).float()[..., None]
            count = frames.float()[:, None, None]  # (B, 1, 1)
            mean = torch.bmm(xf, mask) / count  # (B, C, 1): valid frames only
            centred = xf - mean
            var = torch.bmm(centred.square(), mask) / count
            centred.mul_(torch.rsqrt(var + self.norm.eps))
            centred.mul_(self.norm.weight.float()[None, :, None]).add_(self.norm.bias.float()[None, :, None])
            return centred.to(x.dtype)

    return MaskedGroupNorm()


def install_masked_norms(conv_stack, kernels: Sequence[int], strides: Sequence[int]) -> list:
    """Replace every per-channel GroupNorm of ``conv_stack`` (a wav2vec2-style feature encoder whose
    layers have ``kernels``/``strides``) with its masked form → the replacements (set their ``lengths``
    per batch; None = plain GroupNorm); empty, and nothing replaced, when a GroupNorm groups channels."""
    import torch

    kernels, strides = tuple(kernels), tuple(strides)
    norms = [getattr(layer, "layer_norm", None) for layer in conv_stack.conv_layers]
    if any(isinstance(n, torch.nn.GroupNorm) and (n.num_groups != n.num_channels or not n.affine) for n in norms):
        return []
    installed = []
    for i, layer in enumerate(conv_stack.conv_layers):
        norm = getattr(layer, "layer_norm", None)
        if isinstance(norm, torch.nn.GroupNorm):
            layer.layer_norm = _masked_group_norm(norm, kernels[: i + 1], strides[: i + 1])
            installed.append(layer.layer_norm)
    return installed


def probe_waves(seconds: Sequence[float] = PROBE_SECONDS, seed: int = 7) -> list[np.ndarray]:
    """Voice-like probe turns (harmonics of a gliding 120–220 Hz tone, amplitude-modulated, with noise)."""
    rng = np.random.default_rng(seed)
    out = []
    for i, s in enumerate(seconds):
        t = np.arange(int(s * 16_000)) / 16_000
        f0 = 120 + 100 * t / s + 15 * i
        phase = 2 * np.pi * np.cumsum(f0) / 16_000
        voiced = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
        out.append((0.1 * voiced + 0.01 * rng.standard_normal(t.size)).astype(np.float32))
    return out


def padding_agreement(forward, waves: Sequence[np.ndarray] | None = None) -> float:
    """Largest relative difference between each probe turn's per-slot frame mean when ``forward`` (an
    encoder's ``_forward``) embeds it alone and in one padded batch with the others; inf when the frame
    counts differ."""
    waves = list(waves) if waves is not None else probe_waves()
    together = forward(waves)
    worst = 0.0
    for wave, batched in zip(waves, together):
        alone = forward([wave])[0]
        if alone.frames != batched.frames:
            return math.inf
        a, b = alone.total / alone.frames, batched.total / batched.frames
        worst = max(worst, float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-12)))
    return worst
