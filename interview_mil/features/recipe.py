"""``FeatureRecipe``: how a model's turns and features were made, saved with the model bundle.

``score`` reruns exactly this recipe on a new recording. It is a typed, versioned record (not loose
metadata keys): segmentation settings, feature settings, which feature parts form the turn vector, and
how many top turns an explanation lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import from_dict, to_dict
from ..errors import ModelNotFoundError
from ..segmentation.config import SegmentationConfig
from .config import FeatureConfig
from .turn_features import PARTS

RECIPE_VERSION = 1
RECIPE_KEY = "feature_recipe"


@dataclass(frozen=True)
class FeatureRecipe:
    """``parts``: feature parts of the turn vector (subset of ``PARTS``, in order); ``top_k``: turns an
    explanation lists first; ``version``: the record's format version."""

    segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    parts: tuple[str, ...] = ("prosody",)
    top_k: int = 3
    version: int = RECIPE_VERSION

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_metadata(cls, metadata: dict, source: str | Path) -> FeatureRecipe:
        """The recipe saved in a bundle's metadata; ``ModelNotFoundError`` naming ``source`` when absent,
        newer than this package, or invalid."""
        data = metadata.get(RECIPE_KEY)
        if not isinstance(data, dict):
            raise ModelNotFoundError(
                "the bundle has no feature recipe (how turns and features were made): it was "
                "not written by `interview-mil train` of this version",
                path=source,
                fix="train with `interview-mil train CONF --out EXP` and use EXP/model",
            )
        if int(data.get("version", 0)) > RECIPE_VERSION:
            raise ModelNotFoundError(
                f"feature recipe version {data.get('version')} is newer than this package reads",
                path=source,
                fix="upgrade interview-mil",
            )
        recipe = from_dict(cls, data, source=source)
        unknown = [p for p in recipe.parts if p not in PARTS]
        if unknown or not recipe.parts:
            raise ModelNotFoundError(
                f"feature recipe parts {list(recipe.parts)} are invalid",
                path=source,
                fix=f"parts must be a non-empty subset of {list(PARTS)}",
            )
        return recipe
