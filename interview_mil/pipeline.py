"""``ScreeningPipeline``: score new recordings with a trained model bundle, for Python users and ``score``.

    from interview_mil.pipeline import ScreeningPipeline
    pipe = ScreeningPipeline.from_pretrained("exp/model")
    result = pipe.apply("interview.wav", transcript="interview.stm", participant="B")
    result.probability, result.decision, result.turns      # turn table: weight, rank, prosody, ...
    print(result.summary())

The bundle records the segmentation and feature settings it was trained with; the pipeline reruns
exactly those (the encoder is loaded once and kept). Research screening aid, not a diagnosis.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import SCREENING_DISCLAIMER
from .config import from_dict
from .data.audio import audio_info
from .data.records import Interview
from .errors import AudioError, ModelNotFoundError


@dataclass
class ScreeningResult:
    """The outcome for one recording: ``row`` (interview table row), ``turns`` (turn table)."""

    interview_id: str
    audio_path: str
    row: dict
    turns: pd.DataFrame
    interviewer: list[tuple[float, float]] = field(default_factory=list)
    duration: float | None = None

    @property
    def probability(self) -> float:
        return float(self.row["probability"])

    @property
    def decision(self) -> int:
        return int(self.row["decision"])

    @property
    def threshold(self) -> float:
        return float(self.row["threshold"])

    def top_turns(self, k: int = 3) -> pd.DataFrame:
        return self.turns.sort_values("rank").head(k)

    def summary(self, k: int = 3) -> str:
        """A few lines for the terminal: probability, decision at the saved threshold, top turns."""
        word = "screen positive" if self.decision else "screen negative"
        lines = [f"{self.audio_path}: probability {self.probability:.3f} → {word} "
                 f"(threshold {self.threshold:.3f}, {len(self.turns)} turns)"]
        for r in self.top_turns(k).itertuples():
            text = f"  \"{r.text[:60]}\"" if isinstance(r.text, str) and r.text else ""
            lines.append(f"  #{r.rank} {r.start:7.1f}–{r.end:7.1f} s  weight {r.weight:.3f}{text}")
        return "\n".join(lines)

    def explained(self):
        from .explain.export import ExplainedInterview

        return ExplainedInterview(self.row, self.turns, self.interviewer, self.duration)


class ScreeningPipeline:
    """Segmentation → features → MIL model → explanation, with the settings saved in the bundle."""

    def __init__(self, model, segmentation, features, parts: Sequence[str], feature_names: Sequence[str],
                 top_k: int = 3, device: str | None = None):
        self.model = model
        self.segmentation = segmentation
        self.features = features
        self.parts = tuple(parts)
        self.feature_names = list(feature_names)
        self.top_k = top_k
        self.device = device
        self.projection = None  # EmbeddingProjection of the bundle, when the model was trained with one
        self._encoder = None

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None) -> "ScreeningPipeline":
        """Load a bundle written by ``interview-mil train`` (a folder with model.safetensors + config.json)."""
        from .features import FeatureConfig
        from .mil import load_classifier
        from .segmentation import SegmentationConfig

        model = load_classifier(path)
        meta = getattr(model, "metadata_", {}) or {}
        missing = [k for k in ("segmentation", "features", "parts") if k not in meta]
        if missing:
            raise ModelNotFoundError(f"the bundle lacks {missing}: it was not written by `interview-mil train`",
                                     path=path, fix="train with `interview-mil train CONF --out EXP` and use EXP/model")
        features = from_dict(FeatureConfig, meta["features"], source=path)
        if device and features.encoder is not None:
            features = dataclasses.replace(features, encoder=dataclasses.replace(features.encoder, device=device))
        pipe = cls(model, from_dict(SegmentationConfig, meta["segmentation"], source=path), features,
                   meta["parts"], meta.get("feature_names") or list(model.feature_names_in_),
                   int(meta.get("top_k", 3)), device)
        if meta.get("projection"):
            from .experiment.projection import EmbeddingProjection

            pipe.projection = EmbeddingProjection.from_dict(meta["projection"])
        return pipe

    def _get_encoder(self):
        if self.features.encoder is None or "embedding" not in self.parts:
            return None
        if self._encoder is None:
            from .features import load_encoder

            self._encoder = load_encoder(self.features.encoder)
        return self._encoder

    def interview(self, audio: str | Path, transcript: str | Path | None = None, rttm: str | Path | None = None,
                  participant: str | None = None, channel: int | None = None,
                  interview_id: str | None = None) -> Interview:
        """The Interview record for one recording (duration read from its header)."""
        path = Path(audio)
        info = audio_info(path)
        stem = path.stem[:-len("_AUDIO")] if path.stem.upper().endswith("_AUDIO") else path.stem  # DAIC naming
        return Interview(interview_id=interview_id or stem, audio_path=str(path), corpus="score",
                         transcript_path=None if transcript is None else str(transcript),
                         rttm_path=None if rttm is None else str(rttm), participant_speaker=participant,
                         channel=channel, duration=info.duration)

    def apply(self, audio: str | Path, transcript: str | Path | None = None, rttm: str | Path | None = None,
              participant: str | None = None, channel: int | None = None,
              interview_id: str | None = None) -> ScreeningResult:
        """Score one recording; raises an ``InputError`` naming the file on bad input."""
        from .experiment.dataset import bag_from_features
        from .explain.export import interviewer_spans
        from .explain.tables import explain_interview
        from .features import featurize_interview
        from .segmentation import segment_interview

        interview = self.interview(audio, transcript, rttm, participant, channel, interview_id)
        turns = segment_interview(interview, self.segmentation)
        if not turns:
            raise AudioError("no participant speech found", path=audio,
                             fix="check the recording is not silent and the participant speaker/channel is right")
        feats = featurize_interview(interview, turns, self.features, encoder=self._get_encoder())
        bag, _, prosody = bag_from_features(feats, turns, self.parts, columns=self.feature_names)
        if self.projection is not None:
            bag = self.projection.apply(bag)
        row, table = explain_interview(self.model, interview.interview_id, turns, bag, prosody, top_k=self.top_k)
        row["audio"] = str(audio)
        return ScreeningResult(interview.interview_id, str(audio), row, table, interviewer_spans(interview),
                               interview.duration)

    def apply_many(self, jobs: Sequence[dict], progress: bool = True) -> tuple[list[ScreeningResult], dict[str, str]]:
        """``apply(**job)`` for each job; a failure is recorded (file → message) and the rest finished."""
        from tqdm.auto import tqdm

        from .errors import InterviewMilError

        results, failures = [], {}
        for job in tqdm(jobs, desc="scoring", unit="recording", disable=not progress):
            try:
                results.append(self.apply(**job))
            except Exception as exc:  # a batch reports failures and finishes the rest
                kind = "" if isinstance(exc, InterviewMilError) else f"{type(exc).__name__}: "
                failures[str(job["audio"])] = f"{kind}{exc}"
        return results, failures


__all__ = ["ScreeningPipeline", "ScreeningResult", "SCREENING_DISCLAIMER"]
