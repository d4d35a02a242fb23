"""Plain YAML → frozen dataclasses. Unknown keys are errors; ``a.b=3`` overrides on the command line.

``from_dict(Cls, data)`` builds a (nested) dataclass, checking every key and the type of every scalar.
``to_dict(obj)`` goes back. ``apply_overrides(data, ["train.lr=3e-4"])`` edits the raw dict before building.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, Union

import yaml

from .errors import ConfigError

T = TypeVar("T")


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _convert(tp: Any, value: Any, where: str, source: str | None) -> Any:
    """Convert ``value`` to type ``tp`` (dataclass, Optional, list/tuple, dict, scalar) or raise."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        alternatives = [a for a in args if a is not type(None)]
        if len(alternatives) == 1:  # Optional[X]: X's own message (e.g. a section's range check) is clearer
            return _convert(alternatives[0], value, where, source)
        reasons = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where, source)
            except ConfigError as exc:
                reasons.append(exc.reason)
        allowed = " | ".join("null" if a is type(None) else getattr(a, "__name__", str(a)) for a in args)
        raise ConfigError(f"{where}: {value!r} matches none of {allowed} ({'; '.join(reasons)})", path=source)
    if typing.get_origin(tp) is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}", path=source)
        return value
    if _is_dataclass_type(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}", path=source)
        return _build(tp, value, where, source)
    if origin in (list, tuple, collections.abc.Sequence) or tp in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}", path=source)
        item_tp = args[0] if args else Any
        items = [_convert(item_tp, v, f"{where}[{i}]", source) for i, v in enumerate(value)]
        return tuple(items) if (origin is tuple or tp is tuple) else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}", path=source)
        val_tp = args[1] if len(args) == 2 else Any
        return {str(k): _convert(val_tp, v, f"{where}.{k}", source) for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}", path=source)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}", path=source)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}", path=source)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}", path=source)
        return value
    if tp is Path:
        return Path(value)
    return value


def convert_value(tp: Any, value: Any, where: str, source: str | Path | None = None) -> Any:
    """``value`` checked against (and converted to) type ``tp`` as a config field of that type would be;
    ``ConfigError`` naming ``where`` (and ``source``) otherwise."""
    return _convert(tp, value, where, None if source is None else str(source))


def _build(cls: type[T], data: dict, where: str, source: str | None) -> T:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(
            f"unknown key(s) {[f'{where}.{k}'.lstrip('.') for k in unknown]}",
            path=source,
            fix=f"valid keys under {where or 'the top level'!s}: {sorted(fields)}",
        )
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}".lstrip("."), source) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError as exc:  # a section's own range check: say where the section sits
        if not where or exc.reason.startswith(where):
            raise
        raise ConfigError(f"{where}: {exc.reason}", path=exc.path or source, fix=exc.fix) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{where or cls.__name__}: {exc}",
            path=source,
            fix=f"change the value under {where or 'the top level'} (the message gives the valid range)",
        ) from None


def from_dict(cls: type[T], data: dict | None, source: str | Path | None = None) -> T:
    """Build dataclass ``cls`` from a plain mapping; unknown keys and wrong types raise ``ConfigError``
    (naming ``source``, also for the range checks of the sections themselves)."""
    try:
        return _build(cls, dict(data or {}), "", None if source is None else str(source))
    except ConfigError as exc:
        if exc.path is not None or source is None:
            raise
        raise ConfigError(exc.reason, path=source, fix=exc.fix) from None


def to_dict(obj: Any) -> Any:
    """Turn a (nested) dataclass into plain dicts/lists/scalars, ready for YAML or JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=3e-4"`` → ``(["train", "lr"], 0.0003)``; the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key.path=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    # YAML reads "3e-4" as a string; accept it as the number a user meant.
    if isinstance(value, str):
        try:
            value = float(value) if any(c in value.lower() for c in ".e") else value
        except ValueError:
            pass
    return key.split("."), value


def apply_overrides(data: dict, overrides: list[str] | tuple[str, ...]) -> dict:
    """Return a copy of ``data`` with each dotted override applied (creating mappings as needed)."""
    import copy

    out = copy.deepcopy(data)
    for text in overrides:
        keys, value = parse_override(text)
        node = out
        for k in keys[:-1]:
            child = node.get(k)
            if child is None:
                child = node[k] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"override {text!r}: {k!r} is not a mapping")
            node = child
        node[keys[-1]] = value
    return out


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping from ``path`` with a clear error for a missing or malformed file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config file not found", path=path) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            _yaml_problem(exc),
            path=path,
            fix="fix the YAML syntax there (indentation, a ':' after each key, matching brackets and quotes)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file ({exc})", path=path) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("the top level of a config must be a mapping", path=path)
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """``"not valid YAML at line L, column C: <problem>"`` (1-based), without PyYAML's echo of the text."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {problem}" + (f" ({context})" if context else "")


def load_config(cls: type[T], path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> T:
    """Load YAML ``path`` into dataclass ``cls`` after applying dotted ``overrides``."""
    return from_dict(cls, apply_overrides(load_yaml(path), overrides), source=path)


def dump_yaml(obj: Any) -> str:
    """YAML text of a dataclass or plain mapping (keys keep their declared order)."""
    return yaml.safe_dump(to_dict(obj), sort_keys=False)
