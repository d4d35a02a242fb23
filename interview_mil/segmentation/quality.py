"""Input quality gate: is there enough participant *speech* in a recording to score it?

``assess_quality(segmentation, config)`` → ``QualityReport``: recording measures, per-turn measures and
flags, and a status (``ok`` or ``insufficient``, with the reasons). A recording below a minimum is not
scored: the tables say "insufficient audio" and why. ``remove_dc`` (in ``quality_measures``) is applied
to every decoded recording before VAD (a DC offset raises every 10 ms level and hides speech from the detector).

What tells speech from noise or tones, each measured per participant turn on its own audio (16 kHz):

* ``flatness``: median spectral flatness (geometric / arithmetic mean of the 100–3,800 Hz power spectrum)
  of the turn's active 32 ms frames. White noise reads about 0.5; voiced speech 0.01–0.1 and the median
  of a turn, fricatives included, stays well under ``max_flatness`` = 0.3.
* ``pitch_glide_st``: median |F0 change| between consecutive voiced 10 ms frames (semitones). Speech
  glides continuously (intonation, micro-prosody: a few hundredths of a semitone per frame even in flat,
  monotone delivery); a buzz or a sequence of steady notes holds F0 to within ~0.005 st inside a note.
* ``modulation_db``: depth of the syllabic rhythm, the standard deviation (dB) of the turn's 10 ms level
  contour band-passed to 2–8 Hz (syllables come at 3–6 per second). Speech: 4–10 dB; steady noise under
  1 dB (it only fluctuates randomly), a buzz ~0.
A recording is refused as not speech when the duration-weighted median over its turns fails a bound;
each turn carries its own flags (``not_speech``, ``low_snr``, ``clipped``, ``too_short``).

Minimums (``QualityConfig``) and their reasons: ``min_speech_s`` = 5 s and ``min_turns`` = 2 (the model
reads each turn against the same speaker's other turns, so one turn carries no contrast, and a few seconds
give a handful of syllables at most); ``min_snr_db`` = 10 dB between the participant's loud speech and
the recording's noise floor (below it pitch tracking and pause detection, which needs 25 dB below the
turn's peak to call a pause, break down); ``max_clipped`` = 2 % of participant speech samples at the
recording's peak (a clipped waveform loses its level contour and adds harmonics; a few peaks clipped is
tolerated and flagged from 0.1 %); ``min_bandwidth_hz`` = 2,500 Hz (below it the formants that the
spectral and embedding features read are gone; telephone audio at 3.4–4 kHz passes with a flag).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.audio import TARGET_SR, load_audio
from ..data.records import Turn
from .quality_measures import (
    _FLOOR_DB,
    cell_db,
    effective_bandwidth,
    modulation_depth,
    pitch_glide,
    remove_dc,
    spectral_flatness,
)
from .record import Segmentation
from .voice_notes import voice_verdict

QUALITY_OK, QUALITY_INSUFFICIENT = "ok", "insufficient"
TURN_QUALITY_COLUMNS = ["q_snr_db", "q_clipped", "q_flatness", "q_pitch_glide_st", "q_modulation_db", "quality_flags"]


@dataclass(frozen=True)
class QualityConfig:
    """The gate's minimums (see the module docstring for why each sits where it does)."""

    min_speech_s: float = 5.0
    min_turns: int = 2
    min_snr_db: float = 10.0
    max_clipped: float = 0.02
    warn_clipped: float = 0.001
    min_bandwidth_hz: float = 2500.0
    narrowband_hz: float = 5000.0
    max_flatness: float = 0.3
    min_pitch_glide_st: float = 0.02
    min_modulation_db: float = 2.0
    min_measured_s: float = 1.0  # turns shorter than this are not judged for speech-likeness


@dataclass
class QualityReport:
    """``status``: ``ok`` or ``insufficient``; ``reasons``: why it is insufficient (empty when ok);
    ``notes``: warnings that do not stop scoring (narrowband, light clipping, DC removed, channels);
    ``measures``: recording measures; ``turns``: per-turn measures and ``quality_flags`` (``;``-joined,
    empty when the turn is fine), indexed by ``turn_id``; ``refer``: scored, but another voice fills so
    much of the turns that the answer must go to a clinician (``voice_notes``)."""

    status: str
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    measures: dict[str, float] = field(default_factory=dict)
    turns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TURN_QUALITY_COLUMNS))
    refer: bool = False

    @property
    def ok(self) -> bool:
        return self.status == QUALITY_OK

    @property
    def reason(self) -> str:
        """One line for a table cell: the reasons, then the notes."""
        return "; ".join(self.reasons + self.notes)


def turn_audio(seg: Segmentation) -> tuple[list[np.ndarray], np.ndarray]:
    """(each turn's samples, the 10 ms levels the noise floor is read from): cut from ``seg.audio`` (the
    floor from the whole recording), or for a long recording kept without its audio read turn by turn
    (DC removed; the floor from the turns' own pauses, which reads a little high)."""
    if seg.audio is not None:
        audio = np.asarray(seg.audio)  # views into the decoded audio, no copies
        cut = [audio[int(t.start * TARGET_SR) : min(int(np.ceil(t.end * TARGET_SR)), len(audio))] for t in seg.turns]
        return cut, cell_db(audio)
    path, channel = seg.interview.audio_path, seg.interview.channel
    cut = [remove_dc(load_audio(path, t.start, t.end, channel=channel)) for t in seg.turns]  # float32
    return cut, np.concatenate([cell_db(c) for c in cut]) if cut else np.zeros(0)


def _turn_measures(turn: Turn, x: np.ndarray, floor_db: float, peak: float) -> dict[str, float]:
    levels = cell_db(x)
    glide, voiced = pitch_glide(x)
    return {
        "duration": turn.duration,
        "q_snr_db": float(np.percentile(levels, 95) - floor_db) if levels.size else float("nan"),
        "q_clipped": float(np.mean(np.abs(x) >= 0.98 * peak)) if x.size and peak > 0 else 0.0,
        "q_flatness": spectral_flatness(x),
        "q_pitch_glide_st": glide,
        "q_voiced": voiced,
        "q_modulation_db": modulation_depth(levels, floor_db),
    }


def _not_speech(row: dict[str, float], config: QualityConfig) -> list[str]:
    """Which speech-likeness bounds the measures of ``row`` fail (NaN measures fail none)."""
    out = []
    if row["q_flatness"] > config.max_flatness:
        out.append(f"noise-like spectrum (flatness {row['q_flatness']:.2f} > {config.max_flatness})")
    if row["q_pitch_glide_st"] < config.min_pitch_glide_st or (row["q_voiced"] < 0.05):
        glide = row["q_pitch_glide_st"]
        text = "no voicing" if not np.isfinite(glide) else f"pitch glide {glide:.3f} st"
        out.append(f"no speech-like pitch movement ({text}; speech ≥ {config.min_pitch_glide_st})")
    if row["q_modulation_db"] < config.min_modulation_db:
        out.append(
            f"no syllable rhythm (2–8 Hz modulation {row['q_modulation_db']:.1f} dB < {config.min_modulation_db})"
        )
    return out


def _weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    v, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    keep = np.isfinite(v)
    if not keep.any():
        return float("nan")
    order = np.argsort(v[keep])
    cum = np.cumsum(w[keep][order])
    return float(v[keep][order][np.searchsorted(cum, cum[-1] / 2)])


def assess_quality(
    seg: Segmentation, config: QualityConfig | None = None, recording: dict[str, float] | None = None
) -> QualityReport:
    """The gate's verdict on one segmented recording (``seg.audio``: 16 kHz mono, DC removed, or None for a
    long recording: its turns are then read one by one).

    ``recording``: measures of the raw file from ``data.audio``-level checks (``dc_offset``, ``channels``,
    ``sample_rate``, ``channel_note``), copied into the report. Never raises on bad audio: what is wrong
    is in ``reasons``."""
    config = config or QualityConfig()
    pieces, levels = turn_audio(seg)
    floor = float(np.percentile(levels, 10)) if levels.size else _FLOOR_DB
    peak = max((float(np.abs(x).max()) for x in pieces if x.size), default=0.0)
    if seg.audio is not None and len(seg.audio):
        peak = max(peak, float(np.abs(seg.audio).max()))
    rows = [_turn_measures(t, x, floor, peak) for t, x in zip(seg.turns, pieces)]
    measures: dict[str, float] = dict(recording or {})
    speech_s = float(sum(t.duration for t in seg.turns))
    measures.update(speech_s=round(speech_s, 3), n_turns=len(seg.turns), noise_floor_dbfs=round(floor, 1))
    reasons, notes = [], [str(measures.pop("channel_note"))] if measures.get("channel_note") else []
    if abs(float(measures.get("dc_offset", 0.0))) >= 0.005:
        notes.append(f"DC offset {measures['dc_offset']:+.3f} removed")
    if not seg.turns:
        reasons.append("no participant speech found (silent, or not the participant's channel/speaker?)")
    elif speech_s < config.min_speech_s:
        reasons.append(f"only {speech_s:.1f} s of participant speech (minimum {config.min_speech_s:g} s)")
    if 0 < len(seg.turns) < config.min_turns:
        reasons.append(f"{len(seg.turns)} participant turn(s) (minimum {config.min_turns})")
    flags: list[str] = []
    if rows:
        weights = [r["duration"] for r in rows]
        summary = {k: _weighted_median([r[k] for r in rows], weights) for k in rows[0] if k != "duration"}
        judged = [r for r in rows if r["duration"] >= config.min_measured_s] or rows
        jw = [r["duration"] for r in judged]
        speechlike = {k: _weighted_median([r[k] for r in judged], jw) for k in rows[0] if k != "duration"}
        clipped = float(np.average([r["q_clipped"] for r in rows], weights=weights))
        measures.update(
            snr_db=round(summary["q_snr_db"], 1),
            clipped_fraction=round(clipped, 5),
            flatness=round(speechlike["q_flatness"], 3),
            pitch_glide_st=round(speechlike["q_pitch_glide_st"], 4),
            modulation_db=round(speechlike["q_modulation_db"], 2),
            bandwidth_hz=effective_bandwidth(pieces),
        )
        reasons += [f"not speech: {why}" for why in _not_speech(speechlike, config)]
        if summary["q_snr_db"] < config.min_snr_db:
            reasons.append(f"speech-to-noise {summary['q_snr_db']:.1f} dB (minimum {config.min_snr_db:g} dB)")
        if clipped > config.max_clipped:
            reasons.append(f"{100 * clipped:.1f} % of speech samples clipped (maximum {100 * config.max_clipped:g} %)")
        elif clipped > config.warn_clipped:
            notes.append(f"light clipping ({100 * clipped:.2f} % of speech samples)")
        bw = measures["bandwidth_hz"]
        if bw < config.min_bandwidth_hz:
            reasons.append(f"effective bandwidth {bw:.0f} Hz (minimum {config.min_bandwidth_hz:g} Hz)")
        elif bw < config.narrowband_hz:
            notes.append(f"narrowband audio ({bw:.0f} Hz): spectral features are less reliable")
        flags = [_turn_flags(r, config) for r in rows]
    table = pd.DataFrame(rows, index=[t.turn_id for t in seg.turns]).drop(columns=["duration"], errors="ignore")
    table["quality_flags"] = flags
    table = table.reindex(columns=TURN_QUALITY_COLUMNS)
    voices = voice_verdict(seg)
    notes += voices.notes
    measures.update(voices.measures)
    status = QUALITY_INSUFFICIENT if reasons else QUALITY_OK
    return QualityReport(status, reasons, notes, measures, table, refer=voices.refer)


def _turn_flags(row: dict[str, float], config: QualityConfig) -> str:
    out = []
    if row["duration"] < config.min_measured_s:
        out.append("too_short")
    elif _not_speech(row, config):
        out.append("not_speech")
    if row["q_snr_db"] < config.min_snr_db:
        out.append("low_snr")
    if row["q_clipped"] > config.max_clipped:
        out.append("clipped")
    return ";".join(out)
