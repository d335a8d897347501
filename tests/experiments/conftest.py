"""Fixtures of the experiment tests: tiny spectrogram problems with the metadata of each corpus."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ser_utils import config

LABELS = config.FOUR_CLASSES


@pytest.fixture(scope="module")
def tiny_problem():
    """48 'spectrograms' of (40, 40) in 4 classes over 4 sessions, plus 6 rows the 4-class
    selection must leave out (an 'other' label, a P recording)."""
    rng = np.random.default_rng(0)
    labels = np.tile(config.FOUR_CLASSES, 12)
    sessions = np.repeat([1, 2, 3, 4], 12)
    genders = np.tile(["F", "M"], 24)
    x = rng.standard_normal((48, 40, 40)).astype(np.float32)
    x += (np.searchsorted(config.FOUR_CLASSES, labels) * 0.5)[:, None, None]  # learnable, barely
    metadata = pd.DataFrame(
        {
            "utterance_id": [f"u{i:02d}" for i in range(48)],
            "label": labels,
            "speaker": [f"{g}{s:02d}" for g, s in zip(genders, sessions)],
            "session": sessions,
            "recording_type": "R",
        }
    )
    extra = pd.DataFrame(
        {
            "utterance_id": [f"v{i}" for i in range(6)],
            "label": ["other"] * 3 + ["angry"] * 3,
            "speaker": "F01",
            "session": 1,
            "recording_type": ["R"] * 3 + ["P"] * 3,
        }
    )
    metadata = pd.concat([metadata, extra], ignore_index=True)
    x = np.concatenate([x, np.full((6, 40, 40), 1e3, np.float32)])  # would wreck training if used
    recipe = config.original_recipe("msp-improv", "smoke")
    recipe = dataclasses.replace(
        recipe, training=dataclasses.replace(recipe.training, epochs=1, batch_size=16)
    )
    return x, metadata, recipe


@pytest.fixture(scope="module")
def two_corpora():
    """Tiny arrays with the metadata of each corpus: MSP-IMPROV (4 sessions × 2 speakers) and
    TESS (2 speakers, 7 emotions)."""
    rng = np.random.default_rng(0)
    sessions = np.repeat([1, 2, 3, 4], 8)
    msp = pd.DataFrame(
        {
            "utterance_id": [f"m{i:02d}" for i in range(32)],
            "label": np.tile(LABELS, 8),
            "speaker": [f"{'FM'[i % 2]}{s:02d}" for i, s in enumerate(sessions)],
            "session": sessions,
            "recording_type": "R",
        }
    )
    tess = pd.DataFrame(
        {
            "utterance_id": [f"t{i:02d}" for i in range(28)],
            "label": np.tile(sorted(set(config.TESS_LABELS.values())), 4),
            "speaker": np.repeat(["OAF", "YAF"], 14),
            "session": np.nan,
            "recording_type": np.nan,
        }
    )
    return {
        "msp-improv": (rng.normal(-40, 8, size=(32, 16, 40)).astype(np.float32), msp, LABELS),
        "tess": (
            rng.normal(-40, 8, size=(28, 16, 40)).astype(np.float32),
            tess,
            tuple(sorted(set(config.TESS_LABELS.values()))),
        ),
    }
