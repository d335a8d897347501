"""The original's hyperparameter exploration (ser_utils.experiments.exploration)."""

from __future__ import annotations

import pytest

from ser_utils import config

pytest.importorskip("keras")

from ser_utils import experiments  # noqa: E402


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
