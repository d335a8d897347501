"""Atomic writes: every output is written under a temporary name and renamed when complete,
so an interrupted stage never leaves a half-written file behind and re-running is safe.

Output locations are checked before any work (:func:`check_output_dir`,
:func:`check_output_file`), and written files get the mode the user's umask gives a new
file (0644 under the usual umask 022), like files written with ``open``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import AudioError, OutputError

__all__ = [
    "atomic_path",
    "write_csv",
    "write_json",
    "read_json",
    "read_manifest",
    "to_jsonable",
    "check_output_dir",
    "check_output_file",
    "file_identity",
    "new_file_mode",
    "new_folder_mode",
]


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def new_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 less the process umask."""
    return 0o666 & ~_umask()


def new_folder_mode() -> int:
    """The mode ``os.mkdir`` gives a new folder: 0o777 less the process umask."""
    return 0o777 & ~_umask()


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable_folder(folder: Path, path: Path, what: str) -> None:
    """Fail unless a file can be created in the nearest existing folder of ``folder``."""
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise OutputError(
            f"cannot write {what} {path}: {existing} is a file, not a folder — "
            f"choose another {what}"
        )
    # Creating a file is the only reliable test: os.access ignores read-only mounts, ACLs and root.
    try:
        handle, probe = tempfile.mkstemp(prefix=".ser-write-test.", dir=existing)
    except OSError as exc:
        raise OutputError(
            f"cannot write {what} {path}: {existing} is not writable ({exc.strerror}) — "
            f"choose another {what} or fix the folder's permissions"
        ) from None
    os.close(handle)
    os.unlink(probe)


def check_output_dir(path: str | Path, what: str = "output folder") -> Path:
    """Check, before any work, that ``path`` is (or can become) a writable folder.

    Raises
    ------
    OutputError
        ``path`` is an existing file, or neither it nor its nearest existing parent is writable.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_output_dir(folder / "new" / "run", "--out") == folder / "new" / "run"
    True
    >>> (folder / "a-file").write_text("")
    0
    >>> check_output_dir(folder / "a-file", "--out")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ser_utils.errors.OutputError: --out ... is a file, not a folder — remove it or choose another --out
    """
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputError(
            f"{what} {path} is a file, not a folder — remove it or choose another {what}"
        )
    _check_writable_folder(path, path, what)
    return path


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """Check, before any work, that the file ``path`` can be written (its folder writable).

    Raises
    ------
    OutputError
        ``path`` is a folder, or its folder cannot be written.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise OutputError(
            f"{what} {path} is a folder — pass a file name (e.g. {path / 'manifest.csv'})"
        )
    _check_writable_folder(path.parent, path, what)
    return path


def file_identity(path: str | Path) -> dict:
    """What makes a cache entry of ``path`` valid: resolved path, size and modification time (ns).

    Replacing or editing a file changes its modification time (``cp``, ``mv``, an editor, a
    new download), and another copy of a corpus has another path, so neither can reuse the
    results of the file it replaces.

    Raises
    ------
    AudioError
        The file does not exist.
    """
    path = Path(path)
    try:
        status = path.stat()
    except OSError:
        raise AudioError(
            f"{path}: audio file not found — check the path, or rebuild the manifest "
            "(ser data manifest)"
        ) from None
    return {"path": str(path.resolve()), "size": status.st_size, "mtime_ns": status.st_mtime_ns}


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "run.json"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("{}")
    ...     target.exists()
    False
    >>> target.read_text()
    '{}'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    os.chmod(tmp, new_file_mode())  # mkstemp makes 0600; outputs get a normal file's mode
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
