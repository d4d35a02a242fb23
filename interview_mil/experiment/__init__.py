"""experiment stage: one YAML config drives prepare → segment → featurize → train → evaluate → explain,
writing everything (with the resolved config, package version and git commit) into one folder.

    from interview_mil.experiment import ExperimentDir, load_experiment_config, run_missing_stages, train
    config = load_experiment_config("recipes/synthetic/conf/prosody_attention.yaml", ["model.pooling=noisy_or"])
    exp = ExperimentDir(Path("exp/noisy_or"))
    run_missing_stages(exp, config); train(exp, config); evaluate(exp, config)
"""

from .config import ExperimentConfig, config_dict, load_experiment_config
from .explaining import explain_split
from .layout import ExperimentDir, git_commit
from .stages import featurize, prepare, run_missing_stages, segment
from .training import evaluate, format_evaluation, train

__all__ = [
    "ExperimentConfig",
    "ExperimentDir",
    "config_dict",
    "evaluate",
    "explain_split",
    "featurize",
    "format_evaluation",
    "git_commit",
    "load_experiment_config",
    "prepare",
    "run_missing_stages",
    "segment",
    "train",
]
