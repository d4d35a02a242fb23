"""Finding a model on disk (or in the local Hugging Face cache), choosing the device, and precision.

Nothing here downloads unless the user's environment allows the hub; with ``HF_HUB_OFFLINE=1`` (or no
network) a model that is not on disk raises ``ModelNotFoundError`` saying how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import ConfigError, ModelNotFoundError
from ..config import EncoderConfig

SUPPORTED_TYPES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or name.count("/") > 1 or os.path.isabs(name)


def _fix(name: str) -> str:
    return (
        f"download it once where there is network: `huggingface-cli download {name}` (with "
        f"HF_HUB_OFFLINE unset or 0), or pass the path of a local model folder instead "
        f"(e.g. --encoder /models/{name.split('/')[-1]})"
    )


def resolve_source(name: str) -> str:
    """A local model folder as a string, or ``name`` unchanged when it is a hub id.
    Raises ``ModelNotFoundError`` for a path that does not exist or is not a model folder."""
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").exists():
            raise ModelNotFoundError(
                "is not a model folder (no config.json)",
                path=path,
                fix="point to the folder written by save_pretrained / the hub download",
            )
        return str(path)
    if _looks_like_path(name):
        raise ModelNotFoundError(
            "model folder not found", path=path, fix="check the path, or give a Hugging Face model id"
        )
    return name


def load_hf_config(name: str):
    """``(source, transformers config)`` for a local folder or a hub id available offline.
    Raises ``ModelNotFoundError`` (with the fix) when it is not available, ``ConfigError`` for a model
    family this encoder does not support."""
    import transformers

    source = resolve_source(name)
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")
    try:
        config = transformers.AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        where = (
            "offline mode is on (HF_HUB_OFFLINE=1) and it is not in the local cache"
            if offline
            else f"it could not be found locally or fetched ({type(exc).__name__})"
        )
        raise ModelNotFoundError(f"speech model {name!r} is not available: {where}", fix=_fix(name)) from None
    if config.model_type not in SUPPORTED_TYPES:
        raise ConfigError(
            f"encoder.model {name!r} is a {config.model_type!r} model",
            fix=f"use a model of one of the families {list(SUPPORTED_TYPES)}",
        )
    return source, config


def pick_device(config: EncoderConfig) -> str:
    """The torch device string; ``ConfigError`` when CUDA is asked for but absent."""
    return check_device(config.device, "encoder.device")


def check_device(device: str, what: str = "--device") -> str:
    """``device`` when it names a torch device this machine has (cpu, cuda, cuda:N, mps); else ``ConfigError``
    naming it: checked before any recording is read, not found recording by recording."""
    import re

    import torch

    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", str(device)):
        raise ConfigError(f"{what} {device!r} is unknown", fix="use cpu, cuda, cuda:N or mps")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"{what} {device!r}: no CUDA device is available here", fix="use --device cpu")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ConfigError(
                f"{what} {device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)",
                fix="use cuda:0 .. cuda:N-1",
            )
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError(f"{what} 'mps': no Apple GPU is available here", fix="use --device cpu")
    return device


def apply_precision(model, config: EncoderConfig, device: str):
    """Move ``model`` to ``device`` in ``config.dtype`` → ``(model, input dtype)``.

    ``int8``: dynamic quantisation of every Linear layer (weights int8, activations quantised on the
    fly; CPU only). ``float16`` needs a GPU; ``bfloat16`` runs anywhere (fast on recent CPUs/GPUs).
    """
    import torch

    if config.dtype == "int8":
        if getattr(getattr(model, "config", None), "model_type", "") == "wavlm":
            raise ConfigError(
                "encoder.dtype int8 is not available for WavLM (its attention reads the projection biases, "
                "which dynamic quantisation replaces)",
                fix="use dtype float32 or bfloat16",
            )
        if device != "cpu":
            raise ConfigError(
                "encoder.dtype int8 (dynamic quantisation) runs on the CPU only",
                fix="use dtype float16/bfloat16 on a GPU, or device cpu",
            )
        import warnings

        with warnings.catch_warnings():  # torch 2.10+ warns that quantised tensor creation is deprecated
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return quantized, torch.float32
    if config.dtype == "float16" and device == "cpu":
        raise ConfigError("encoder.dtype float16 is for GPUs", fix="use bfloat16 or float32 on the CPU")
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[config.dtype]
    return model.to(device=device, dtype=dtype), dtype
