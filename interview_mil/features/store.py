"""The feature store: per-interview turn features on disk, keyed by the feature configuration.

Layout (``KEY`` = ``FeatureConfig.key()``)::

    ROOT/KEY/config.json                 the resolved config (and the key) these features were made with
    ROOT/KEY/<interview>/prosody.parquet turn_id + prosody feature and flag columns, one row per turn
    ROOT/KEY/<interview>/embeddings.npy  float32 (n_turns, dim) or (n_turns, n_layers, dim)
    ROOT/KEY/<interview>/turn_ids.json   the turn-id order of the rows of both files
    ROOT/KEY/<interview>/done.json       written last: the interview is complete

Every file is written atomically (temporary file in the same folder, then ``os.replace``) and the
``done.json`` marker last, so a run killed at any point leaves complete interviews or none; a rerun
rewrites unfinished ones and skips done ones. Changing any setting that changes the numbers gives a new
key, hence a new folder: old and new features never mix.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import from_dict, to_dict
from ..errors import FeatureError
from ..fileio import atomic_path, read_json, write_json, write_table
from .config import FeatureConfig
from .turn_features import TurnFeatures

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
DONE = "done.json"


def interview_folder_name(interview_id: str) -> str:
    """A file-system-safe folder name for an interview id (unsafe ids get a hash suffix)."""
    if _SAFE.match(interview_id):
        return interview_id
    import hashlib

    digest = hashlib.sha256(interview_id.encode("utf-8")).hexdigest()[:10]
    return re.sub(r"[^A-Za-z0-9._-]", "_", interview_id)[:80] + "-" + digest


class FeatureStore:
    """Features of many interviews under ``root/<config.key()>/`` (see the module docstring).
    ``config.json`` is written with the first interview saved, so a run that fails before any work
    leaves no empty store behind."""

    def __init__(self, root: str | Path, config: FeatureConfig):
        self.root = Path(root)
        self.config = config
        self.key = config.key()
        self.dir = self.root / self.key
        self._record = {"key": self.key, **config.resolved(), "feature_config": to_dict(config)}
        path = self.dir / "config.json"
        if path.exists():  # written with the first interview saved
            stored = read_json(path)
            if stored.get("key") != self.key or stored.get("config") != self._record["config"]:
                raise FeatureError(
                    "holds features of a different configuration under the same key",
                    path=path,
                    fix="remove this folder or choose another store root",
                )

    @classmethod
    def open(cls, store_dir: str | Path) -> FeatureStore:
        """Open an existing ``ROOT/KEY`` folder from the config saved in it."""
        store_dir = Path(store_dir)
        path = store_dir / "config.json"
        if not path.exists():
            raise FeatureError(
                "not a feature store folder (no config.json)",
                path=store_dir,
                fix="point to ROOT/KEY as written by `interview-mil featurize`",
            )
        config = from_dict(FeatureConfig, read_json(path)["feature_config"], source=path)
        store = cls(store_dir.parent, config)
        if store.dir.resolve() != store_dir.resolve():
            raise FeatureError(
                f"config.json gives key {store.key}, not the folder name",
                path=store_dir,
                fix="the folder was renamed or the feature code changed; featurize again",
            )
        return store

    def folder(self, interview_id: str) -> Path:
        return self.dir / interview_folder_name(str(interview_id))

    def has(self, interview_id: str) -> bool:
        """True when the interview's features are complete (its done marker exists)."""
        return (self.folder(interview_id) / DONE).exists()

    def interview_ids(self) -> list[str]:
        """Ids of every complete interview in the store, sorted."""
        ids: list[str] = []
        for marker in sorted(self.dir.glob(f"*/{DONE}")):
            ids.append(str(read_json(marker)["interview_id"]))
        return sorted(ids)

    def save(self, features: TurnFeatures) -> None:
        """Write one interview's features atomically (done marker last)."""
        n = len(features.turn_ids)
        if len(set(features.turn_ids)) != n:
            raise FeatureError(f"interview {features.interview_id!r}: duplicate turn ids")
        if features.prosody is not None and len(features.prosody) != n:
            raise FeatureError(
                f"interview {features.interview_id!r}: {len(features.prosody)} prosody rows for {n} turns"
            )
        if features.embeddings is not None and features.embeddings.shape[0] != n:
            raise FeatureError(
                f"interview {features.interview_id!r}: {features.embeddings.shape[0]} embeddings for {n} turns"
            )
        if not (self.dir / "config.json").exists():
            write_json(self.dir / "config.json", self._record)
        folder = self.folder(features.interview_id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DONE).unlink(missing_ok=True)
        files = ["turn_ids.json"]
        write_json(folder / "turn_ids.json", list(features.turn_ids))
        if features.prosody is not None:
            table = features.prosody.reset_index(drop=True).copy()
            table.insert(0, "turn_id", list(features.turn_ids))
            write_table(table, folder / "prosody.parquet")
            files.append("prosody.parquet")
        if features.embeddings is not None:
            with atomic_path(folder / "embeddings.npy") as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, np.ascontiguousarray(features.embeddings, dtype=np.float32))
            files.append("embeddings.npy")
        write_json(
            folder / DONE, {"interview_id": features.interview_id, "n_turns": n, "files": files, "key": self.key}
        )

    def load(self, interview_id: str) -> TurnFeatures:
        """Read one interview's features; ``FeatureError`` when missing or inconsistent."""
        folder = self.folder(interview_id)
        if not self.has(interview_id):
            raise FeatureError(
                f"no finished features for interview {interview_id!r}",
                path=self.dir,
                fix="run `interview-mil featurize` with this configuration",
            )
        done = read_json(folder / DONE)
        turn_ids = [str(t) for t in read_json(folder / "turn_ids.json")]
        prosody = embeddings = None
        if "prosody.parquet" in done["files"]:
            table = pd.read_parquet(folder / "prosody.parquet")
            if table["turn_id"].astype(str).tolist() != turn_ids:
                raise FeatureError(
                    "prosody rows do not follow turn_ids.json",
                    path=folder,
                    fix="delete this interview's folder and featurize again",
                )
            prosody = table.drop(columns=["turn_id"]).reset_index(drop=True)
        if "embeddings.npy" in done["files"]:
            embeddings = np.load(folder / "embeddings.npy", allow_pickle=False)
            if embeddings.shape[0] != len(turn_ids):
                raise FeatureError(
                    "embedding rows do not match turn_ids.json",
                    path=folder,
                    fix="delete this interview's folder and featurize again",
                )
        return TurnFeatures(str(done["interview_id"]), turn_ids, prosody, embeddings)

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.dir)!r})"


def describe(store_dir: str | Path) -> str:
    """One line about a store folder: key, interviews done, what is in it."""
    store = FeatureStore.open(store_dir)
    parts = [p for p, c in (("prosody", store.config.prosody), ("encoder", store.config.encoder)) if c]
    return f"{store.dir}: key {store.key}, {len(store.interview_ids())} interviews, {' + '.join(parts)}"


__all__ = ["FeatureStore", "interview_folder_name", "describe"]
