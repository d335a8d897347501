"""The original study's row order: ``os.walk`` over the corpus folder on Windows (NTFS).

Every stage of the original listed its files with ``os.walk`` on a Windows machine, and
its evaluation split the rows with an unshuffled ``StratifiedKFold``, which hands each
class to the folds in contiguous blocks of row order — so the order decides the folds.
On NTFS a directory lists its entries by their upper-cased names (ordinal comparison,
case-insensitive), and ``os.walk`` (top-down) yields a folder's files before it descends
into its sub-folders, taken in that same order. For MSP-IMPROV this gives session folder
→ sentence folder → type folder (P, R, S, T) → file name; sorting by file name instead
gives sentence → session → …, and other folds.

The order is computed here, on every platform, from the files' paths alone: at each level
a file sorts before any sub-folder, and names compare upper-cased. Two functions:

- :func:`windows_walk` walks a folder and returns its files in that order;
- :func:`windows_walk_key` is the sort key of one path, so any list of files below a
  common folder (a manifest's ``path`` column) can be put in walk order without walking.

Examples
--------
>>> sorted(["a/B.wav", "a/c/A.wav", "A/a.wav", "b.wav"], key=windows_walk_key)
['b.wav', 'A/a.wav', 'a/B.wav', 'a/c/A.wav']
"""

from __future__ import annotations

import os
from pathlib import Path, PurePath

import pandas as pd

__all__ = ["ntfs_name_key", "windows_walk_key", "windows_walk", "original_order"]

#: Sort rank of an entry within its folder: ``os.walk`` yields the files before descending.
_FILE, _FOLDER = 0, 1


def ntfs_name_key(name: str) -> str:
    """The name NTFS compares: each character upper-cased (the upcase table maps one
    character to one, so ``ß`` stays ``ß`` where :meth:`str.upper` would give ``SS``).

    Upper-casing (not lower-casing) matters: ``_`` lies between ``Z`` and ``a``, so
    ``OAF_READY`` < ``OAF_READ_`` on NTFS.

    Examples
    --------
    >>> ntfs_name_key("OAF_Fear")
    'OAF_FEAR'
    >>> sorted(["read_x.wav", "ready_x.wav"], key=ntfs_name_key)
    ['ready_x.wav', 'read_x.wav']
    """
    return "".join(
        upper if len(upper := character.upper()) == 1 else character for character in name
    )


def windows_walk_key(path: str | PurePath) -> tuple[tuple[int, str], ...]:
    """Sort key giving a file's position in a Windows ``os.walk`` of a folder above it.

    One ``(rank, name)`` pair per path component: folders rank after files, so within a
    folder every file comes before every sub-folder's content; names compare as
    :func:`ntfs_name_key`. Paths below the same folder share their leading pairs, so the
    key works on absolute paths as well as on paths relative to the corpus root.

    Parameters
    ----------
    path : str or PurePath
        A file path (absolute, or relative to the walked folder).

    Returns
    -------
    tuple of (int, str)

    Examples
    --------
    >>> windows_walk_key("session1/S01A/R/x.wav")
    ((1, 'SESSION1'), (1, 'S01A'), (1, 'R'), (0, 'X.WAV'))
    """
    parts = PurePath(path).parts
    if not parts:
        raise ValueError("an empty path has no place in a directory walk")
    return (
        *((_FOLDER, ntfs_name_key(part)) for part in parts[:-1]),
        (_FILE, ntfs_name_key(parts[-1])),
    )


def windows_walk(root: str | Path) -> list[Path]:
    """Every file under ``root`` in the order a Windows (NTFS) ``os.walk(root)`` yields them.

    Parameters
    ----------
    root : path
        The folder to walk.

    Returns
    -------
    list of Path
        Files only (every name, junk included), the files of a folder before those of its
        sub-folders, names compared upper-cased.
    """
    files: list[Path] = []
    for directory, subdirectories, names in os.walk(root):
        # os.walk descends into ``subdirectories`` in list order: sort it in place, NTFS-style.
        subdirectories.sort(key=ntfs_name_key)
        files.extend(Path(directory) / name for name in sorted(names, key=ntfs_name_key))
    return files


def original_order(frame: pd.DataFrame, *, column: str = "path") -> pd.DataFrame:
    """The rows of ``frame`` in the original's walk order of their ``column`` paths, index reset.

    Parameters
    ----------
    frame : pandas.DataFrame
        E.g. a manifest; ``column`` holds each row's file path.
    column : str, default "path"

    Returns
    -------
    pandas.DataFrame
    """
    if column not in frame.columns:
        raise KeyError(
            f"no {column!r} column to order by — build the manifest with ser_utils.corpora.load_corpus"
        )
    keys = [windows_walk_key(path) for path in frame[column]]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return frame.iloc[order].reset_index(drop=True)
