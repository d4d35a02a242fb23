"""Features stage: per-turn prosody and pretrained speech-model embeddings, in a resumable store.

``FeatureConfig`` / ``EncoderConfig`` (settings; ``key()`` names the store folder), ``load_encoder``
(a speech encoder loaded once), ``featurize_interview`` (one interview → ``TurnFeatures``),
``featurize_manifest`` (a batch into a ``FeatureStore``; failures recorded, done interviews skipped),
``bag_from_features`` (features → the interview's ``Bag`` for the MIL stage) and ``FeatureRecipe`` (how a
model's turns and features were made, saved in its bundle).
The prosody set lives in ``interview_mil.features.prosody``.
"""

from .bags import Bag, bag_from_features
from .config import FEATURES_VERSION, EncoderConfig, FeatureConfig, parse_layers
from .encoders import ENCODERS, Encoder, load_encoder
from .engine import FeaturizeReport, featurize_manifest, group_turns
from .featurize import featurize_interview
from .recipe import FeatureRecipe
from .store import FeatureStore
from .turn_features import PARTS, TurnFeatures

__all__ = [
    "FEATURES_VERSION",
    "EncoderConfig",
    "FeatureConfig",
    "parse_layers",
    "ENCODERS",
    "Encoder",
    "load_encoder",
    "FeaturizeReport",
    "featurize_interview",
    "featurize_manifest",
    "group_turns",
    "FeatureStore",
    "TurnFeatures",
    "PARTS",
    "Bag",
    "bag_from_features",
    "FeatureRecipe",
]
