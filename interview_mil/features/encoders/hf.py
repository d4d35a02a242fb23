"""transformers encoders: wav2vec 2.0, HuBERT, WavLM, data2vec-audio (``AutoModel``) and the Whisper
encoder (``WhisperModel(...).encoder``), by Hugging Face id or local folder; never remote code.

Layer numbering: 0 is the input of the first transformer block, k the output of block k (equal to
``hidden_states[k]`` of transformers 5), and the last layer (k = number of blocks, or ``"last"``) the
model's final output ``last_hidden_state``: after the final encoder LayerNorm where the architecture has
one (Whisper, large wav2vec2/HuBERT/WavLM), which transformers 5's ``hidden_states[-1]`` is not. Only the
blocks up to the deepest requested layer are built and run, so a middle layer costs a fraction of the full
model and equals the full model's value.

Padding: models whose convolution stack uses group norm over time (``feat_extract_norm="group"``:
wav2vec2-base, HuBERT-base, WavLM-base+, trained without an attention mask) would see the padding of a
batch in every frame; ``padding.py`` runs their stack per turn (CPU) or with masked statistics (GPU) and
checks at load that probe turns alone and in a padded batch agree (else only equal lengths are batched).
data2vec-audio's stacked positional convolutions run per turn; the transformer blocks are batched with
an attention mask. A turn's embedding then does not depend on what it was batched with (tested).
Whisper encodes 30 s windows: turns are padded to 30 s and only the encoder frames covering the audio
(50 per second) are pooled.
"""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager

import numpy as np

from ...errors import ConfigError
from ..config import EncoderConfig
from .base import SAMPLE_RATE, Encoder, FrameStats, layer_slots
from .loading import apply_precision, load_hf_config, pick_device
from .padding import CONV_MODES, PADDING_TOLERANCE, install_masked_norms, padding_agreement

W2V2_FAMILY = ("wav2vec2", "hubert", "wavlm", "data2vec-audio")
WHISPER_WINDOW_S = 30.0
WHISPER_FRAME_RATE = 50.0  # encoder frames per second of audio
MAX_PADDING = 0.25  # padded samples per batch at most 25 % above its real samples (wav2vec2 family)


def _per_item(inner, time_dim: int):
    """Wrap a module over time (a convolution stack) so each row of a padded batch runs over its own
    ``lengths[i]`` steps only, the result zero-padded along ``time_dim`` (-1 or 1) to the longest row."""
    import torch

    class PerItem(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = inner
            self.lengths: list[int] | None = None

        def forward(self, x):
            if self.lengths is None or x.shape[0] == 1:
                return self.inner(x)
            outs = [
                self.inner(x[i : i + 1, :n] if time_dim == 1 else x[i : i + 1, ..., :n])
                for i, n in enumerate(self.lengths)
            ]
            longest = max(o.shape[time_dim] for o in outs)
            padded = []
            for o in outs:
                missing = longest - o.shape[time_dim]
                pad = (0, missing) if time_dim == -1 else (0, 0, 0, missing)
                padded.append(torch.nn.functional.pad(o, pad))
            return torch.cat(padded)

    return PerItem()


class HFEncoder(Encoder):
    """A transformers speech encoder loaded once; see the module docstring for layers and padding."""

    def __init__(self, config: EncoderConfig):
        import torch
        import transformers

        self.config = config
        self.device = pick_device(config)
        if config.threads:
            torch.set_num_threads(config.threads)
        source, model_config = load_hf_config(config.model)
        self.model_type = model_config.model_type
        self.is_whisper = self.model_type == "whisper"
        depth_attr = "encoder_layers" if self.is_whisper else "num_hidden_layers"
        self.n_layers = int(getattr(model_config, depth_attr))
        self.hidden_size = int(model_config.d_model if self.is_whisper else model_config.hidden_size)
        self.mode, self.slots = layer_slots(config, self.n_layers)
        self.truncated = self.deepest < self.n_layers
        if self.truncated:  # build and load only the blocks we need
            setattr(model_config, depth_attr, max(self.deepest, 1))
        with _quiet_transformers():
            if self.is_whisper:
                model_config.decoder_layers = 1  # the decoder is never run; keep its load small
                model = transformers.WhisperModel.from_pretrained(
                    source, config=model_config, trust_remote_code=False
                ).encoder
            else:
                model = transformers.AutoModel.from_pretrained(source, config=model_config, trust_remote_code=False)
        model.eval()
        self.feature_extractor = _feature_extractor(source, model_config, self.is_whisper)
        if self.model_type == "data2vec-audio":  # its stacked positional convolutions would see the padding
            model.encoder.pos_conv_embed = _per_item(model.encoder.pos_conv_embed, time_dim=1)
        self.model, self.dtype = apply_precision(model, config, self.device)  # int8 returns a copy
        # see padding.py: a group-norm convolution stack must not see the padding of a batch
        self.needs_padding_check = (not self.is_whisper) and getattr(model_config, "feat_extract_norm", "") == "group"
        self.conv_mode = "plain"
        self._masked_norms: list = []
        if self.needs_padding_check:  # masked norms are inert until given lengths
            self._conv_stack = self.model.feature_extractor
            self._per_item_conv = _per_item(self._conv_stack, time_dim=-1)
            self._masked_norms = install_masked_norms(
                self._conv_stack, model_config.conv_kernel, model_config.conv_stride
            )
            self.set_conv_mode("masked" if self._masked_norms and self.device != "cpu" else "per_item")
        self.max_chunk_seconds = (
            min(config.max_chunk_seconds, WHISPER_WINDOW_S) if self.is_whisper else config.max_chunk_seconds
        )
        self.max_items = max(1, int(config.batch_seconds // WHISPER_WINDOW_S)) if self.is_whisper else None
        # wav2vec2-style models compute every padded frame: keep a batch's padding within 25 % of its audio
        # (measured on 2 CPU threads: one padded 120 s batch of 2–11 s turns cost 2.9x the turns one by one)
        self.max_padding = None if self.is_whisper else MAX_PADDING
        # on the CPU, a batch's self-attention memory (items x frames^2) stays within one longest chunk's:
        # a long recording's 20 s chunks then run one at a time, as fast there, and peak memory stays flat
        chunk = int(self.max_chunk_seconds * SAMPLE_RATE)
        self.max_square = chunk * chunk if self.device == "cpu" and not self.is_whisper else None
        self._captured: dict[int, object] = {}
        self._install_hooks()
        self.padding_error: float | None = None
        if self.needs_padding_check:
            self.check_padding()

    # -- padding -------------------------------------------------------------------------------------
    def check_padding(self) -> float:
        """Embed probe turns alone and in one padded batch (``padding.padding_agreement``); when they differ
        by more than ``PADDING_TOLERANCE`` for this precision, batch only turns of equal length from now
        on (no padding at all) and log a warning. Returns the difference (also kept in ``padding_error``)."""
        self.padding_error = padding_agreement(self._forward)
        tolerance = PADDING_TOLERANCE[self.config.dtype]
        if self.padding_error > tolerance:
            logging.getLogger(__name__).warning(
                "%s (%s, %s, conv %s): turns embedded in a padded batch differ from the same turns alone by "
                "%.3g (tolerance %.3g); batching equal lengths only",
                self.config.model,
                self.device,
                self.config.dtype,
                self.conv_mode,
                self.padding_error,
                tolerance,
            )
            self.max_padding = 0.0
        return self.padding_error

    def set_conv_mode(self, mode: str) -> None:
        """Run the group-norm convolution stack ``per_item``, ``masked`` or ``plain`` (see ``padding.py``;
        the default is ``masked`` on a GPU and ``per_item`` on the CPU). ``plain`` on a group-norm model lets
        the padding through: only for showing what ``check_padding`` guards against."""
        if mode not in CONV_MODES or not self.needs_padding_check or (mode == "masked" and not self._masked_norms):
            raise ConfigError(f"conv mode {mode!r} is not available for {self.config.model}", fix=f"use {CONV_MODES}")
        self.model.feature_extractor = self._per_item_conv if mode == "per_item" else self._conv_stack
        for norm in self._masked_norms:
            norm.lengths = None
        self.conv_mode = mode

    # -- layer capture -------------------------------------------------------------------------------
    def _install_hooks(self) -> None:
        layers = self.model.layers if self.is_whisper else self.model.encoder.layers
        wanted = {k for slot in self.slots for k in slot}
        if 0 in wanted:
            layers[0].register_forward_pre_hook(self._pre_hook, with_kwargs=True)
        for k in wanted:
            if 1 <= k < self.n_layers:  # layer n_layers is the model's output (last_hidden_state)
                layers[k - 1].register_forward_hook(self._make_hook(k))

    def _pre_hook(self, module, args, kwargs):
        self._captured[0] = args[0] if args else kwargs["hidden_states"]

    def _make_hook(self, k: int):
        def hook(module, args, output):
            self._captured[k] = output[0] if isinstance(output, (tuple, list)) else output

        return hook

    # -- forward ----------------------------------------------------------------------------------
    def _forward(self, waves: list[np.ndarray]) -> list[FrameStats]:
        import torch

        self._captured = {}
        with torch.inference_mode():
            if self.is_whisper:
                frames, last = self._run_whisper(waves)
            else:
                frames, last = self._run_w2v2(waves)
            self._captured[self.n_layers] = last
            n = torch.tensor(frames, device=last.device)
            valid = (torch.arange(last.shape[1], device=last.device)[None, :] < n[:, None]).double()[..., None]
            stats = []
            for slot in self.slots:  # per-frame mean over the slot's layers: (B, T, hidden)
                h = torch.stack([self._captured[k].double() for k in slot]).mean(dim=0) * valid
                stats.append(torch.stack([h.sum(dim=1), h.square().sum(dim=1)]))  # (2, B, hidden)
            sums = torch.stack(stats, dim=2).cpu().numpy()  # (2, B, n_slots, hidden), one copy per batch
        self._captured = {}
        return [FrameStats(sums[0, i], sums[1, i], int(f)) for i, f in enumerate(frames)]

    def _run_w2v2(self, waves: list[np.ndarray]):
        import torch

        fe = self.feature_extractor
        lengths = [w.size for w in waves]
        batch = np.zeros((len(waves), max(lengths)), np.float32)
        for i, w in enumerate(waves):
            batch[i, : w.size] = w
        x = torch.from_numpy(batch).to(self.device)
        n = torch.tensor(lengths, device=self.device)
        mask = torch.arange(x.shape[1], device=self.device)[None, :] < n[:, None]
        if getattr(fe, "do_normalize", True):  # as Wav2Vec2FeatureExtractor: per turn, over its own samples
            mean = x.sum(dim=1, keepdim=True) / n[:, None]
            var = ((x - mean) * mask).square().sum(dim=1, keepdim=True) / n[:, None]
            x = (x - mean) / torch.sqrt(var + 1e-7)
        x = torch.where(mask, x, float(getattr(fe, "padding_value", 0.0))).to(self.dtype)
        frames = [int(f) for f in self.model._get_feat_extract_output_lengths(torch.tensor(lengths))]
        if self.conv_mode == "per_item":
            self._per_item_conv.lengths = lengths
        for norm in self._masked_norms:
            norm.lengths = lengths if self.conv_mode == "masked" else None
        if self.model_type == "data2vec-audio":
            self.model.encoder.pos_conv_embed.lengths = frames
        kwargs = {"attention_mask": mask.long()} if len(waves) > 1 else {}
        last = self.model(x, **kwargs).last_hidden_state
        return [min(int(f), last.shape[1]) for f in frames], last

    def _run_whisper(self, waves: list[np.ndarray]):
        import torch

        on_gpu = {"device": self.device} if self.device.startswith("cuda") else {}  # log-mel on the GPU
        feats = self.feature_extractor(waves, sampling_rate=SAMPLE_RATE, return_tensors="np", **on_gpu).input_features
        x = torch.from_numpy(np.ascontiguousarray(feats)).to(self.device, self.dtype)
        last = self.model(x).last_hidden_state  # (B, 1500, hidden)
        frames = [whisper_frames(w.size, last.shape[1]) for w in waves]
        return frames, last


def whisper_frames(n_samples: int, window_frames: int = 1500) -> int:
    """Encoder frames (50/s) that cover ``n_samples`` of 16 kHz audio, at most one 30 s window."""
    return max(1, min(window_frames, math.ceil(n_samples * WHISPER_FRAME_RATE / SAMPLE_RATE)))


def _feature_extractor(source: str, model_config, is_whisper: bool):
    """The model's own feature extractor settings, or the family defaults when the folder has none."""
    import transformers

    try:
        with _quiet_transformers():
            return transformers.AutoFeatureExtractor.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError, KeyError):
        logging.getLogger(__name__).warning(
            "%s has no preprocessor_config.json; using the %s feature extractor defaults",
            source,
            model_config.model_type,
        )
    if is_whisper:
        return transformers.WhisperFeatureExtractor(feature_size=model_config.num_mel_bins)
    return transformers.Wav2Vec2FeatureExtractor(
        do_normalize=True, return_attention_mask=getattr(model_config, "feat_extract_norm", "") == "layer"
    )


@contextmanager
def _quiet_transformers():
    """Silence transformers' load report (expected: unused weights of blocks we do not build)."""
    import transformers

    level = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(level)
