"""Corpus preparers: each turns a corpus on disk into a validated interview manifest with splits.

``prepare_daic_woz``, ``prepare_e_daic``, ``prepare_folder``, ``prepare_synthetic`` (the built-in corpus,
DAIC-WOZ layout); ``PREPARERS`` maps corpus names to them.
"""

from .daic_woz import prepare_daic_woz
from .e_daic import prepare_e_daic
from .folder import prepare_folder
from .synthetic.prepare import prepare_synthetic

PREPARERS = {
    "daic_woz": prepare_daic_woz,
    "e_daic": prepare_e_daic,
    "folder": prepare_folder,
    "synthetic": prepare_synthetic,
}

__all__ = ["PREPARERS", "prepare_daic_woz", "prepare_e_daic", "prepare_folder", "prepare_synthetic"]
