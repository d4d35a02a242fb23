"""Atomic writes and table I/O: a reader never sees a half-written file, so interrupted runs resume.

Tables are written as CSV (``.csv``, optionally ``.csv.gz``) or Parquet (``.parquet``), chosen by suffix.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ManifestError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    The file gets the permissions any new file gets under the user's umask (``mkstemp`` alone would make
    it readable by its owner only): whoever shares results controls that with the umask, as usual."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    mode = 0o666 & ~_umask()
    os.fchmod(fd, mode)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, mode)  # a writer that replaced the temporary file (safetensors does) made it 0600
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically; NaN is written as null."""
    return write_text(path, json.dumps(_json_safe(obj), indent=2, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError("file not found", path=path) from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"not valid JSON ({exc})", path=path) from None


def _json_safe(obj: Any) -> Any:
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def table_format(path: str | Path) -> str:
    """Return ``"parquet"`` or ``"csv"`` from the file name (``.csv.gz`` counts as CSV)."""
    name = Path(path).name.lower()
    if name.endswith(".parquet") or name.endswith(".pq"):
        return "parquet"
    if name.endswith(".csv") or name.endswith(".csv.gz") or name.endswith(".tsv"):
        return "csv"
    raise ManifestError("unknown table format", path=path, fix="use a .csv, .csv.gz or .parquet file name")


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` atomically as CSV or Parquet by the suffix of ``path``."""
    path = Path(path)
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            compression = "gzip" if path.name.lower().endswith(".gz") else None
            sep = "\t" if path.name.lower().endswith(".tsv") else ","
            df.to_csv(tmp, index=False, sep=sep, compression=compression)
    return path


def read_table(path: str | Path, required: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV/Parquet table; raise a clear error if it is missing or lacks ``required`` columns."""
    path = Path(path)
    if not path.exists():
        raise ManifestError("file not found", path=path, fix="check the path")
    try:
        if table_format(path) == "parquet":
            df = pd.read_parquet(path)
        else:
            sep = "\t" if path.name.lower().endswith(".tsv") else ","
            df = pd.read_csv(path, sep=sep)
    except ManifestError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for corrupt files
        raise ManifestError(f"cannot read table ({type(exc).__name__}: {exc})", path=path) from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ManifestError(
            f"missing column(s) {missing}; found {list(df.columns)}",
            path=path,
            fix=f"add the column(s) {missing} or point to the right table",
        )
    return df
