"""The built-in synthetic interview corpus (DAIC-WOZ layout, real synthesised speech, known markers)."""

from .generate import generate_corpus
from .plan import SynthConfig

__all__ = ["generate_corpus", "SynthConfig"]
