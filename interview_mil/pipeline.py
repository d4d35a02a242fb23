"""``ScreeningPipeline``: score new recordings with a trained model bundle, for Python users and ``score``.

    from interview_mil.pipeline import ScreeningPipeline
    pipe = ScreeningPipeline.from_pretrained("exp/model")
    result = pipe.apply("interview.wav", transcript="interview.stm", participant="B")
    result.probability, result.decision, result.turns      # turn table: weight, rank, prosody, ...
    print(result.summary())

One recording takes one way through the stages, each handing its record to the next:

    Interview ─segment─▶ Segmentation ─featurize─▶ TurnFeatures ─bag─▶ Bag ─explain─▶ ExplainedInterview

The recording is decoded once (segmentation keeps the audio for the features). The bundle's
``FeatureRecipe`` says how turns and features were made; the classifier carries everything it fitted
(projection, imputation, scaling, threshold). ``apply(..., hook=f)`` calls ``f(stage, record)`` after each
stage (progress, timing, saving intermediate results). Research screening aid, not a diagnosis.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import SCREENING_DISCLAIMER
from .data.audio import audio_info
from .data.records import Interview
from .errors import AudioError, InterviewMilError
from .explain import ExplainedInterview, explain_bag
from .features import FeatureRecipe, bag_from_features, featurize_interview
from .mil import InterviewClassifier
from .segmentation import segment_interview

Hook = Callable[[str, Any], None]
STAGES = ("segment", "featurize", "bag", "explain")


class ScreeningPipeline:
    """Segmentation → features → MIL model → explanation, exactly as the model's recipe says."""

    def __init__(self, model: InterviewClassifier, recipe: FeatureRecipe, device: str | None = None):
        self.model = model
        self.recipe = recipe
        if device and recipe.features.encoder is not None:
            encoder = dataclasses.replace(recipe.features.encoder, device=device)
            self.recipe = dataclasses.replace(recipe, features=dataclasses.replace(recipe.features, encoder=encoder))
        self._encoder = None

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | None = None) -> ScreeningPipeline:
        """Load a bundle written by ``interview-mil train`` (a folder with model.safetensors + config.json)."""
        model = InterviewClassifier.load(path)
        return cls(model, FeatureRecipe.from_metadata(model.metadata_, source=Path(path)), device)

    @property
    def top_k(self) -> int:
        return self.recipe.top_k

    def _get_encoder(self):
        if self.recipe.features.encoder is None or "embedding" not in self.recipe.parts:
            return None
        if self._encoder is None:
            from .features import load_encoder

            self._encoder = load_encoder(self.recipe.features.encoder)
        return self._encoder

    @staticmethod
    def interview(
        audio: str | Path,
        transcript: str | Path | None = None,
        rttm: str | Path | None = None,
        participant: str | None = None,
        channel: int | None = None,
        interview_id: str | None = None,
    ) -> Interview:
        """The Interview record for one recording (duration read from its header)."""
        path = Path(audio)
        info = audio_info(path)
        stem = path.stem[: -len("_AUDIO")] if path.stem.upper().endswith("_AUDIO") else path.stem  # DAIC naming
        return Interview(
            interview_id=interview_id or stem,
            audio_path=str(path),
            corpus="score",
            transcript_path=None if transcript is None else str(transcript),
            rttm_path=None if rttm is None else str(rttm),
            participant_speaker=participant,
            channel=channel,
            duration=info.duration,
        )

    def apply(
        self,
        audio: str | Path,
        transcript: str | Path | None = None,
        rttm: str | Path | None = None,
        participant: str | None = None,
        channel: int | None = None,
        interview_id: str | None = None,
        hook: Hook | None = None,
    ) -> ExplainedInterview:
        """Score one recording; raises an ``InputError`` naming the file on bad input. ``hook(stage, record)``
        is called after each of ``STAGES`` with that stage's record."""
        report = hook or (lambda stage, record: None)
        interview = self.interview(audio, transcript, rttm, participant, channel, interview_id)
        seg = segment_interview(interview, self.recipe.segmentation, keep_audio=True)
        report("segment", seg)
        if not seg.turns:
            raise AudioError(
                "no participant speech found",
                path=audio,
                fix="check the recording is not silent and the participant speaker/channel is right",
            )
        features = featurize_interview(
            interview, seg.turns, self.recipe.features, encoder=self._get_encoder(), audio=seg.audio
        )
        report("featurize", features)
        bag = bag_from_features(
            interview, seg.turns, features, self.recipe.parts, columns=list(self.model.feature_names_in_)
        )
        report("bag", bag)
        result = explain_bag(self.model, bag, seg.interviewer, seg.duration, top_k=self.top_k)
        report("explain", result)
        return result

    def apply_many(
        self, jobs: Sequence[dict], progress: bool = True, hook: Hook | None = None
    ) -> tuple[list[ExplainedInterview], dict[str, str]]:
        """``apply(**job)`` for each job; a failure is recorded (file → message) and the rest finished."""
        from tqdm.auto import tqdm

        results, failures = [], {}
        for job in tqdm(jobs, desc="scoring", unit="recording", disable=not progress):
            try:
                results.append(self.apply(**job, hook=hook))
            except Exception as exc:  # a batch reports failures and finishes the rest
                kind = "" if isinstance(exc, InterviewMilError) else f"{type(exc).__name__}: "
                failures[str(job["audio"])] = f"{kind}{exc}"
        return results, failures


__all__ = ["ScreeningPipeline", "STAGES", "SCREENING_DISCLAIMER"]
