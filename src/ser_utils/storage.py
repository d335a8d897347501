"""Atomic writes: every output is written under a temporary name and renamed when complete,
so an interrupted stage never leaves a half-written file behind and re-running is safe."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["atomic_path", "write_csv", "write_json", "read_json", "read_manifest", "to_jsonable"]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    >>> with atomic_path("outputs/results/run.json") as tmp:  # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def to_jsonable(value):
    """numpy scalars/arrays, pandas tables, paths and tuples -> plain JSON types; NaN -> None."""
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict(orient="index"))
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(data, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(data), indent=2, sort_keys=False) + "\n")
    return Path(path)


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())


def write_csv(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index)
    return Path(path)


def read_manifest(path: str | Path) -> pd.DataFrame:
    """A manifest CSV written by ``ser data manifest`` (or :func:`write_csv`)."""
    return pd.read_csv(path)
