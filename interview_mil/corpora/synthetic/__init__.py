"""The built-in synthetic interview corpus (DAIC-WOZ layout, real synthesised speech, known markers)."""

from .generate import SYNTH_VERSION, generate_corpus
from .plan import SynthConfig

__all__ = ["SYNTH_VERSION", "generate_corpus", "SynthConfig"]
