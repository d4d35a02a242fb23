"""Corpus preparers: each turns a corpus on disk into a validated interview manifest with splits.

``prepare_daic_woz``, ``prepare_e_daic``, ``prepare_folder``, ``prepare_synthetic`` (the built-in corpus,
DAIC-WOZ layout) and ``prepare_realvoice`` (LibriSpeech voices with planted markers, same layout) are the
library functions. ``PREPARERS`` registers each corpus by name with one uniform signature, so the
experiment's prepare stage has no special cases::

    path = PREPARERS.get(section.name)(section, out_dir, progress)   # -> out_dir/interviews.jsonl

``section`` is anything with the fields of the experiment's ``corpus:`` section (``CorpusSpec``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from ..config import from_dict
from ..errors import ConfigError
from ..registry import Registry
from .daic_woz import prepare_daic_woz
from .e_daic import prepare_e_daic
from .folder import prepare_folder
from .realvoice.prepare import prepare_realvoice
from .synthetic.prepare import prepare_synthetic

log = logging.getLogger(__name__)


class CorpusSpec(Protocol):
    """What a preparer reads: the fields of the experiment config's ``corpus:`` section."""

    name: str
    root: str
    labels: str | None
    options: Mapping[str, Any]
    synth: Mapping[str, Any]


Preparer = Callable[[CorpusSpec, Path, bool], Path]
"""``(corpus, out_dir, progress) -> path of the manifest written into out_dir``."""

PREPARERS: Registry[Preparer] = Registry("corpus")


def _options(function: Callable, corpus: CorpusSpec, positional: int) -> dict[str, Any]:
    """``corpus.options`` checked against the keyword arguments ``function`` takes after ``positional``."""
    valid = list(inspect.signature(function).parameters)[positional:]
    unknown = sorted(set(corpus.options) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {['corpus.options.' + k for k in unknown]} for corpus {corpus.name!r}",
            fix=f"valid keys: {valid}" if valid else f"the {corpus.name} corpus takes no options",
        )
    return dict(corpus.options)


def _no_labels(corpus: CorpusSpec) -> None:
    if corpus.labels:
        raise ConfigError(
            f"corpus.labels is not used by the {corpus.name} corpus (its labels come with it)",
            fix="remove corpus.labels (it is for folder corpora)",
        )


@PREPARERS.register("daic_woz")
def _daic_woz(corpus: CorpusSpec, out_dir: Path, progress: bool = True) -> Path:
    _no_labels(corpus)
    return prepare_daic_woz(corpus.root, out_dir, **_options(prepare_daic_woz, corpus, 2))


@PREPARERS.register("e_daic")
def _e_daic(corpus: CorpusSpec, out_dir: Path, progress: bool = True) -> Path:
    _no_labels(corpus)
    return prepare_e_daic(corpus.root, out_dir, **_options(prepare_e_daic, corpus, 2))


@PREPARERS.register("folder")
def _folder(corpus: CorpusSpec, out_dir: Path, progress: bool = True) -> Path:
    if not corpus.labels:
        raise ConfigError(
            "corpus.labels is required for a folder corpus",
            fix="give the CSV with an id column and a label or score column",
        )
    return prepare_folder(corpus.root, corpus.labels, out_dir, **_options(prepare_folder, corpus, 3))


@PREPARERS.register("synthetic")
def _synthetic(corpus: CorpusSpec, out_dir: Path, progress: bool = True) -> Path:
    """Generates the corpus from ``corpus.synth`` first when ``corpus.root`` holds none yet."""
    from .synthetic import SynthConfig, generate_corpus

    _no_labels(corpus)
    root = Path(corpus.root)
    if not (root / "ground_truth" / "labels.csv").exists():
        synth = from_dict(SynthConfig, dict(corpus.synth), source="corpus.synth")
        log.info("generating the synthetic corpus (%d interviews) in %s", synth.n_interviews, root)
        generate_corpus(root, synth, progress=progress)
    return prepare_synthetic(root, out_dir, **_options(prepare_synthetic, corpus, 2))


@PREPARERS.register("realvoice")
def _realvoice(corpus: CorpusSpec, out_dir: Path, progress: bool = True) -> Path:
    """Generates the corpus from ``corpus.synth`` (``RealVoiceConfig`` fields) first when ``corpus.root``
    holds none yet."""
    from .realvoice import RealVoiceConfig, generate_realvoice_corpus

    _no_labels(corpus)
    root = Path(corpus.root)
    if not (root / "ground_truth" / "labels.csv").exists():
        synth = from_dict(RealVoiceConfig, dict(corpus.synth), source="corpus.synth")
        log.info("generating the real-voice corpus from %s in %s", synth.speech_dir, root)
        generate_realvoice_corpus(root, synth, progress=progress)
    return prepare_realvoice(root, out_dir, **_options(prepare_realvoice, corpus, 2))


__all__ = [
    "PREPARERS",
    "CorpusSpec",
    "Preparer",
    "prepare_daic_woz",
    "prepare_e_daic",
    "prepare_folder",
    "prepare_realvoice",
    "prepare_synthetic",
]
