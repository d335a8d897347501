"""Corpus loaders: one module per corpus, each returning a manifest DataFrame.

``load_corpus("msp-improv", "dataset/MSP-IMPROV")`` reads a copy of the corpus; a wrong
folder is one clear error:

>>> from ser_utils.corpora import load_corpus
>>> load_corpus("msp-improv", "no/such/MSP-IMPROV")  # doctest: +ELLIPSIS
Traceback (most recent call last):
ser_utils.errors.CorpusError: MSP-IMPROV folder not found: no/such/MSP-IMPROV — place your copy at ...
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import CORPORA, check_choice
from .msp_improv import load_msp_improv
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
]

LOADERS = {"tess": load_tess, "msp-improv": load_msp_improv}


def load_corpus(name: str, root: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Manifest of corpus ``name`` ('tess' | 'msp-improv') found under ``root``."""
    return LOADERS[check_choice(name, CORPORA, "corpus")](root, strict=strict)
