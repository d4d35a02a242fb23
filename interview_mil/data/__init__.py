"""Records (``Interview``, ``Turn``), manifests on disk, validation and audio I/O."""

from .audio import TARGET_SR, AudioInfo, audio_info, load_audio, resample, write_audio
from .manifest import read_manifest, read_turns, turns_to_frame, write_manifest, write_turns
from .records import Interview, Turn, validate, validate_manifest

__all__ = [
    "TARGET_SR",
    "AudioInfo",
    "audio_info",
    "load_audio",
    "resample",
    "write_audio",
    "read_manifest",
    "read_turns",
    "turns_to_frame",
    "write_manifest",
    "write_turns",
    "Interview",
    "Turn",
    "validate",
    "validate_manifest",
]
