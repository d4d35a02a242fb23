"""LibriSpeech utterances → phrases: stretches of one speaker's read speech cut at pauses.

A phrase holds 1.2-8 s of speech (``PhraseRules``), trimmed of the silence before and after it but for a
short pad. Speech frames (10 ms) are those webrtcvad calls speech and whose level stands clear of the
utterance's noise floor. An utterance is cut at its longest internal pause while the piece is longer than
``max_s``, or while that pause is at least ``split_pause_s`` long, and never where a side would keep less
than ``min_s``; pieces that stay shorter than ``min_s`` (or longer than ``max_s``) are dropped.
Everything here is deterministic (no random draws).

Source layout (``speech_dir``, the shared copy of LibriSpeech)::

    test-other/<speaker>/<speaker>-<chapter>-<utt>.flac      10 speakers x 10 utterances
    train-clean-100/<speaker>-<chapter>-<utt>.flac           60 speakers, one utterance each
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...data.audio import TARGET_SR, load_audio
from ...errors import ConfigError

SR = TARGET_SR
SUBSETS = ("test-other", "train-clean-100")


@dataclass(frozen=True)
class PhraseRules:
    """How utterances are cut. Seconds throughout; ``min_s``/``max_s``: the length of a phrase's speech;
    ``vad_mode``: webrtcvad aggressiveness 0-3; ``min_snr_db``: how far (dB) a speech frame's level must
    stand above the utterance's noise floor; ``pad_s``: silence kept before and after the speech (at most
    half the pause to the neighbouring phrase), so a padded phrase is up to ``2 * pad_s`` longer."""

    min_s: float = 1.2
    max_s: float = 8.0
    split_pause_s: float = 0.35
    frame_s: float = 0.01
    vad_mode: int = 2
    min_snr_db: float = 12.0
    pad_s: float = 0.08


@dataclass(frozen=True, eq=False)
class Phrase:
    """One phrase. ``source``: the FLAC file relative to ``speech_dir``; ``start``/``end``: seconds in it;
    ``samples``: (n,) float32 at 16 kHz, exactly ``source[start:end]``."""

    speaker: str
    utterance: str
    index: int
    source: str
    start: float
    end: float
    samples: np.ndarray = field(repr=False)

    @property
    def phrase_id(self) -> str:
        """``<speaker>-<chapter>-<utt>_<index>``: unique in the corpus."""
        return f"{self.utterance}_{self.index}"

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / SR


def check_speech_dir(speech_dir: str | Path) -> Path:
    """``speech_dir`` as a Path, or a ``ConfigError`` saying what is missing and how to fix it."""
    root = Path(speech_dir)
    if not any((root / sub).is_dir() for sub in SUBSETS):
        raise ConfigError(
            f"no LibriSpeech speech found (expected {' or '.join(s + '/' for s in SUBSETS)} in it)",
            path=root,
            fix="set corpus.synth.speech_dir to the folder holding test-other/ and train-clean-100/ "
            "(a relative path counts from the directory the command runs in)",
        )
    return root


def utterance_files(speech_dir: str | Path) -> list[Path]:
    """Every ``*.flac`` of both subsets, sorted by (speaker number, utterance id)."""
    root = check_speech_dir(speech_dir)
    files = [p for sub in SUBSETS if (root / sub).is_dir() for p in (root / sub).rglob("*.flac")]
    return sorted(files, key=lambda p: (speaker_of(p), p.stem))


def speaker_of(path: str | Path) -> int:
    """The LibriSpeech speaker number of a file (the first field of its name)."""
    return int(Path(path).stem.split("-")[0])


def frame_levels(samples: np.ndarray, frame_s: float) -> np.ndarray:
    """RMS level (dBFS, floor -120) of each whole ``frame_s`` frame of ``samples``: (n_frames,)."""
    hop = int(round(frame_s * SR))
    n = len(samples) // hop
    frames = np.asarray(samples[: n * hop], dtype=np.float64).reshape(n, hop)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def speech_frames(samples: np.ndarray, rules: PhraseRules = PhraseRules()) -> np.ndarray:
    """Speech decision per ``rules.frame_s`` frame of ``samples`` ((n,) float at 16 kHz): (n_frames,) bool.

    webrtcvad on the utterance scaled so its loud frames (95th percentile) sit at -15 dBFS (its decisions
    depend on the absolute level), and only where the frame is ``rules.min_snr_db`` above the utterance's
    noise floor (10th percentile of frame levels): webrtcvad alone calls near-digital silence speech."""
    import webrtcvad

    vad = webrtcvad.Vad(rules.vad_mode)
    hop = int(round(rules.frame_s * SR))
    levels = frame_levels(samples, rules.frame_s)
    if not levels.size:
        return np.zeros(0, dtype=bool)
    gain = 10 ** (min(40.0, -15.0 - float(np.percentile(levels, 95))) / 20)
    pcm = (np.clip(samples * gain, -1.0, 1.0) * 32767).astype("<i2")
    loud = levels >= np.percentile(levels, 10) + rules.min_snr_db
    voiced = [vad.is_speech(pcm[i * hop : (i + 1) * hop].tobytes(), SR) for i in range(len(levels))]
    return np.asarray(voiced, dtype=bool) & loud


def _runs(flags: np.ndarray, value: bool) -> list[tuple[int, int]]:
    """``[(first, stop), ...]`` frame index runs where ``flags == value``."""
    padded = np.concatenate([[0], (flags == value).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def phrase_spans(speech: np.ndarray, rules: PhraseRules = PhraseRules()) -> list[tuple[int, int]]:
    """Phrase spans ``[(first, stop), ...]`` in frames of a VAD decision sequence, trimmed to speech.

    A piece is cut in its longest internal pause while it is longer than ``max_s`` or that pause is at
    least ``split_pause_s``, as long as both sides keep ``min_s``; pieces under ``min_s`` are dropped, and
    a piece over ``max_s`` that cannot be cut at a pause is dropped too."""
    voiced = _runs(speech, True)
    if not voiced:
        return []
    min_f, max_f = rules.min_s / rules.frame_s, rules.max_s / rules.frame_s
    split_f = rules.split_pause_s / rules.frame_s

    def cut(first: int, stop: int) -> list[tuple[int, int]]:
        length = stop - first
        pauses = [(b - a, a, b) for a, b in _runs(speech[first:stop], False)]
        pauses = [(n, a + first, b + first) for n, a, b in pauses if a > 0 and b < length]
        usable = [p for p in pauses if p[1] - first >= min_f and stop - p[2] >= min_f]
        longest = max(usable, default=None)  # longest pause; on a tie the later one
        if longest is not None and (length > max_f or longest[0] >= split_f):
            _, a, b = longest
            return cut(first, a) + cut(b, stop)
        return [(first, stop)] if min_f <= length <= max_f else []

    return cut(voiced[0][0], voiced[-1][1])


def split_utterance(path: str | Path, speech_dir: str | Path, rules: PhraseRules = PhraseRules()) -> list[Phrase]:
    """The phrases of one FLAC file (read at 16 kHz mono), in order."""
    path = Path(path)
    samples = load_audio(path)
    spans = phrase_spans(speech_frames(samples, rules), rules)
    hop, pad = int(round(rules.frame_s * SR)), int(round(rules.pad_s * SR))
    source = path.relative_to(speech_dir).as_posix() if path.is_relative_to(speech_dir) else str(path)
    bounds = [0] + [(stop + first) * hop // 2 for (_, stop), (first, _) in zip(spans, spans[1:])] + [len(samples)]
    out = []
    for k, (first, stop) in enumerate(spans):
        a, b = max(bounds[k], first * hop - pad), min(bounds[k + 1], stop * hop + pad)
        out.append(Phrase(str(speaker_of(path)), path.stem, k, source, a / SR, b / SR, samples[a:b].copy()))
    return out


def phrases_by_speaker(
    speech_dir: str | Path, rules: PhraseRules = PhraseRules(), speakers: Iterable[str] | None = None
) -> dict[str, list[Phrase]]:
    """``{speaker: [phrase, ...]}`` for every speaker (or only ``speakers``), speakers in numeric order,
    phrases in (utterance, index) order; speakers without a usable phrase are left out."""
    root = check_speech_dir(speech_dir)
    wanted = None if speakers is None else {str(s) for s in speakers}
    out: dict[str, list[Phrase]] = {}
    for path in utterance_files(root):
        speaker = str(speaker_of(path))
        if wanted is not None and speaker not in wanted:
            continue
        found = split_utterance(path, root, rules)
        if found:
            out.setdefault(speaker, []).extend(found)
    return out


def all_speakers(speech_dir: str | Path) -> list[str]:
    """Every speaker id with at least one file, in numeric order (no audio is read)."""
    return [str(s) for s in sorted({speaker_of(p) for p in utterance_files(speech_dir)})]
