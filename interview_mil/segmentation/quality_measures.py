"""Signal measures behind the input quality gate (``segmentation.quality``): DC removal, 10 ms levels,
spectral flatness, pitch glide, syllabic modulation depth, effective bandwidth and what the raw file's
channels say. Every function takes float audio at 16 kHz unless it says otherwise."""

from __future__ import annotations

import numpy as np

from ..data.audio import TARGET_SR

_CELL = 160  # samples of a 10 ms cell at 16 kHz
_FLOOR_DB = -120.0


def remove_dc(signal: np.ndarray, sample_rate: int = TARGET_SR) -> np.ndarray:
    """``signal`` (n,) without its DC offset (its mean subtracted); float32 out. Only the constant offset
    is removed (no high-pass): a recording without an offset reaches the features as it is read, less a
    mean of ~1e-5 of full scale, so features from ``Segmentation.audio`` match those from the file."""
    x = np.asarray(signal, dtype=np.float64)
    return (x - x.mean()).astype(np.float32) if x.size else x.astype(np.float32)


def cell_db(x: np.ndarray) -> np.ndarray:
    """RMS level (dBFS) of each 10 ms cell of ``x`` (16 kHz), shape ``(n // 160,)``."""
    n = len(x) // _CELL
    if n == 0:
        return np.zeros(0)
    power = (np.asarray(x[: n * _CELL], dtype=np.float64).reshape(n, _CELL) ** 2).mean(axis=1)
    return np.maximum(10 * np.log10(power + 1e-12), _FLOOR_DB)


def spectral_flatness(x: np.ndarray, sample_rate: int = TARGET_SR) -> float:
    """Median flatness of the 100–3,800 Hz power spectrum over the 32 ms frames (hop 10 ms) of ``x``
    within 30 dB of its loudest frame; NaN when ``x`` is shorter than a frame."""
    win = 512
    if len(x) < win:
        return float("nan")
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(x, dtype=np.float64), win)[::_CELL]
    level = 10 * np.log10((frames**2).mean(axis=1) + 1e-12)
    frames = frames[level >= level.max() - 30.0] * np.hanning(win)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(win, 1.0 / sample_rate)
    band = power[:, (freqs >= 100.0) & (freqs <= 3800.0)] + 1e-20
    flat = np.exp(np.log(band).mean(axis=1)) / band.mean(axis=1)
    return float(np.median(flat))


def pitch_glide(x: np.ndarray, sample_rate: int = TARGET_SR) -> tuple[float, float]:
    """(median |ΔF0| between consecutive voiced 10 ms frames in semitones, voiced fraction) of ``x``
    from Praat's autocorrelation tracker (75–500 Hz); (NaN, 0) with fewer than 5 voiced pairs."""
    import parselmouth

    if len(x) < int(0.1 * sample_rate):
        return float("nan"), 0.0
    pitch = parselmouth.Sound(np.asarray(x, dtype=np.float64), sampling_frequency=float(sample_rate)).to_pitch_ac(
        time_step=0.01, pitch_floor=75.0, pitch_ceiling=500.0
    )
    f0 = np.asarray(pitch.selected_array["frequency"], dtype=np.float64)
    voiced = f0 > 0
    pairs = voiced[1:] & voiced[:-1]
    if pairs.sum() < 5:
        return float("nan"), float(voiced.mean()) if voiced.size else 0.0
    st = 12 * np.log2(np.where(voiced, f0, 1.0))
    return float(np.median(np.abs(np.diff(st))[pairs])), float(voiced.mean())


def modulation_depth(levels_db: np.ndarray, floor_db: float) -> float:
    """SD (dB) of the 10 ms level contour ``levels_db`` (floored at ``floor_db``) band-passed to 2–8 Hz;
    NaN for contours under 1 s."""
    if len(levels_db) < 100:
        return float("nan")
    env = np.maximum(np.asarray(levels_db, dtype=np.float64), floor_db)
    env = env - env.mean()
    spec = np.fft.rfft(env * np.hanning(len(env)))
    freqs = np.fft.rfftfreq(len(env), 0.01)
    spec[(freqs < 2.0) | (freqs > 8.0)] = 0.0
    band = np.fft.irfft(spec, n=len(env))
    return float(band.std() / np.sqrt(np.mean(np.hanning(len(env)) ** 2)))


def _frame_blocks(x: np.ndarray, win: int, hop: int, block: int = 1024):
    """Blocks of at most ``block`` frames (win samples, hop apart) of ``x``, as float64 copies: bounded
    memory however long ``x`` is."""
    view = np.lib.stride_tricks.sliding_window_view(np.asarray(x), win)[::hop]
    for i in range(0, len(view), block):
        yield np.asarray(view[i : i + block], dtype=np.float64)


def effective_bandwidth(pieces: np.ndarray | list[np.ndarray], sample_rate: int = TARGET_SR) -> float:
    """Highest frequency (Hz) whose long-term spectrum (250 Hz bands, active frames of ``pieces``: one
    signal or the turns of a recording, framed each on its own) lies within 50 dB of the strongest band:
    ~7.5 kHz for wideband 16 kHz speech, under 4 kHz for telephone audio. Frames are read in blocks, so
    memory does not grow with the amount of speech."""
    win = 1024
    pieces = [pieces] if isinstance(pieces, np.ndarray) else list(pieces)
    pieces = [p for p in pieces if len(p) >= win]
    if not pieces:
        return float("nan")
    loudest = max(float((f**2).mean(axis=1).max()) for p in pieces for f in _frame_blocks(p, win, win // 2))
    ltas, n_active, window = np.zeros(win // 2 + 1), 0, np.hanning(win)
    for p in pieces:
        for frames in _frame_blocks(p, win, win // 2):
            active = frames[(frames**2).mean(axis=1) >= loudest * 1e-3] * window
            ltas += (np.abs(np.fft.rfft(active, axis=1)) ** 2).sum(axis=0)
            n_active += len(active)
    ltas /= max(n_active, 1)
    freqs = np.fft.rfftfreq(win, 1.0 / sample_rate)
    edges = np.arange(0.0, sample_rate / 2 + 1, 250.0)
    bands = np.array([ltas[(freqs >= a) & (freqs < b)].sum() for a, b in zip(edges[:-1], edges[1:])])
    db = 10 * np.log10(bands + 1e-30)
    above = np.flatnonzero(db >= db.max() - 50.0)
    return float(edges[above[-1] + 1]) if above.size else float("nan")


def recording_measures(path: str, channel: int | None = None) -> dict[str, float | str]:
    """What the raw file says before decoding to 16 kHz mono: ``sample_rate``, ``channels``,
    ``dc_offset`` (mean of the channel used, or of the mix) and a ``channel_note`` when a multichannel
    file is mixed to mono and its channels cancel (phase-inverted: the mix > 6 dB below the channels) or one
    channel is silent. Read block by block, so a long file is never held whole."""
    import soundfile as sf

    info = sf.info(str(path))
    n_ch = int(info.channels)
    total, power, mix_power, count = np.zeros(n_ch), np.zeros(n_ch), 0.0, 0
    for block in sf.blocks(str(path), blocksize=1 << 20, dtype="float32", always_2d=True):
        b = block.astype(np.float64)
        total += b.sum(axis=0)
        power += (b**2).sum(axis=0)
        mix_power += float((b.mean(axis=1) ** 2).sum())
        count += len(b)
    count = max(count, 1)
    mean = total / count
    used = mean.mean() if channel is None else mean[channel]
    out: dict[str, float | str] = {
        "sample_rate": int(info.samplerate),
        "channels": n_ch,
        "dc_offset": round(float(used), 5),
    }
    if n_ch > 1 and channel is None:
        var = np.maximum(power / count - mean**2, 1e-20)
        mix_var = max(mix_power / count - float(mean.mean()) ** 2, 1e-20)
        ch_db = 10 * np.log10(var)
        if 10 * np.log10(mix_var) < ch_db.mean() - 6.0:
            out["channel_note"] = "channels cancel when mixed (phase-inverted?): choose one with --channel"
        elif ch_db.max() - ch_db.min() > 40.0:
            out["channel_note"] = f"channel {int(np.argmin(ch_db))} is silent: mixed anyway (choose with --channel)"
        else:
            out["channel_note"] = f"{n_ch} channels mixed to mono"
    return out
