"""Errors a user can cause. Each message names the file (or setting) at fault and how to fix it."""

from __future__ import annotations

from pathlib import Path


class InterviewMilError(Exception):
    """Base class for every error interview_mil raises on bad input or configuration."""


def _with_fix(message: str, path: str | Path | None, fix: str | None) -> str:
    text = f"{path}: {message}" if path is not None else message
    if fix:
        text += f"\n  fix: {fix}"
    return text


class InputError(InterviewMilError):
    """Bad input in a named file: the message says which file and what to do."""

    def __init__(self, message: str, path: str | Path | None = None, fix: str | None = None):
        self.path = None if path is None else str(path)
        self.fix = fix
        self.reason = message
        super().__init__(_with_fix(message, path, fix))


class AudioError(InputError):
    """An audio file that cannot be read or used (unreadable, empty, wrong channel, NaN samples)."""


class TranscriptError(InputError):
    """A transcript, RTTM or STM file that does not parse or does not match its recording."""


class ManifestError(InputError):
    """A manifest or table with a missing column, a bad value or records that fail validation."""


class ConfigError(InputError):
    """A configuration file or override that names an unknown key or holds a value of the wrong type."""


class ModelNotFoundError(InputError):
    """A speech model or model bundle that is not on disk (and may not be downloaded)."""


class FeatureError(InputError):
    """Features that are missing, stale or unusable (NaN where a model needs numbers)."""


class BundleError(ModelNotFoundError):
    """A model bundle that is present but damaged or inconsistent (bad JSON schema, tensors that do not
    match the architecture, scaler statistics that do not match the feature names)."""


# What scoring one recording can raise without the code being wrong: our own input errors, file-system
# errors, and the errors the audio, Praat and torch libraries raise for audio they cannot handle
# (soundfile's LibsndfileError and parselmouth's PraatError are RuntimeErrors). A batch records these for
# the recording and goes on; anything else (a TypeError, a KeyError: a bug) stops the batch, after the
# recordings already finished have been saved.
RECORDING_ERRORS: tuple[type[Exception], ...] = (InterviewMilError, OSError, ValueError, RuntimeError)
