"""``RayRunner``: the recordings of ``ScreeningPipeline.score_batch`` scored on a Ray cluster
(``interview-mil score ... --engine ray [--address ADDR] [--workers N]``).

A pool of ``workers`` Ray actors each builds the pipeline once from the model bundle (the classifier and,
for recipes with embeddings, the speech encoder loaded once per actor) and scores one recording per call;
the fastest actors take the most. The driver (the process that runs ``score_batch``) stores every
finished recording through the same ``BatchStore`` as the local runner: atomic per recording, logged in
``log.jsonl``, reused by a rerun. What survives a failure:

- a recording whose input is bad, or whose call raises, is a failed row with its reason; the rest go on;
- an actor whose process or node dies is restarted, its constructor loading the model again
  (``ACTOR_RESTARTS``), and the call it had not answered is resent (``ACTOR_TASK_RETRIES``); an actor
  gone for good fails the recording it held and the others take the queue;
- a killed driver loses only the recordings in flight: a rerun of the same command scores the rest.

The model bundle and the recordings must be readable at the same path on every node (a shared
filesystem); their paths are made absolute for the workers, and each actor's model is checked to be the
driver's (``model_id``) before any recording is sent. Ray is imported only when this runner runs.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RECORDING_ERRORS, ConfigError
from ..features.engine_ray import ACTOR_RESTARTS, ACTOR_TASK_RETRIES, actor_resources, connect, reason
from .batch_jobs import FILE_KEYS, Outcome
from .batch_store import describe_failure
from .records import ExplainedInterview

ACTOR_PREFIX = "interview_mil-scorer"  # actors are named ACTOR_PREFIX-<run>-<i> (see `ray list actors`)


def require_ray():
    """The ``ray`` module, or ``ConfigError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "score --engine ray needs the ray package, which is not installed",
            fix="pip install 'interview-mil[ray]' (or leave out --engine ray to score on this machine)",
        ) from None
    return ray


def for_workers(job: Mapping[str, Any]) -> dict[str, Any]:
    """``job`` with its files' paths made absolute (workers run in other folders, and machines)."""
    return {k: (str(Path(v).absolute()) if k in dict(FILE_KEYS) and v is not None else v) for k, v in job.items()}


class ScoringActor:
    """Ray actor: a ``ScreeningPipeline`` built once from the bundle, scoring one recording per call."""

    def __init__(self, factory: Any, model: str, device: str | None, alpha: float | None, quality: Any):
        self.pipe = factory.from_pretrained(model, device=device, alpha=alpha)
        self.pipe.quality = quality

    def ready(self) -> str:
        """The model's ``model_id``, once it has loaded."""
        return self.pipe.model_id()

    def score(self, job: dict, shown: str) -> tuple[ExplainedInterview | str, float]:
        """(the scored recording, or the reason it failed; seconds). ``job`` holds absolute paths; the
        result names the audio as the driver was given it (``shown``), as the local runner's does."""
        start = time.perf_counter()
        try:
            item = self.pipe.apply(**job)
        except RECORDING_ERRORS as exc:  # this recording's failure; the batch goes on
            return describe_failure(exc, job["audio"]), time.perf_counter() - start
        item.row.audio_path = shown
        if "audio_path" in item.turns.columns:
            item.turns["audio_path"] = shown
        return item, time.perf_counter() - start


def actor_needs(pipe: Any) -> dict[str, float]:
    """Ray resources one scoring actor holds: the encoder's (``features.engine_ray.actor_resources``: a
    GPU on cuda, else ``encoder.threads`` CPUs) for recipes with embeddings, else one CPU."""
    encoder = pipe.recipe.features.encoder
    if encoder is not None and "embedding" in pipe.recipe.parts:
        return actor_resources(encoder)
    return {"num_cpus": 1}


def check_room(resources: Mapping[str, float], need: Mapping[str, float], workers: int) -> None:
    """``ConfigError`` before any work when the cluster cannot hold ``workers`` actors (Ray would wait for
    the missing slots for ever)."""
    for key, name, fix in (
        ("num_cpus", "CPU", "use fewer --workers, or add nodes"),
        ("num_gpus", "GPU", "use fewer --workers, add GPU nodes (ray start --num-gpus N), or --device cpu"),
    ):
        wanted, there = workers * need.get(key, 0), float(resources.get(name, 0))
        if wanted > there:
            raise ConfigError(
                f"{workers} scoring actor(s) need {wanted:g} {name} slot(s); the Ray cluster has {there:g}", fix=fix
            )


@dataclass
class RayRunner:
    """A ``score_batch`` runner on Ray: ``workers`` actors, each loading the bundle at ``model`` once.
    ``address``: the cluster to join (``auto``, ``HEAD_IP:6379``; None: ``$RAY_ADDRESS``, else a Ray
    started on this machine for the run); a Ray the caller already started is used as it is."""

    model: str | Path
    workers: int = 1
    address: str | None = None

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"--workers must be >= 1, got {self.workers}", fix="e.g. --workers 2")

    def _start(self, ray, pipe: Any, need: dict[str, float]) -> list:
        """The actors, each with the model loaded and checked to be the driver's; ``ConfigError`` (nothing
        scored yet) when they cannot load it or load another model."""
        encoder = pipe.recipe.features.encoder
        device = None if encoder is None else encoder.device
        model = Path(self.model).absolute() if Path(self.model).exists() else Path(self.model)
        remote = ray.remote(ScoringActor)
        options = dict(max_restarts=ACTOR_RESTARTS, max_task_retries=ACTOR_TASK_RETRIES, **need)
        run = uuid.uuid4().hex[:8]
        actors = [
            remote.options(name=f"{ACTOR_PREFIX}-{run}-{i}", **options).remote(
                type(pipe), str(model), device, pipe.alpha, pipe.quality
            )
            for i in range(self.workers)
        ]
        try:
            loaded = ray.get([a.ready.remote() for a in actors])
        except ray.exceptions.RayError as exc:  # the load raised on the actor, or the actor died
            problem = f"the model could not be loaded on the Ray workers: {reason(exc)}"
        else:
            wanted = pipe.model_id()
            if all(m == wanted for m in loaded):
                return actors
            problem = f"the model at {model} on the Ray workers is not the one loaded here"
        for actor in actors:
            ray.kill(actor, no_restart=True)
        raise ConfigError(
            problem,
            path=model,
            fix="the model bundle (and its encoder) must be at the same path on every node, and interview-mil "
            "installed there",
        )

    def __call__(self, pipe: Any, jobs: Sequence[Mapping[str, Any]]) -> Iterator[Outcome]:
        """Score ``jobs`` (``apply`` keywords, with ``interview_id``) with ``pipe``'s model on the actors;
        yields each recording's outcome as it finishes."""
        if not jobs:  # everything reused: no Ray needed
            return
        ray = require_ray()
        need = actor_needs(pipe)
        started = connect(None if self.address is None else str(self.address), self.workers * need["num_cpus"])
        actors: list = []
        try:
            check_room(ray.cluster_resources(), need, self.workers)
            actors = self._start(ray, pipe, need)
            queue, idle, pending = deque(enumerate(jobs)), list(actors), {}
            while queue or pending:
                while queue and idle:  # one recording per actor at a time: the fastest take the most
                    k, job = queue.popleft()
                    actor = idle.pop()
                    ref = actor.score.remote(for_workers(job), str(job["audio"]))
                    pending[ref] = (k, actor, time.perf_counter())
                if not pending:  # recordings left but no actor: all died beyond their restarts
                    for k, _ in queue:
                        yield k, "no scoring actor left on the Ray cluster (all died beyond their restarts)", 0.0
                    return
                [ref], _ = ray.wait(list(pending), num_returns=1)
                k, actor, sent = pending.pop(ref)
                try:
                    outcome, seconds = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the call raised, or its actor is gone: this one fails
                    if isinstance(exc, ray.exceptions.RayActorError):
                        actor = None  # dead beyond its restarts: given no more work
                    outcome, seconds = f"on Ray: {reason(exc)}", time.perf_counter() - sent
                if actor is not None:
                    idle.append(actor)
                yield k, outcome, seconds
        finally:  # also when the driver stops early (Ctrl-C): no actor is left holding the cluster's slots
            for actor in actors:
                ray.kill(actor, no_restart=True)
            if started:
                ray.shutdown()


__all__ = ["ACTOR_PREFIX", "RayRunner", "ScoringActor", "require_ray"]
