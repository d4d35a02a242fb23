"""The Ray engine of ``featurize_manifest``: prosody of each interview as a Ray task, the speech encoder as
a pool of Ray actors that each load the model once, and every finished interview written by the driver
into the same ``FeatureStore`` as the local engine (atomic per interview, done marker last).

What survives a failure:

- a prosody task whose worker process or node dies is retried by Ray (``TASK_RETRIES`` times);
- an encoder actor whose process or node dies is restarted, its constructor reloading the model
  (``ACTOR_RESTARTS``), and the calls it had not answered are retried (``ACTOR_TASK_RETRIES``);
- an interview whose retries run out, or whose input is bad, is recorded as failed and the rest finish;
- a killed driver loses only the interviews in flight: each finished one is already in the store, and a
  rerun computes only what is missing.

The driver writes the store, so it is on the driver's disk (a shared filesystem when other machines read
the features later); the manifest's audio paths must be readable at the same path on every node.
Ray is imported only here and only when this engine runs (``pip install 'interview-mil[ray]'``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..data.records import Interview, Turn
from ..errors import RECORDING_ERRORS, ConfigError, FeatureError
from .config import EncoderConfig, FeatureConfig
from .featurize import featurize_interview, prosody_table
from .store import FeatureStore
from .turn_features import TurnFeatures

if TYPE_CHECKING:
    from .engine import FeaturizeReport

log = logging.getLogger(__name__)

TASK_RETRIES = 3  # a prosody task is rerun this often when its worker or node dies
ACTOR_RESTARTS = 3  # an encoder actor is restarted (model reloaded) this often
ACTOR_TASK_RETRIES = 3  # an embedding call is resent this often to a restarted actor
ACTOR_PREFIX = "interview_mil-encoder"  # encoder actors are named ACTOR_PREFIX-<run>-<i> (see `ray list actors`)
# Environment the workers need to behave like the driver (offline model loading, the same model cache).
FORWARDED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "HF_HUB_DISABLE_TELEMETRY")


def require_ray():
    """The ``ray`` module, or ``ConfigError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "features.engine 'ray' needs the ray package, which is not installed",
            fix="pip install 'interview-mil[ray]' (or use the default local engine)",
        ) from None
    return ray


def actor_resources(encoder: EncoderConfig) -> dict[str, float]:
    """Ray resources one encoder actor holds: a GPU (and one CPU) on ``cuda``, else ``threads`` CPUs (1)."""
    if encoder.device.startswith("cuda"):
        return {"num_cpus": 1, "num_gpus": 1}
    return {"num_cpus": encoder.threads or 1}


def connect(address: str | None, cpus_needed: float) -> bool:
    """Join the cluster at ``address`` (``"auto"``: the one ``ray start`` runs on this machine; None:
    ``$RAY_ADDRESS``, else a new private Ray on this machine with at least ``cpus_needed`` CPU slots);
    keep a Ray the caller already started. True when this call connected (the caller then disconnects)."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    runtime_env = {"env_vars": env} if env else None
    if address:
        try:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
        except ConnectionError as exc:
            raise ConfigError(
                f"cannot reach the Ray cluster at {address!r}: {exc}",
                fix="start it with `ray start --head` (and `ray start --address HEAD:6379` on the other "
                "nodes); a cluster with token authentication needs RAY_AUTH_MODE=token and its token here "
                "(docs/scaling.md); or drop --address to run on a Ray started on this machine",
            ) from None
        return True
    cpus = max(float(os.cpu_count() or 1), cpus_needed)
    ray.init(
        address="local",
        num_cpus=int(np.ceil(cpus)),
        include_dashboard=False,
        runtime_env=runtime_env,
        log_to_driver=False,
    )
    return True


def for_workers(interview: Interview) -> Interview:
    """The interview with its audio path made absolute (workers do not share the driver's folder)."""
    return dataclasses.replace(interview, audio_path=str(Path(interview.audio_path).absolute()))


def with_absolute_model(config: FeatureConfig) -> FeatureConfig:
    """``config`` with a relative model folder that exists here made absolute (a hub id is kept)."""
    if config.encoder is None or Path(config.encoder.model).is_absolute() or not Path(config.encoder.model).exists():
        return config
    encoder = dataclasses.replace(config.encoder, model=str(Path(config.encoder.model).absolute()))
    return dataclasses.replace(config, encoder=encoder)


def check_room(resources: Mapping[str, float], config: FeatureConfig, n_actors: int) -> None:
    """``ConfigError`` before any work when the cluster's ``resources`` cannot hold ``n_actors`` encoder
    actors and still run a prosody task (Ray would wait for the missing slots for ever)."""
    if not n_actors:
        return
    need = actor_resources(config.encoder)
    cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
    actor_cpus = n_actors * need["num_cpus"]
    if n_actors * need.get("num_gpus", 0) > gpus:
        raise ConfigError(
            f"{n_actors} encoder actor(s) on {config.encoder.device} need {n_actors} GPU(s); the Ray cluster has "
            f"{gpus:g}",
            fix="use fewer --workers, add GPU nodes (ray start --num-gpus N), or encoder.device=cpu",
        )
    spare = 1 if config.prosody is not None else 0
    if cpus < actor_cpus + spare:
        raise ConfigError(
            f"the Ray cluster has {cpus:g} CPU slots; {n_actors} encoder actor(s) hold {actor_cpus:g}"
            + (" and the prosody tasks need one more" if spare else ""),
            fix="use fewer --workers (encoder actors), fewer encoder.threads, or add nodes",
        )


def _prosody_task(interview: Interview, turns: list[Turn], config: FeatureConfig) -> pd.DataFrame:
    """Ray task: one interview's prosody rows (the local engine's ``prosody_table``)."""
    return prosody_table(interview, turns, config)


class EncoderActor:
    """Ray actor: the speech encoder loaded once, embedding one interview per call."""

    def __init__(self, config: FeatureConfig):
        from .encoders import load_encoder

        self.config = dataclasses.replace(config, prosody=None)
        self.encoder = load_encoder(config.encoder)

    def ready(self) -> int:
        """The actor's process id, once the model has loaded."""
        return os.getpid()

    def embed(self, interview: Interview, turns: list[Turn]) -> np.ndarray:
        """float32 (n_turns, ...) embeddings of the interview's turns (reads its audio)."""
        return featurize_interview(interview, turns, self.config, self.encoder).embeddings


_RAISED = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Interrupt)): (.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def reason(exc: BaseException) -> str:
    """A short reason for a failed interview: the task's own exception when Ray wrapped one, the
    constructor's exception when an actor could not start."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        exc = cause
    text = _ANSI.sub("", str(getattr(exc, "error_msg", None) or exc))
    if getattr(exc, "actor_init_failed", False):  # the traceback's last "SomeError: message" line
        raised = [m for m in map(_RAISED.match, text.splitlines()) if m]
        if raised:
            return f"{raised[-1].group(1).rsplit('.', 1)[-1]}: {raised[-1].group(2)}"
    lines = [line for line in text.splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _start_actors(ray, config: FeatureConfig, n: int) -> list:
    """``n`` encoder actors with the model loaded; ``FeatureError`` (nothing computed yet) when it fails."""
    remote = ray.remote(EncoderActor)
    options = dict(max_restarts=ACTOR_RESTARTS, max_task_retries=ACTOR_TASK_RETRIES, **actor_resources(config.encoder))
    run = uuid.uuid4().hex[:8]
    actors = [remote.options(name=f"{ACTOR_PREFIX}-{run}-{i}", **options).remote(config) for i in range(n)]
    try:
        ray.get([a.ready.remote() for a in actors])
    except ray.exceptions.RayError as exc:  # the load raised on the actor, or the actor died
        for actor in actors:
            ray.kill(actor, no_restart=True)
        raise FeatureError(
            f"the encoder could not be loaded on the Ray workers: {reason(exc)}",
            fix="the model folder must exist at the same path on every node (or be in each node's Hugging "
            "Face cache), and interview-mil must be installed there",
        ) from None
    return actors


def featurize_with_ray(
    todo: Sequence[Interview],
    by_id: Mapping[str, Sequence[Turn]],
    config: FeatureConfig,
    store: FeatureStore,
    report: FeaturizeReport,
    workers: int = 1,
    address: str | None = None,
    progress: bool = True,
    on_saved: Callable[[str], None] | None = None,
) -> FeaturizeReport:
    """Featurize ``todo`` (interviews not yet in ``store``) on Ray into ``store``, adding to ``report``.

    ``workers``: encoder actors (each holds ``actor_resources`` and loads the model once); prosody tasks
    take one CPU slot each and fill the slots the actors leave. ``address``: see ``connect``.
    ``on_saved(interview_id)`` is called after each interview is written.
    """
    from tqdm.auto import tqdm

    ray = require_ray()
    n_actors = workers if config.encoder is not None else 0
    actor_cpus = n_actors * actor_resources(config.encoder).get("num_cpus", 1) if n_actors else 0.0
    started = connect(address, actor_cpus + (1 if config.prosody is not None else 0))
    actors: list = []
    try:
        check_room(ray.cluster_resources(), config, n_actors)
        turns = {iv.interview_id: list(by_id.get(iv.interview_id, [])) for iv in todo}
        todo = [for_workers(iv) for iv in todo]  # workers run in other folders (and machines)
        config = with_absolute_model(config)  # only what the workers load: the store keeps its key
        if n_actors:
            actors = _start_actors(ray, config, n_actors)
        parts: dict[str, dict] = {iv.interview_id: {} for iv in todo}
        wanted = [p for p, c in (("prosody", config.prosody), ("embeddings", config.encoder)) if c is not None]
        pending: dict = {}  # ObjectRef -> (interview_id, part, actor or None)
        if config.prosody is not None:
            task = ray.remote(_prosody_task).options(num_cpus=1, max_retries=TASK_RETRIES)
            for iv in todo:
                pending[task.remote(iv, turns[iv.interview_id], config)] = (iv.interview_id, "prosody", None)
        queue = deque(todo if n_actors else [])
        idle = list(actors)
        bar = tqdm(total=len(todo), desc="featurize (ray)", unit="interview", disable=not progress)
        while pending or queue:
            while queue and idle:  # each actor embeds one interview at a time: the fastest take the most
                iv = queue.popleft()
                if iv.interview_id in report.failed:
                    continue
                actor = idle.pop()
                pending[actor.embed.remote(iv, turns[iv.interview_id])] = (iv.interview_id, "embeddings", actor)
            if not pending:  # interviews left but no actor: every actor died beyond its restarts
                for iv in queue:
                    if iv.interview_id not in report.failed:
                        report.failed[iv.interview_id] = "no encoder actor left (all died beyond their restarts)"
                        bar.update(1)
                break
            [ref], _ = ray.wait(list(pending), num_returns=1)
            iid, part, actor = pending.pop(ref)
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as exc:  # the task raised or its worker was lost: the interview fails
                if actor is not None and isinstance(exc, ray.exceptions.RayActorError):
                    actor = None  # dead beyond its restarts: not given work again
                if iid not in report.failed:
                    report.failed[iid] = reason(exc)
                    parts.pop(iid, None)
                    bar.update(1)
            else:
                if iid in parts:
                    parts[iid][part] = value
            if actor is not None:
                idle.append(actor)
            got = parts.get(iid)
            if got is not None and all(p in got for p in wanted):
                try:
                    store.save(
                        TurnFeatures(iid, [t.turn_id for t in turns[iid]], got.get("prosody"), got.get("embeddings"))
                    )
                except RECORDING_ERRORS as exc:  # e.g. a row-count mismatch: recorded like any failure
                    report.failed[iid] = f"{type(exc).__name__}: {exc}"
                else:
                    report.done.append(iid)
                    if on_saved is not None:
                        on_saved(iid)
                del parts[iid]
                bar.update(1)
        bar.close()
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
        if started:
            ray.shutdown()
    return report


__all__ = ["featurize_with_ray", "require_ray", "connect", "actor_resources", "ACTOR_PREFIX"]
