"""Shared fixtures: the synthetic mini corpora (made once per test session), a private copy of
a few of their files, and an untrained model bundle."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

#: Settings a user (or ``make test``, for the notebooks it runs in the same process as some of
#: these tests) may have exported; each test starts without them.
USER_SETTINGS = ("SER_PROFILE", "SER_DATA_DIR", "SER_OUTPUT_DIR")


@pytest.fixture(autouse=True)
def _without_user_settings(monkeypatch):
    for name in USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """A data directory holding synthetic mini ``TESS/`` and ``MSP-IMPROV/`` (seed 0)."""
    from ser_utils import synthetic

    base = tmp_path_factory.mktemp("synthetic")
    synthetic.make_tess(base / "TESS", size="mini", seed=0)
    synthetic.make_msp_improv(base / "MSP-IMPROV", size="mini", seed=0)
    return base


@pytest.fixture(scope="session")
def tess_root(synthetic_root) -> Path:
    return synthetic_root / "TESS"


@pytest.fixture(scope="session")
def msp_root(synthetic_root) -> Path:
    return synthetic_root / "MSP-IMPROV"


@pytest.fixture(scope="session")
def tess_manifest(tess_root):
    from ser_utils.corpora import load_tess

    return load_tess(tess_root)


@pytest.fixture(scope="session")
def msp_manifest(msp_root):
    from ser_utils.corpora import load_msp_improv

    return load_msp_improv(msp_root)


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory) -> Path:
    """An untrained smoke-size improved model saved as a bundle (predictions need no training)."""
    from tests.helpers import untrained_bundle

    return untrained_bundle(tmp_path_factory.mktemp("bundle") / "model")


@pytest.fixture()
def small_corpus(tess_root, tmp_path) -> tuple[Path, pd.DataFrame]:
    """A private copy of 6 synthetic TESS files (so tests may rewrite them) and its manifest."""
    from ser_utils.corpora import load_tess

    source = (
        sorted(tess_root.rglob("OAF_*_angry.wav"))[:3]
        + sorted(tess_root.rglob("YAF_*_sad.wav"))[:3]
    )
    root = tmp_path / "TESS"
    for path in source:
        target = root / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return root, load_tess(root)
