"""The corpus loaders by name: ``load_corpus("msp-improv", "dataset/MSP-IMPROV")`` reads a copy
of the corpus into a manifest; a wrong folder is one clear error:

>>> load_corpus("msp-improv", "no/such/MSP-IMPROV")  # doctest: +ELLIPSIS
Traceback (most recent call last):
ser_utils.errors.CorpusError: MSP-IMPROV folder not found: no/such/MSP-IMPROV — place your copy at ...
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import CORPORA, check_choice
from .msp_improv import load_msp_improv
from .tess import load_tess

__all__ = ["LOADERS", "load_corpus"]

LOADERS = {"tess": load_tess, "msp-improv": load_msp_improv}


def load_corpus(name: str, root: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Manifest of corpus ``name`` ('tess' | 'msp-improv') found under ``root``."""
    return LOADERS[check_choice(name, CORPORA, "corpus")](root, strict=strict)
