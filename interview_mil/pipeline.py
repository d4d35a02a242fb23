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
stage (progress, timing, saving intermediate results). ``score_batch(jobs, out_dir)`` scores many
recordings into a folder that is written one recording at a time and resumes where a stopped run ended
(``explain.batch_store``). Research screening aid, not a diagnosis.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import SCREENING_DISCLAIMER
from .data.audio import audio_info
from .data.records import Interview
from .errors import RECORDING_ERRORS, ConfigError
from .explain import ExplainedInterview, explain_bag
from .explain.batch_jobs import Runner, assign_ids, base_id, check_jobs, fingerprint, same_audio, score_here
from .explain.batch_store import BatchStore, describe_failure, failed_item, record_key
from .explain.records import insufficient_row
from .features import FeatureRecipe, bag_from_features, featurize_interview
from .mil import InterviewClassifier
from .mil.conformal import REFER, check_alpha
from .segmentation import NoTurnsWarning, segment_interview
from .segmentation.quality import TURN_QUALITY_COLUMNS, QualityConfig, assess_quality
from .segmentation.quality_measures import recording_measures

Hook = Callable[[str, Any], None]
STAGES = ("segment", "quality", "featurize", "bag", "explain")


class ScreeningPipeline:
    """Segmentation → features → MIL model → explanation, exactly as the model's recipe says."""

    def __init__(
        self,
        model: InterviewClassifier,
        recipe: FeatureRecipe,
        device: str | None = None,
        quality: QualityConfig | None = None,
        alpha: float | None = None,
    ):
        self.model = model
        self.recipe = recipe
        self.alpha = None if alpha is None else check_alpha(alpha)  # three-way screen; None: the bundle's
        self.quality = quality or QualityConfig()  # the input gate's minimums (segmentation.quality)
        if device and recipe.features.encoder is not None:
            encoder = dataclasses.replace(recipe.features.encoder, device=device)
            self.recipe = dataclasses.replace(recipe, features=dataclasses.replace(recipe.features, encoder=encoder))
        self._encoder = None

    @classmethod
    def from_pretrained(
        cls, path: str | Path, device: str | None = None, alpha: float | None = None
    ) -> ScreeningPipeline:
        """Load a bundle written by ``interview-mil train`` (a folder with model.safetensors + config.json);
        ``alpha``: error rate of the three-way screen (None: the one saved in the bundle)."""
        model = InterviewClassifier.load(path)
        return cls(model, FeatureRecipe.from_metadata(model.metadata_, source=Path(path)), device, alpha=alpha)

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
        file_id: str | None = None,
    ) -> Interview:
        """The Interview record for one recording (duration read from its header). ``file_id``: the
        recording's id in an STM/RTTM file that holds several recordings (default: matched by name)."""
        path = Path(audio)
        info = audio_info(path)
        return Interview(
            interview_id=interview_id or base_id(path),
            audio_path=str(path),
            corpus="score",
            transcript_path=None if transcript is None else str(transcript),
            rttm_path=None if rttm is None else str(rttm),
            participant_speaker=participant,
            channel=channel,
            duration=info.duration,
            meta={} if file_id is None else {"file_id": file_id},
        )

    def apply(
        self,
        audio: str | Path,
        transcript: str | Path | None = None,
        rttm: str | Path | None = None,
        participant: str | None = None,
        channel: int | None = None,
        interview_id: str | None = None,
        file_id: str | None = None,
        hook: Hook | None = None,
    ) -> ExplainedInterview:
        """Score one recording; raises an ``InputError`` naming the file on bad input. ``hook(stage, record)``
        is called after each of ``STAGES`` with that stage's record. A recording the input quality gate
        refuses (too little participant speech, noise or tones, heavy clipping, ...) is returned unscored:
        ``status`` ``insufficient_audio``, no probability, the reasons in ``quality_reason``."""
        report = hook or (lambda stage, record: None)
        interview = self.interview(audio, transcript, rttm, participant, channel, interview_id, file_id)
        with warnings.catch_warnings():  # no turns is the gate's refusal below, not also a warning
            warnings.simplefilter("ignore", NoTurnsWarning)
            seg = segment_interview(interview, self.recipe.segmentation, keep_audio=True)
        report("segment", seg)
        quality = assess_quality(seg, self.quality, recording_measures(str(audio), channel))
        report("quality", quality)
        if not quality.ok:
            row = insufficient_row(
                interview.interview_id, str(audio), self.model.threshold_, len(seg.turns), quality.reason
            )
            return ExplainedInterview(row, pd.DataFrame(), list(seg.interviewer), seg.duration)
        features = featurize_interview(
            interview, seg.turns, self.recipe.features, encoder=self._get_encoder(), audio=seg.audio
        )
        report("featurize", features)
        bag = bag_from_features(
            interview, seg.turns, features, self.recipe.parts, columns=list(self.model.feature_names_in_)
        )
        report("bag", bag)
        result = explain_bag(self.model, bag, seg.interviewer, seg.duration, top_k=self.top_k, alpha=self.alpha)
        result.row.quality, result.row.quality_reason = quality.status, quality.reason or None
        voices = quality.measures
        result.row.participant_voice = voices.get("participant_voice")
        result.row.participant_margin = voices.get("participant_margin")
        result.row.other_voice_share = voices.get("other_voice_share")
        if quality.refer:  # the turns hold another voice: the answer goes to a clinician whatever it is
            result.row.quality, result.row.screen = "refer", REFER
        for column in TURN_QUALITY_COLUMNS:  # per-turn measures and flags of the gate
            result.turns[column] = quality.turns[column].reindex(result.turns["turn_id"]).to_numpy()
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
            except RECORDING_ERRORS as exc:  # a batch reports this recording's failure and finishes the rest
                failures[str(job["audio"])] = describe_failure(exc, job["audio"])
        return results, failures

    def model_id(self) -> str:
        """A hash of everything in the bundle that decides this pipeline's answers: the recipe, every fitted
        value (scaler, projection, interview head, calibration, threshold), the metadata (the conformal screen)
        and the weights of every committee member. The screen's error rate ``alpha`` is kept beside it."""
        from .mil.state import fitted_state

        whole = {
            "recipe": self.recipe.to_dict(),
            "params": self.model.get_params(deep=False),
            "state": fitted_state(self.model),
            "metadata": getattr(self.model, "metadata_", {}),
        }
        digest = hashlib.sha256(json.dumps(whole, sort_keys=True, default=str).encode())
        for name, tensor in self.model.model_.state_dict().items():
            digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]

    def score_batch(
        self,
        jobs: Sequence[dict],
        out_dir: str | Path,
        html: bool = False,
        title: str = "interview_mil screening report",
        progress: bool = True,
        model_name: str = "",
        runner: Runner | None = None,
    ) -> BatchResult:
        """Score ``jobs`` (``apply`` keywords) into the folder ``out_dir``, resumably (``BatchStore``).

        Every input file and the folder are checked first. Each recording is stored as soon as it is
        done; recordings already stored with the same inputs are reused, not recomputed; a failure is a
        row with ``status: failed`` and its reason, and never replaces an earlier good result. The tables
        (and report) hold every recording of the folder, this batch's first, in the order given.
        ``runner(self, jobs)`` computes the recordings not reused (default ``score_here``: one by one in
        this process; ``explain.batch_ray.RayRunner``: on a Ray cluster); this process stores them."""
        from tqdm.auto import tqdm

        jobs = [dict(job) for job in jobs]
        check_jobs(jobs)
        store = BatchStore.open(out_dir, self.model_id(), model_name, alpha=self.alpha)
        stored = store.recordings()
        given = [job.pop("interview_id", None) for job in jobs]
        auto = assign_ids([job["audio"] for job in jobs], {s: r.item.interview_id for s, r in stored.items()})
        ids = [g or a for g, a in zip(given, auto)]
        if len(set(ids)) < len(ids):
            raise ConfigError(
                f"interview ids {sorted({i for i in ids if ids.count(i) > 1})} are given to several recordings",
                fix="give every recording its own interview_id (or leave them out: ids are then made unique)",
            )
        result = BatchResult(out_dir=Path(out_dir))
        sources, todo = [], []
        bar = tqdm(total=len(jobs), desc="scoring", unit="recording", disable=not progress)
        try:
            for job, iid in zip(jobs, ids):
                source, inputs = str(Path(job["audio"]).resolve()), fingerprint(job)
                sources.append(source)
                earlier = stored.get(source)
                if earlier is not None and earlier.ok and earlier.fingerprint == inputs:
                    store.log("reused", iid, source)
                    result.reused.append(source)
                    bar.update(1)
                else:
                    todo.append((job | {"interview_id": iid}, source, inputs, earlier))
            for k, item, seconds in (runner or score_here)(self, [job for job, *_ in todo]):
                job, source, inputs, earlier = todo[k]
                iid, audio = job["interview_id"], str(job["audio"])
                bar.update(1)
                if isinstance(item, str):  # the reason this recording failed; the batch goes on
                    result.failures[audio] = item
                    if earlier is not None and earlier.ok and same_audio(earlier.fingerprint, inputs):
                        store.log("failed_kept_earlier", iid, source, error=item)  # the same audio scored before
                        continue  # (e.g. a transcript that broke): its earlier result still answers for it
                    item = failed_item(iid, audio, float(self.model.threshold_), item)
                else:
                    result.scored.append(source)
                store.save(record_key(iid, source), source, inputs, item, seconds)
        finally:  # also after Ctrl-C: the tables show everything finished so far
            bar.close()
            items, n_mine, result.paths = store.write_tables(sources, html=html, title=title)
        result.failures = {  # in the order given (a runner on Ray finishes them in any order)
            str(j["audio"]): result.failures[str(j["audio"])] for j in jobs if str(j["audio"]) in result.failures
        }
        result.items, result.n_earlier = items[:n_mine], len(items) - n_mine
        return result


@dataclass
class BatchResult:
    """What ``score_batch`` did: ``items`` of this batch (scored, reused or failed, in the order given),
    ``scored``/``reused`` resolved audio paths, ``failures`` audio → reason, ``n_earlier`` recordings of
    earlier batches kept in the tables, and the ``paths`` written."""

    out_dir: Path
    items: list[ExplainedInterview] = field(default_factory=list)
    scored: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    n_earlier: int = 0
    paths: dict[str, Path] = field(default_factory=dict)


__all__ = ["BatchResult", "ScreeningPipeline", "STAGES", "SCREENING_DISCLAIMER"]
