"""The experiment folder: where each stage writes, and the provenance saved beside the results.

EXP/config.yaml          resolved experiment config (every default written out)
EXP/meta.json            package version, git commit; per stage its latest facts (``stages``) and
                         every run in order (``log``: stage, time, command line, facts)
EXP/segmentation.yaml    the segmentation section alone (for the standalone `interview-mil segment --config`)
EXP/features.yaml        the features section alone (for the standalone `interview-mil featurize --config`)
EXP/data/interviews.jsonl    the interview manifest with splits (+ prepare_report.json)
EXP/turns.parquet        participant turns (+ turns.csv, segment_report.json)
EXP/interviewer_spans.parquet  the interviewer's speech spans per interview (report timelines)
EXP/features/<key>/      the feature store, keyed by the feature config's hash
EXP/model/               the trained model bundle (safetensors + JSON)
EXP/evaluation.json      metrics per seed and mean ± sd (+ evaluation.md)
EXP/explain/<split>/     interviews.csv/.parquet, turns.csv/.parquet, report.html
"""

from __future__ import annotations

import datetime as _dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import __version__
from ..config import to_dict
from ..data.manifest import read_manifest, read_turns
from ..data.records import Interview, Turn
from ..errors import ConfigError, ManifestError
from ..fileio import read_json, write_json, write_text
from .config import ExperimentConfig, config_dict


def git_commit(path: str | Path | None = None) -> str | None:
    """The git commit of the package source (None outside a git checkout); ``+dirty`` when modified."""
    where = Path(path) if path else Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "") if commit else None


def _yaml(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


@dataclass(frozen=True)
class ExperimentDir:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def meta_path(self) -> Path:
        return self.root / "meta.json"

    @property
    def manifest(self) -> Path:
        return self.root / "data" / "interviews.jsonl"

    @property
    def turns(self) -> Path:
        return self.root / "turns.parquet"

    @property
    def interviewer_spans(self) -> Path:
        return self.root / "interviewer_spans.parquet"

    @property
    def segment_report(self) -> Path:
        return self.root / "segment_report.json"

    @property
    def features_root(self) -> Path:
        return self.root / "features"

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def evaluation(self) -> Path:
        return self.root / "evaluation.json"

    def explain_dir(self, split: str) -> Path:
        return self.root / "explain" / split

    def read_config(self) -> ExperimentConfig:
        from .config import load_experiment_config

        if not self.config_path.exists():
            raise ConfigError(
                "not an experiment folder (no config.yaml)",
                path=self.root,
                fix="run `interview-mil prepare CONF --out EXP` or `interview-mil train CONF --out EXP`",
            )
        return load_experiment_config(self.config_path)

    def write_config(self, config: ExperimentConfig) -> None:
        """Write config.yaml and the per-stage YAML files; refuse to change what earlier stages used."""
        if self.config_path.exists():
            old = config_dict(self.read_config())
            new = config_dict(config)
            changed = [k for k in ("corpus", "segmentation", "features") if old[k] != new[k]]
            if changed and (self.manifest.exists() or self.turns.exists()):
                raise ConfigError(
                    f"this experiment folder was prepared with different {changed} settings",
                    path=self.config_path,
                    fix="use a new --out folder (or delete this one) so results never mix settings",
                )
        self.root.mkdir(parents=True, exist_ok=True)
        write_text(self.config_path, _yaml(config_dict(config)))
        write_text(self.root / "segmentation.yaml", _yaml(to_dict(config.segmentation)))
        write_text(self.root / "features.yaml", _yaml(to_dict(config.features)))

    def load_manifest(self) -> list[Interview]:
        """The interview manifest written by the prepare stage; ``ManifestError`` before it ran."""
        if not self.manifest.exists():
            raise ManifestError(
                "the experiment has no interview manifest yet",
                path=self.manifest,
                fix="run `interview-mil prepare CONF --out EXP` first",
            )
        return read_manifest(self.manifest)

    def load_turns(self) -> dict[str, list[Turn]]:
        """``{interview_id: turns}`` written by the segment stage; ``ManifestError`` before it ran."""
        if not self.turns.exists():
            raise ManifestError(
                "the experiment has no turns table yet",
                path=self.turns,
                fix="run `interview-mil segment --exp EXP` (or `interview-mil train`)",
            )
        return read_turns(self.turns)

    def record(self, stage: str, **facts) -> None:
        """Add a stage run's provenance to meta.json: package version, git commit, and the stage's time,
        command line and ``facts``, both as the stage's latest entry (``stages``) and appended to the
        ``log`` of every stage run (so repeated work shows)."""
        meta = read_json(self.meta_path) if self.meta_path.exists() else {}
        meta.update({"package_version": __version__, "git_commit": git_commit(), "python": sys.version.split()[0]})
        entry = {
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
            **facts,
        }
        meta.setdefault("stages", {})[stage] = entry
        meta.setdefault("log", []).append({"stage": stage, **entry})
        write_json(self.meta_path, meta)

    def stage_log(self, stage: str | None = None) -> list[dict]:
        """The recorded runs (oldest first) of ``stage``, or of every stage when None."""
        log = read_json(self.meta_path).get("log", []) if self.meta_path.exists() else []
        return [e for e in log if stage is None or e["stage"] == stage]
