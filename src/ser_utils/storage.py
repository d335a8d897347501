"""Atomic writes: every output is written under a temporary name and renamed when complete,
so an interrupted stage never leaves a half-written file behind and re-running is safe.

Output locations are checked before any work (:func:`check_output_dir`,
:func:`check_output_file`), and written files get the mode the user's umask gives a new
file (0644 under the usual umask 022), like files written with ``open``.
"""

from __future__ import annotations

import contextlib
import hashlib
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
    "content_fingerprint",
    "check_free_space",
    "named_os_error",
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


def content_fingerprint(path: str | Path) -> str:
    """BLAKE2b (128-bit) of the file's bytes: what a rewrite keeping the size and the
    modification time (``touch -r``) still changes.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "a.wav"
    >>> _ = path.write_bytes(b"RIFF")
    >>> content_fingerprint(path)
    'f9d45a7be062711cbb5ca8c8e2699db2'
    """
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, lambda: hashlib.blake2b(digest_size=16)).hexdigest()


def file_identity(path: str | Path) -> dict:
    """What makes a cache entry of ``path`` valid: resolved path, size, modification time (ns)
    and a fingerprint of the content (:func:`content_fingerprint`).

    Replacing or editing a file changes its modification time (``cp``, ``mv``, an editor, a
    new download) and in any case its content, and another copy of a corpus has another
    path, so none of them can reuse the results of the file it replaces.

    Raises
    ------
    AudioError
        The file does not exist or cannot be read.
    """
    path = Path(path)
    try:
        status = path.stat()
        fingerprint = content_fingerprint(path)
    except FileNotFoundError:
        raise AudioError(
            f"{path}: audio file not found — check the path, or rebuild the manifest "
            "(ser data manifest)"
        ) from None
    except OSError as exc:
        raise AudioError(
            f"{path}: cannot read the file ({exc.strerror}) — make it readable (chmod a+r) "
            "or remove it from the corpus"
        ) from None
    return {
        "path": str(path.resolve()),
        "size": status.st_size,
        "mtime_ns": status.st_mtime_ns,
        "blake2b": fingerprint,
    }


def check_free_space(folder: str | Path, needed: int, what: str) -> None:
    """Fail before any work when the file system of ``folder`` has less than ``needed`` bytes free.

    Raises
    ------
    OutputError
        Naming the folder, the bytes needed and the bytes free.
    """
    existing = _nearest_existing(Path(folder).expanduser())
    try:
        status = os.statvfs(existing)
    except (OSError, AttributeError):  # no statvfs (Windows) or an odd mount: the writes will tell
        return
    free = status.f_bavail * status.f_frsize
    if free < needed:
        raise OutputError(
            f"{folder}: not enough free space for {what} ({_size(needed)} needed, {_size(free)} "
            "free) — free some space or choose a folder on another disk"
        )


def _size(n_bytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return f"{n_bytes:.1f} TB"


def named_os_error(exc: OSError, path: str | Path) -> OSError:
    """``exc`` with ``path`` as its file name when it names none (``write`` on a full disk
    raises ENOSPC without one), so ``ser`` can report which file failed."""
    if exc.filename is not None:
        return exc
    return OSError(exc.errno, exc.strerror or str(exc), str(path))


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
        try:
            yield tmp
            os.replace(tmp, path)
        except OSError as exc:
            raise named_os_error(exc, path) from None
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
