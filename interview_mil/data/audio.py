"""Audio I/O: any file libsndfile reads → float32 mono (or one chosen channel) at 16 kHz.

Reading goes through soundfile (WAV, FLAC, OGG/Vorbis, MP3 with libsndfile >= 1.1, ...); resampling
through torchaudio's band-limited sinc resampler. A time span is read by seeking, so a 5 s answer in a
30 min interview decodes 5 s, not 30 min; ``read_blocks`` walks a whole recording in fixed blocks, so a
2 h recording is never held whole.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioError
from ..fileio import atomic_path

TARGET_SR = 16_000
_SPAN_MARGIN_S = 0.02  # extra audio read on each side of a span so resampling has no edge effects


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says: sample rate (Hz), channels, length in frames, container and encoding."""

    path: str
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate


# what soundfile (LibsndfileError is a RuntimeError) and resampling raise on a truncated or corrupt file
DECODE_ERRORS: tuple[type[Exception], ...] = (RuntimeError, OSError, ValueError, TypeError)


def _decode_error(path, exc: Exception) -> AudioError:
    return AudioError(
        f"cannot decode audio ({exc})",
        path=path,
        fix="the file may be truncated or corrupt; re-export it as WAV or FLAC",
    )


def audio_info(path: str | Path) -> AudioInfo:
    """Read the header of ``path``; raise ``AudioError`` (naming the file) if it is missing,
    empty or not audio libsndfile can read."""
    path = Path(path)
    if not path.exists():
        raise AudioError("audio file not found", path=path, fix="check the path in the manifest")
    if path.is_dir():
        raise AudioError("is a folder, not an audio file", path=path)
    if path.stat().st_size == 0:
        raise AudioError("file is empty (0 bytes)", path=path, fix="re-export or re-copy the recording")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise AudioError(
            "cannot be opened: permission denied",
            path=path,
            fix="give this user read permission (e.g. `chmod a+r FILE`) or run as a user who can read it",
        ) from None
    try:
        info = sf.info(str(path))
    except PermissionError:
        raise AudioError(
            "cannot be opened: permission denied", path=path, fix="give this user read permission"
        ) from None
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioError(
            f"cannot read audio ({exc})",
            path=path,
            fix="convert it to WAV or FLAC (e.g. `ffmpeg -i IN -ar 16000 OUT.wav`)",
        ) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError("contains no audio samples", path=path, fix="check the recording")
    declared = wav_declared_frames(path) if str(info.format).upper().startswith("WAV") else None
    if declared is not None and declared > info.frames + 1:
        raise AudioError(
            f"is truncated: its header declares {declared / info.samplerate:.1f} s of audio but the file holds "
            f"{info.frames / info.samplerate:.1f} s",
            path=path,
            fix="copy or export the recording again (scoring the part that is there would read it as the whole "
            "interview)",
        )
    return AudioInfo(
        str(path), int(info.samplerate), int(info.channels), int(info.frames), str(info.format), str(info.subtype)
    )


def wav_declared_frames(path: str | Path) -> int | None:
    """Frames the RIFF/WAVE header's ``data`` chunk declares (its byte size over the frame size), or None where
    the file is not plain RIFF, the size is unknown (0 or 0xFFFFFFFF: streaming writers) or the header is cut
    short. Compared with what libsndfile can read (it silently stops at the end of the file), it tells a
    truncated copy from a whole recording."""
    import struct

    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block_align = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(size + (size & 1))
                if len(fmt) < 14:
                    return None
                block_align = struct.unpack("<H", fmt[12:14])[0]
            elif cid == b"data":
                if not block_align or size in (0, 0xFFFFFFFF):
                    return None
                return size // block_align
            else:
                f.seek(size + (size & 1), 1)


@functools.lru_cache(maxsize=16)
def _resampler(orig: int, new: int):
    import torchaudio

    return torchaudio.transforms.Resample(orig, new, lowpass_filter_width=16, rolloff=0.945)


def resample(signal: np.ndarray, orig_sr: int, new_sr: int = TARGET_SR) -> np.ndarray:
    """Resample a 1-D float signal (shape ``(n,)``) from ``orig_sr`` to ``new_sr`` Hz; float32 out."""
    signal = np.asarray(signal, dtype=np.float32)
    if orig_sr == new_sr or signal.size == 0:
        return signal
    import torch

    with torch.inference_mode():
        out = _resampler(int(orig_sr), int(new_sr))(torch.from_numpy(np.ascontiguousarray(signal)))
    return out.numpy().astype(np.float32, copy=False)


def _select_channel(data: np.ndarray, channel: int | None, info: AudioInfo) -> np.ndarray:
    """``data``: (frames, channels) → (frames,): the chosen channel or the mean of all."""
    if channel is None:
        return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    if not 0 <= channel < info.channels:
        raise AudioError(
            f"has {info.channels} channel(s); channel {channel} does not exist",
            path=info.path,
            fix=f"choose a channel in 0..{info.channels - 1} or leave it unset to mix to mono",
        )
    return data[:, channel]


def load_audio(
    path: str | Path,
    start: float = 0.0,
    end: float | None = None,
    sample_rate: int = TARGET_SR,
    channel: int | None = None,
) -> np.ndarray:
    """Read ``path`` (optionally only ``[start, end)`` seconds) as float32 mono at ``sample_rate``.

    ``channel``: index of the channel to keep; None mixes all channels to mono. Returns shape ``(n,)``,
    values in [-1, 1] for integer files. Raises ``AudioError`` naming the file on any problem.
    """
    info = audio_info(path)
    sr = info.sample_rate
    if start < 0 or (end is not None and end <= start):
        raise AudioError(f"invalid span start={start} end={end}", path=path, fix="give 0 <= start < end (seconds)")
    if start >= info.duration:
        raise AudioError(
            f"span starts at {start:.3f} s, after the end of the recording ({info.duration:.3f} s)",
            path=path,
            fix="check the turn times against the recording (wrong file or transcript?)",
        )
    if sr == sample_rate:
        first = int(math.floor(start * sr))
        last = info.frames if end is None else min(info.frames, int(math.ceil(end * sr)))
        read_from, read_to = first, last
    else:  # resampled: the samples the whole file's resampling gives at these positions (see _aligned_read)
        first, last, read_from, read_to = _aligned_read(info, start, end, sample_rate)
    try:
        with sf.SoundFile(str(path)) as handle:
            if read_from:
                handle.seek(read_from)
            data = handle.read(read_to - read_from, dtype="float32", always_2d=True)
    except DECODE_ERRORS as exc:
        raise _decode_error(path, exc) from None
    if data.size == 0:
        raise AudioError("no samples in the requested span", path=path)
    mono = _select_channel(data, channel, info)
    if not np.all(np.isfinite(mono)):
        raise AudioError(
            "contains NaN or infinite samples",
            path=path,
            fix="re-export the recording; a float WAV with NaN cannot be analysed",
        )
    if sr == sample_rate:
        return np.ascontiguousarray(mono[first - read_from : last - read_from], dtype=np.float32)
    out = resample(mono, sr, sample_rate)
    base = read_from * sample_rate // sr  # whole-file output index of out[0] (exact: read_from is on the grid)
    return np.ascontiguousarray(out[first - base : last - base], dtype=np.float32)


def _aligned_read(info: AudioInfo, start: float, end: float | None, sample_rate: int) -> tuple[int, int, int, int]:
    """For a span read at another rate: ``(first, last)``, the span's indices in the whole file resampled to
    ``sample_rate`` (``floor(start·rate)`` to ``ceil(end·rate)``), and ``(read_from, read_to)``, the file
    frames to read. ``read_from`` lies on the grid where both rates have a sample (every ``sr / gcd``
    frames: 441 at 44.1 kHz, 1 at 8 kHz) at least ``_SPAN_MARGIN_S`` before the span, so the resampler's
    output lands on the whole file's 16 kHz sample times and, away from the file's ends, equals the whole
    file's resampling to float rounding (a span read off the grid was shifted by up to 1/16000 s, which
    moved features by up to 1e-3)."""
    sr = info.sample_rate
    total = -(-info.frames * sample_rate // sr)  # length of the whole file resampled (torchaudio: ceil)
    first = int(math.floor(start * sample_rate))
    last = total if end is None else min(total, int(math.ceil(end * sample_rate)))
    period = sr // math.gcd(sr, sample_rate)
    margin = int(math.ceil(_SPAN_MARGIN_S * sr))
    read_from = max(0, (first * sr // sample_rate - margin) // period * period)
    read_to = min(info.frames, -(-last * sr // sample_rate) + margin)
    return first, last, read_from, read_to


def read_blocks(
    path: str | Path, block_seconds: int = 30, channel: int | None = None, sample_rate: int = TARGET_SR
) -> Iterator[np.ndarray]:
    """The recording at ``path`` as consecutive float32 mono blocks of ``block_seconds`` (a whole number;
    the last block shorter) at ``sample_rate``, read and resampled one block at a time, so memory does not
    grow with the recording. Joined, the blocks are ``load_audio(path, channel=channel)``: the same samples
    at the file's own rate, within resampling rounding otherwise. Raises ``AudioError`` naming the file."""
    info = audio_info(path)
    if int(block_seconds) != block_seconds or block_seconds <= 0:
        raise ValueError(f"block_seconds must be a positive whole number, got {block_seconds}")
    if info.sample_rate != sample_rate:  # resampled spans: whole seconds tile exactly at any integer rate
        for start in range(0, int(math.ceil(info.duration)), int(block_seconds)):
            if start < info.duration:
                end = start + block_seconds if start + block_seconds < info.duration else None
                yield load_audio(path, start, end, sample_rate, channel)
        return
    try:
        with sf.SoundFile(str(path)) as handle:
            for data in handle.blocks(blocksize=int(block_seconds * sample_rate), dtype="float32", always_2d=True):
                mono = np.ascontiguousarray(_select_channel(data, channel, info), dtype=np.float32)
                if not np.all(np.isfinite(mono)):
                    raise AudioError(
                        "contains NaN or infinite samples",
                        path=path,
                        fix="re-export the recording; a float WAV with NaN cannot be analysed",
                    )
                yield mono
    except AudioError:
        raise
    except DECODE_ERRORS as exc:
        raise _decode_error(path, exc) from None


def write_audio(path: str | Path, signal: np.ndarray, sample_rate: int = TARGET_SR, subtype: str = "PCM_16") -> Path:
    """Write a mono ``(n,)`` or multichannel ``(n, channels)`` float signal atomically.

    The container is taken from the suffix (``.wav``, ``.flac``, ``.ogg``, ...).
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").upper()
    if fmt == "OGG" and subtype == "PCM_16":
        subtype = "VORBIS"
    signal = np.asarray(signal, dtype=np.float32)
    if subtype.startswith("PCM"):
        signal = np.clip(signal, -1.0, 1.0)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), signal, sample_rate, format=fmt, subtype=subtype)
    return path
