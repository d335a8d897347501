"""Corpora: one module per corpus (its folder layout in the docstring), each returning a
manifest DataFrame in the original's walk order; the subsets; the check of a copy.

Modules
-------
:mod:`~ser_utils.corpora.tess`, :mod:`~ser_utils.corpora.msp_improv`
    The loaders, :func:`load_tess` and :func:`load_msp_improv` (:func:`load_corpus` by name).
:mod:`~ser_utils.corpora.walk_order`
    The original's Windows directory walk, the same on every platform.
:mod:`~ser_utils.corpora.subsets`
    Which utterances take part, by name (:func:`select_subset`, :func:`select_files`).
:mod:`~ser_utils.corpora.check`
    ``ser data check``: every file usable, the counts, the saved manifest.
"""

from __future__ import annotations

from .check import (
    available_corpora,
    build_manifest,
    check_corpus,
    format_summary,
    read_or_build_manifest,
)
from .loading import LOADERS, load_corpus
from .msp_improv import load_msp_improv, original_label_strings
from .subsets import (
    ORIGINAL_ARRAY_SUBSET,
    ORIGINAL_SUBSETS,
    SUBSETS,
    UNLABELLED_SUBSETS,
    default_subset,
    select_files,
    select_subset,
)
from .tess import load_tess
from .walk_order import original_order, windows_walk, windows_walk_key

__all__ = [
    "load_corpus",
    "load_tess",
    "load_msp_improv",
    "original_label_strings",
    "LOADERS",
    "original_order",
    "windows_walk",
    "windows_walk_key",
    "SUBSETS",
    "ORIGINAL_SUBSETS",
    "ORIGINAL_ARRAY_SUBSET",
    "UNLABELLED_SUBSETS",
    "default_subset",
    "select_subset",
    "select_files",
    "check_corpus",
    "format_summary",
    "build_manifest",
    "read_or_build_manifest",
    "available_corpora",
]
