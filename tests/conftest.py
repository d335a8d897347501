"""Shared fixtures: the synthetic mini corpora (made once per test session) and small
hand-made files for error paths."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

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


def write_tone(
    path: Path,
    *,
    seconds: float = 0.5,
    sr: int = 16_000,
    channels: int = 1,
    subtype: str = "PCM_16",
    frequency: float = 220.0,
    amplitude: float = 0.5,
) -> Path:
    """A sine tone (optionally multichannel) for reader and error-path tests."""
    t = np.arange(int(seconds * sr)) / sr
    tone = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    data = (
        np.stack([tone * (c + 1) / channels for c in range(channels)], axis=1)
        if channels > 1
        else tone
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, sr, subtype=subtype)
    return path


CONSENSUS_LINE = "UTD-IMPROV-{name}.avi; {label}; A:{a}; V:3.000000; D:3.000000 ; N:3.000000;"
RATER_LINE = "RATER{r:03d}; Neutral; ; A:3.0; V:3.0; D:3.0; N:3.0;"


def write_msp_tree(
    root: Path,
    names_labels: dict[str, str],
    *,
    label_file: str | None = "Evaluation.txt",
    extra_labels: dict[str, str] | None = None,
    nest: str = "session1",
) -> Path:
    """A tiny MSP-IMPROV tree: one short tone per name under ``nest/<S01A>/<type>/``, and a label file."""
    for name in names_labels:
        folder = root / nest / name[11:15] / (name[20] if len(name) > 20 else "R")
        write_tone(folder / f"{name}.wav", seconds=0.3, sr=44_100)
    if label_file:
        blocks = []
        for i, (name, label) in enumerate({**names_labels, **(extra_labels or {})}.items()):
            stem = name.replace("MSP-IMPROV-", "")
            blocks.append(
                "\n".join(
                    [
                        CONSENSUS_LINE.format(
                            name=stem, label=label, a="NaN" if i == 0 else "2.500000"
                        ),
                        RATER_LINE.format(r=1),
                        RATER_LINE.format(r=1),
                        RATER_LINE.format(r=2),
                    ]
                )
            )
        (root / label_file).write_text("\n\n".join(blocks) + "\n")
    return root
