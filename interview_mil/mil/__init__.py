"""mil stage: multiple-instance learning over the turns of an interview (bags of instance vectors).

Main entry point for Python users::

    from interview_mil.mil import InterviewClassifier
    clf = InterviewClassifier(pooling="attention").fit(bags, y, groups=participant_ids)
    clf.predict_proba(new_bags)[:, 1]      # probability of the positive (depressed) class
    clf.explain(new_bags)                  # per-turn weights and scores
    clf.save("model/"); InterviewClassifier.load("model/")
    cross_validate(bags, y, groups, {"pooling": "mean"}, folds=10, seeds=range(5))   # one CV harness

Modules: ``pooling/`` (one operator per module, registry ``POOLINGS``), ``encoder``, ``model``
(``MILModel``/``MILEnsemble``: ``forward(X, mask) -> MILOutput`` with bag logit, instance scores and
weights, the one contract every pooling honours; ``compute_loss``), ``bags`` (checks, dataset, padding
collate), ``projection`` (PCA of the embedding columns), ``preprocess`` (imputation + standardisation),
``training`` (one network), ``committee`` (one or several networks, batched forward passes),
``metrics``, ``splits`` (grouped CV), ``evaluation`` (the cross-validation harness), ``classifier``,
``bundle`` (bundle files), ``baseline`` (interview-mean logistic regression), ``table`` (bags from a
table of instances).
"""

from .bags import BagBatch, BagDataset, check_bags, collate_bags, pad_bags
from .baseline import MeanBaseline, interview_mean_baseline
from .classifier import BagExplanation, InterviewClassifier
from .evaluation import CVResult, cross_validate
from .metrics import (
    binary_metrics,
    choose_threshold,
    localisation_auc,
    metrics_by_group,
    regression_metrics,
    roc_auc,
)
from .model import MILModel, MILOutput, ModelConfig
from .pooling import POOLINGS, PoolOutput, build_pooling
from .preprocess import FeatureScaler
from .projection import EmbeddingProjection
from .splits import group_train_val_split, repeated_stratified_group_kfold, stratified_group_kfold, summarize
from .table import TableBags, bags_from_table
from .training import TrainConfig, train_mil

__all__ = [
    "BagBatch",
    "BagDataset",
    "BagExplanation",
    "CVResult",
    "EmbeddingProjection",
    "FeatureScaler",
    "InterviewClassifier",
    "MILModel",
    "MILOutput",
    "MeanBaseline",
    "ModelConfig",
    "POOLINGS",
    "PoolOutput",
    "TableBags",
    "TrainConfig",
    "bags_from_table",
    "binary_metrics",
    "build_pooling",
    "check_bags",
    "choose_threshold",
    "collate_bags",
    "cross_validate",
    "group_train_val_split",
    "interview_mean_baseline",
    "localisation_auc",
    "metrics_by_group",
    "pad_bags",
    "regression_metrics",
    "repeated_stratified_group_kfold",
    "roc_auc",
    "stratified_group_kfold",
    "summarize",
    "train_mil",
]
