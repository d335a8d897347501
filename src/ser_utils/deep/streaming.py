"""Row-aligned ``.npy`` outputs written a chunk of rows at a time, resumable, put in place at once.

The arrays of :mod:`ser_utils.deep.arrays` are written through :class:`StreamingArrays`: memory
stays flat whatever the number of rows, an interrupted run resumes where it stopped, and no
half-written file is ever in place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..errors import SerError
from ..storage import named_os_error, read_json, write_json

try:
    import fcntl  # the lock of an output folder; POSIX only
except ImportError:
    fcntl = None

__all__ = [
    "StreamingArrays",
    "npy_shape",
    "exclusive_folder",
    "space_needed",
    "PARTIAL_FOLDER",
    "PROGRESS_FILE",
]

PARTIAL_FOLDER = ".partial"
PROGRESS_FILE = "progress.json"


def npy_shape(path: Path) -> tuple | None:
    """Shape of a ``.npy`` file from its header, or None when it is missing or unreadable."""
    try:
        return tuple(np.load(path, mmap_mode="r").shape)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def exclusive_folder(directory: Path, writer: str) -> Iterator[None]:
    """Hold ``<directory>/.partial.lock`` while the outputs are written: a second ``writer``
    into the same folder stops at once with one line instead of breaking the first one's files."""
    if fcntl is None:  # not POSIX: two runs into one folder are not detected
        yield
        return
    lock_path = directory / f"{PARTIAL_FOLDER}.lock"
    with contextlib.ExitStack() as stack:
        try:
            handle = stack.enter_context(open(lock_path, "a+"))
        except OSError as exc:
            raise named_os_error(exc, lock_path) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SerError(
                f"{directory}: another {writer} is writing into this folder — wait for it to "
                "finish, or choose another --out"
            ) from None
        stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield


def space_needed(directory: Path, shapes: dict[str, tuple[int, ...]]) -> int:
    """Bytes the float32 arrays of ``shapes`` take, less what partial files of an earlier run
    (which the new run reuses or deletes) already hold."""
    needed = sum(4 * int(np.prod(shape, dtype=np.int64)) for shape in shapes.values())
    partial = directory / PARTIAL_FOLDER
    for path in partial.glob("*.npy") if partial.is_dir() else ():
        with contextlib.suppress(OSError):
            needed -= os.stat(path).st_blocks * 512
    return max(needed, 0)


def _create_npy(path: Path, shape: tuple[int, ...], dtype=np.float32) -> None:
    """A new ``.npy`` of ``shape``, its data space reserved on disk (``posix_fallocate``), so a
    disk too small fails here with ENOSPC rather than part-way through the writes."""
    header = {
        "descr": npy_format.dtype_to_descr(np.dtype(dtype)),
        "fortran_order": False,
        "shape": tuple(int(n) for n in shape),
    }
    try:
        with open(path, "wb") as handle:
            npy_format.write_array_header_1_0(handle, header)
            total = handle.tell() + int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            handle.flush()
            try:
                os.posix_fallocate(handle.fileno(), 0, total)
            except (AttributeError, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    raise
                handle.truncate(total)  # no fallocate here (macOS, some file systems): sparse
    except OSError as exc:
        raise named_os_error(exc, path) from None


def _write_rows(path: Path, start: int, rows: list[np.ndarray]) -> None:
    """Write ``rows`` from row ``start`` of an existing ``.npy`` through a file object: a full
    disk is then an OSError naming the file, where a memory map's write would be a SIGBUS."""
    try:
        with open(path, "r+b") as handle:
            version = npy_format.read_magic(handle)
            read_header = (
                npy_format.read_array_header_1_0
                if version == (1, 0)
                else npy_format.read_array_header_2_0
            )
            shape, _, dtype = read_header(handle)
            row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
            handle.seek(handle.tell() + start * row_bytes)
            handle.write(np.ascontiguousarray(np.stack(rows), dtype=dtype).tobytes())
    except OSError as exc:
        raise named_os_error(exc, path) from None


def _copy_rows(source: Path, target: Path, keep: np.ndarray, chunk: int) -> None:
    """Copy the rows ``keep`` of ``source`` into a new ``.npy`` ``target``, a chunk at a time."""
    src = np.load(source, mmap_mode="r")
    _create_npy(target, (len(keep), *src.shape[1:]), src.dtype)
    for start in range(0, len(keep), chunk):
        _write_rows(target, start, list(src[keep[start : start + chunk]]))
    del src


class StreamingArrays:
    """Row-aligned ``.npy`` outputs written a chunk of rows at a time and put in place at once.

    Each array ``<name>.npy`` is created under ``<directory>/.partial/`` with its final shape
    (its space reserved on disk) and filled through a file object a chunk at a time
    (:meth:`write`), so memory stays flat whatever the number of rows and a full disk is an
    ``OSError`` naming the file. After every chunk ``.partial/progress.json``
    records the key, the rows done and the rows skipped: a run stopped by an error, Ctrl-C or
    SIGTERM leaves the partial files, and the next run with the same key resumes from the
    first row not done (:meth:`open`); partial files of another key are discarded.
    :meth:`commit` moves the arrays and any side files written into :attr:`partial` into
    ``directory`` (``os.replace``, never a half-written file in place), writes the info file
    last and removes ``.partial/``.

    Parameters
    ----------
    directory : Path
        Folder of the finished files.
    key : str
        What the rows depend on.
    shapes : dict of str to tuple
        Name (file ``<name>.npy``) and final shape of each array, rows first, all with the
        same number of rows; float32.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> writer = StreamingArrays(folder, "key-1", {"audio": (4, 3)}).open()
    >>> writer.write({"audio": [np.ones(3), np.ones(3)]})
    >>> StreamingArrays(folder, "key-1", {"audio": (4, 3)}).open().done  # an interrupted run resumes here
    2
    >>> writer.write({"audio": [np.zeros(3), np.zeros(3)]})
    >>> writer.commit([], {"key": "key-1"}, folder / "arrays.json")
    >>> np.load(folder / "audio.npy").sum(axis=1).tolist()
    [3.0, 3.0, 0.0, 0.0]
    """

    def __init__(self, directory: Path, key: str, shapes: dict[str, tuple[int, ...]]):
        self.directory, self.key, self.shapes = Path(directory), key, dict(shapes)
        self.n = next(iter(self.shapes.values()))[0]
        self.partial = self.directory / PARTIAL_FOLDER
        self.done, self.skipped = 0, []

    def path(self, name: str) -> Path:
        """``.partial/<name>``: where an array (``<name>.npy``) or a side file is written before :meth:`commit`."""
        return self.partial / name

    def _array(self, name: str) -> Path:
        return self.path(f"{name}.npy")

    def _save_progress(self) -> None:
        write_json(
            {"key": self.key, "n": self.n, "done": self.done, "skipped": self.skipped},
            self.path(PROGRESS_FILE),
        )

    def open(self) -> StreamingArrays:
        """Resume the partial files of the same key and shapes, or start new ones; sets :attr:`done`
        and :attr:`skipped` (the rows left out so far, as recorded in ``progress.json``)."""
        progress_path = self.path(PROGRESS_FILE)
        state = read_json(progress_path) if progress_path.is_file() else {}
        resumable = state.get("key") == self.key and all(
            npy_shape(self._array(name)) == shape for name, shape in self.shapes.items()
        )
        if not resumable:
            shutil.rmtree(self.partial, ignore_errors=True)
            self.partial.mkdir(parents=True)
            for name, shape in self.shapes.items():
                _create_npy(self._array(name), shape)
            state = {"key": self.key, "n": self.n, "done": 0, "skipped": []}
            write_json(state, progress_path)
        self.done, self.skipped = int(state["done"]), list(state["skipped"])
        return self

    def write(self, chunk: dict[str, list[np.ndarray]], skipped: list[dict] | None = None) -> None:
        """Write the next rows of every array (``chunk[name]``, one list of rows each, all of one
        length) from row :attr:`done`, record ``skipped`` (entries for rows of this chunk) and
        the progress."""
        count = len(next(iter(chunk.values())))
        for name in self.shapes:
            _write_rows(self._array(name), self.done, chunk[name])
        self.done += count
        self.skipped += skipped or []
        self._save_progress()

    def keep_rows(self, keep: np.ndarray, chunk: int) -> None:
        """Keep only the rows ``keep`` of every array (copied ``chunk`` rows at a time)."""
        for name in self.shapes:
            _copy_rows(self._array(name), self.path(f"{name}.kept.npy"), keep, chunk)
            os.replace(self.path(f"{name}.kept.npy"), self._array(name))

    def commit(self, side_files: list[str], info: dict, info_path: Path) -> None:
        """Move the arrays, then ``side_files`` (names written under :attr:`partial`), into
        ``directory``; write ``info`` to ``info_path`` (the mark of complete outputs) and
        remove ``.partial/``."""
        for name in [*(f"{name}.npy" for name in self.shapes), *side_files]:
            try:
                os.replace(self.path(name), self.directory / name)
            except OSError as exc:
                raise named_os_error(exc, self.path(name)) from None
        write_json(info, info_path)
        shutil.rmtree(self.partial, ignore_errors=True)
