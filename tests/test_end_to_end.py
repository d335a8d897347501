"""Cross-validated training of the deep models on a tiny problem (seconds, not minutes)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ser_utils import config, evaluation

pytest.importorskip("keras")
from ser_utils import experiments  # noqa: E402
from ser_utils.deep.views import RowView  # noqa: E402


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


def test_cross_validate_model_returns_a_scored_row_per_fold(tiny_problem, tmp_path):
    x, metadata, recipe = tiny_problem
    result = experiments.cross_validate_recipe(
        x,
        metadata,
        recipe=recipe,
        protocol_name="original-4fold",
        out_dir=tmp_path / "models",
        progress=False,
    )
    assert [fold.fold for fold in result.folds] == [1, 2, 3, 4]
    assert sum(fold.n_test for fold in result.folds) == 48  # only the 4-class R+T rows
    for fold in result.folds:
        assert "best_val_accuracy" in fold.details and fold.history is not None
        assert list(fold.per_class.index) == list(config.FOUR_CLASSES)
        assert 0.0 <= fold.ua <= 1.0 and 0.0 <= fold.wa <= 1.0
        assert fold.confusion.sum() == fold.n_test == 12
        assert (
            fold.n_validation == 8
        )  # ceil(20 % of the 36 training rows), as train_test_split takes
        assert fold.details["epochs"] == 1 and len(fold.history["val_accuracy"]) == 1
    assert [fold.seed for fold in result.folds] == [
        recipe.training.seed + fold for fold in (1, 2, 3, 4)
    ]
    table = evaluation.fold_table(result)
    assert list(table.index[-2:]) == ["mean", "std"]
    assert (tmp_path / "models" / "fold4" / "model.keras").is_file()


def test_loso_on_a_subset_of_folds_holds_out_whole_sessions(tiny_problem):
    x, metadata, recipe = tiny_problem
    result = experiments.cross_validate_recipe(
        x, metadata, recipe=recipe, protocol_name="loso", folds=[2], progress=False
    )
    (fold,) = result.folds
    assert fold.fold == 1 and fold.test_group == "2" and fold.n_test == 12


def test_original_4fold_runs_three_training_seeds_in_the_full_profile_and_one_in_smoke():
    assert (
        len(
            experiments.default_training_seeds(
                config.original_recipe("msp-improv", "full"), "original-4fold"
            )
        )
        >= 3
    )
    assert experiments.default_training_seeds(
        config.original_recipe("msp-improv", "smoke"), "original-4fold"
    ) == (0,)
    assert experiments.default_training_seeds(
        config.original_recipe("msp-improv", "full"), "loso"
    ) == (0,)


def test_cross_validate_seeds_repeats_the_same_folds_with_other_draws(tiny_problem):
    x, metadata, recipe = tiny_problem
    result = experiments.cross_validate_seeds(
        x,
        metadata,
        recipe=recipe,
        protocol_name="original-4fold",
        seeds=[3, 7],
        folds=[1],
        progress=False,
    )
    first, second = result.folds
    assert [(fold.training_seed, fold.fold, fold.seed) for fold in result.folds] == [
        (3, 1, 4),
        (7, 1, 8),
    ]
    assert result.seeds == (3, 7)
    assert first.predictions.utterance_id == second.predictions.utterance_id  # same test fold
    assert first.history["loss"] != second.history["loss"]  # another draw
    table = evaluation.compare_with_original(result)
    assert table.at[1, "seeds"] == 2 and table.at[1, "original WA"] == 53.44
    assert table.at[1, "WA"] == pytest.approx(100 * np.mean([first.wa, second.wa]), abs=0.01)


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


def test_row_view_reads_only_the_chosen_rows():
    base = np.arange(30).reshape(10, 3)
    view = RowView(base, [1, 4, 7])
    assert len(view) == 3 and view.shape == (3, 3)
    np.testing.assert_array_equal(view[np.array([0, 2])], base[[1, 7]])
