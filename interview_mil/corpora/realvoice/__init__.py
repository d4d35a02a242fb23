"""The real-voice interview corpus: LibriSpeech speakers as participants and interviewer, DAIC-WOZ layout,
depression-like markers planted into chosen answers by signal processing (Praat PSOLA, gain, filters,
inserted pauses, latency), so a benchmark can run on real voices with a known planted truth."""

from .generate import REALVOICE_VERSION, generate_realvoice_corpus
from .markers import CORE_MARKERS, MARKERS, apply_markers
from .phrases import Phrase, PhraseRules, phrases_by_speaker
from .plan import RealVoiceConfig
from .prepare import prepare_realvoice

__all__ = [
    "CORE_MARKERS",
    "MARKERS",
    "REALVOICE_VERSION",
    "Phrase",
    "PhraseRules",
    "RealVoiceConfig",
    "apply_markers",
    "generate_realvoice_corpus",
    "phrases_by_speaker",
    "prepare_realvoice",
]
