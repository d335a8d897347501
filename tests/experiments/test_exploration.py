"""The original's hyperparameter exploration (ser_utils.experiments.exploration)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ser_utils import config

pytest.importorskip("keras")

from ser_utils import experiments  # noqa: E402


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


def test_exploration_grid_holds_every_combination_of_the_originals_values():
    grid = experiments.exploration_grid("full")
    assert len(grid) == 2 * 4 * 3 * 4 * 2
    final = {
        "pooling": "average",
        "pool_size": 3,
        "filters": (32, 64),
        "learning_rate": 5e-4,
        "l1": 1e-3,
    }
    assert final in grid.values()
    assert {changes["filters"] for changes in grid.values()} == {(16, 32), (32, 64), (64, 128)}
    assert len(experiments.exploration_grid("smoke")) == 2


def test_explore_hyperparameters_trains_each_variant_for_the_given_epochs(tiny_problem):
    x, metadata, recipe = tiny_problem
    table, histories = experiments.explore_hyperparameters(
        x, metadata, recipe=recipe, progress=False
    )
    assert list(table.index) == list(experiments.exploration_grid("smoke"))
    assert (table["epochs"] == config.SMOKE_EXPLORATION_EPOCHS).all()
    assert table.attrs["n_validation"] == 10  # 20 % of the 48 four-class rows
    assert all(
        len(h["val_accuracy"]) == config.SMOKE_EXPLORATION_EPOCHS for h in histories.values()
    )


def test_the_full_profile_explores_the_originals_documented_variants_unless_the_grid_is_asked():
    assert experiments.exploration_variants("full") == experiments.ORIGINAL_EXPLORATION
    assert experiments.exploration_variants("full", "grid") == experiments.exploration_grid("full")
    assert experiments.exploration_variants("smoke", "grid") == experiments.exploration_grid(
        "smoke"
    )


@pytest.mark.parametrize("exploration", ["everything", "Grid"])
def test_an_unknown_exploration_is_refused_with_the_choices(exploration):
    from ser_utils.errors import ChoiceError

    with pytest.raises(ChoiceError, match="original, grid"):
        experiments.exploration_variants("full", exploration)
