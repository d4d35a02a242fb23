"""``ExplainedInterview``: one recording after the model has scored and explained it — a typed interview
row, the turn table and the interviewer's spans for the timeline. ``score``, ``explain``, the HTML report
and the Python API all hand this one record around."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

Span = tuple[float, float]


@dataclass
class InterviewRow:
    """One row of the interview table. ``probability``: the model's positive-class probability;
    ``decision``: 1 when it reaches ``threshold``; ``top_turn_ids``: the most influential turns, ``;``-joined;
    ``phq8_estimate``: PHQ-8 points (models with the head); the faithfulness fields: probability drop when
    the top ``faithfulness_k`` turns, or as many random turns (mean), are removed; ``label``: the known
    label (evaluation data only); ``status``: ``ok``, ``failed`` for a recording of a batch that could not
    be scored (``error`` says why, and the scores are empty), or ``insufficient_audio`` when the input
    quality gate refused it (no probability); ``quality``: the gate's verdict (``ok``/``insufficient``,
    None when it did not run) and ``quality_reason`` its reasons and notes (``segmentation.quality``).
    ``probability_low``/``probability_high``: the interval of the probability (``mil.uncertainty``);
    ``screen``: the three-way decision (screen negative / refer / screen positive) of the split-conformal
    screen at error rate ``alpha`` (``mil.conformal``; None when the model has no calibration set).
    ``phq8_rmse``/``phq8_ccc``: the PHQ-8 head's cross-validated error (points) and agreement, from the
    model's inner folds (None where the model has none): read the estimate as ± that error.
    ``participant_voice``/``participant_margin``: the voice the ``diarize`` source took for the participant
    (``spk1`` spoke first) and the evidence for it (None when the user chose it or another source ran);
    ``other_voice_share``: share of turn time another voice fills (VAD-only turns; a quality ``refer`` from
    0.2)."""

    interview_id: str
    audio_path: str
    probability: float
    decision: int
    threshold: float
    n_turns: int
    top_turn_ids: str
    probability_low: float | None = None
    probability_high: float | None = None
    screen: str | None = None
    alpha: float | None = None
    phq8_estimate: float | None = None
    faithfulness_k: int | None = None
    prob_drop_top_k: float | None = None
    prob_drop_random_k: float | None = None
    faithful: bool | None = None
    label: int | None = None
    status: str = "ok"
    error: str | None = None
    quality: str | None = None
    quality_reason: str | None = None
    phq8_rmse: float | None = None
    phq8_ccc: float | None = None
    participant_voice: str | None = None
    participant_margin: float | None = None
    other_voice_share: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


INTERVIEW_COLUMNS = [f.name for f in dataclasses.fields(InterviewRow)]


def _screen_by(row: InterviewRow) -> str:
    """Who set the three-way screen: the quality gate (another voice in the turns) or the conformal screen."""
    return "quality: see below" if row.quality == "refer" else f"conformal, alpha {row.alpha:.2f}"


PHQ8_WEAK_CCC = 0.5  # below it the estimate agrees with the truth too little to be read on its own


def phq8_text(row: InterviewRow) -> str:
    """The PHQ-8 estimate as a clinician should read it: with its cross-validated error, and said to be weak
    where the head's cross-validated agreement is low (or unknown); "" without an estimate."""
    phq = row.phq8_estimate
    if phq is None or not np.isfinite(phq):
        return ""
    if row.phq8_rmse is None:
        return f"PHQ-8 estimate {phq:.1f} (its cross-validated error is unknown for this model: do not read it alone)"
    text = f"PHQ-8 estimate {phq:.1f} ± {row.phq8_rmse:.1f} points (cross-validated RMSE"
    if row.phq8_ccc is None or not np.isfinite(row.phq8_ccc):
        return text + "; its agreement is unknown: read the probability instead)"
    if row.phq8_ccc < PHQ8_WEAK_CCC:
        return text + f"; agreement CCC {row.phq8_ccc:.2f}: weak, read the probability instead)"
    return text + f"; CCC {row.phq8_ccc:.2f})"


INSUFFICIENT_AUDIO = "insufficient_audio"  # ``status`` of a recording the input quality gate refused


@dataclass
class ExplainedInterview:
    """``row``: the interview row; ``turns``: the turn table (one row per participant turn, in turn order);
    ``interviewer``: (start, end) s of interviewer speech for the timeline (never evidence);
    ``duration``: recording length in seconds (None when unknown)."""

    row: InterviewRow
    turns: pd.DataFrame
    interviewer: list[Span] = field(default_factory=list)
    duration: float | None = None

    @property
    def interview_id(self) -> str:
        return self.row.interview_id

    @property
    def audio_path(self) -> str:
        return self.row.audio_path

    @property
    def probability(self) -> float:
        return float(self.row.probability)

    @property
    def decision(self) -> int:
        return int(self.row.decision)

    @property
    def threshold(self) -> float:
        return float(self.row.threshold)

    def top_turns(self, k: int = 3) -> pd.DataFrame:
        return self.turns.sort_values("rank").head(k)

    def summary(self, k: int = 3) -> str:
        """A few lines for the terminal: probability, decision at the saved threshold, top turns (or why
        the recording was not scored)."""
        if self.row.status != "ok":
            what = "insufficient audio" if self.row.status == INSUFFICIENT_AUDIO else "failed"
            return f"{self.audio_path}: {what}, not scored: {self.row.quality_reason or self.row.error}"
        word = "screen positive" if self.decision else "screen negative"
        r = self.row
        interval = "" if r.probability_low is None else f" [{r.probability_low:.3f}–{r.probability_high:.3f}]"
        lines = [
            f"{self.audio_path}: calibrated probability {self.probability:.3f}{interval} → "
            + (f"{r.screen.upper()} ({_screen_by(r)}); " if r.screen else "")
            + f"{word} at threshold {self.threshold:.3f} ({len(self.turns)} turns)"
        ]
        if phq8_text(r):
            lines.append(f"  {phq8_text(r)}")
        if r.quality and r.quality != "ok" or r.quality_reason:
            lines.append(f"  quality: {r.quality}" + (f" ({r.quality_reason})" if r.quality_reason else ""))
        for r in self.top_turns(k).itertuples():
            text = f'  "{r.text[:60]}"' if isinstance(r.text, str) and r.text else ""
            lines.append(f"  #{r.rank} {r.start:7.1f}–{r.end:7.1f} s  weight {r.weight:.3f}{text}")
        return "\n".join(lines)


def insufficient_row(interview_id: str, audio_path: str, threshold: float, n_turns: int, reason: str) -> InterviewRow:
    """The row of a recording the input quality gate refused: no probability and no decision."""
    return InterviewRow(
        interview_id,
        audio_path,
        float("nan"),
        None,
        round(float(threshold), 6),
        int(n_turns),
        "",
        status=INSUFFICIENT_AUDIO,
        quality="insufficient",
        quality_reason=f"insufficient audio: {reason}",
    )


def interview_frame(items: list[ExplainedInterview]) -> pd.DataFrame:
    """The interview table of ``items`` (columns in ``INTERVIEW_COLUMNS`` order)."""
    return pd.DataFrame([i.row.to_dict() for i in items], columns=INTERVIEW_COLUMNS)
