"""Networks cross-validated on their arrays (ser_utils.experiments.network): folds, seeds, protocols, every recipe."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ser_utils import config, evaluation

pytest.importorskip("keras")

from ser_utils import experiments  # noqa: E402
from ser_utils.experiments import network  # noqa: E402

LABELS = config.FOUR_CLASSES


PROTOCOLS_OF = {
    "msp-improv": ("original-random", "original-4fold", "loso", "speaker"),
    "tess": ("original-random", "original-4fold", "speaker"),
}


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


@pytest.mark.parametrize("recipe_name", config.RECIPES)
@pytest.mark.parametrize("corpus", config.CORPORA)
def test_every_recipe_runs_under_every_protocol_of_its_corpus(two_corpora, corpus, recipe_name):
    x, metadata, labels = two_corpora[corpus]
    recipe = config.get_recipe(recipe_name, corpus, "smoke")
    # one epoch of a small model of the recipe's kind, on these (16, 40) inputs
    params = {
        "original": {"filters": (2, 2), "convlstm_filters": 2, "dense_units": 4, "pool_size": 2},
        "improved": {**recipe.model.params, "channels": 4},
        "fusion": {**recipe.model.params, "channels": 4, "dilations": (1,)},
    }[recipe_name]
    recipe = dataclasses.replace(
        recipe,
        model=config.ModelConfig(recipe.model.name, params),
        training=dataclasses.replace(recipe.training, epochs=1),
    )
    subset = "all" if corpus == "tess" else "rt-4class"
    if (
        recipe.fusion is not None
    ):  # two members and made-up utterance features: the fusion's own loop
        recipe = dataclasses.replace(recipe, fusion=dataclasses.replace(recipe.fusion, members=2))
        features = np.random.default_rng(0).normal(size=(len(metadata), 5))
    for protocol in PROTOCOLS_OF[corpus]:
        # one fold shows the protocol runs; both TESS speakers, since each leaves one to train on
        folds = None if (corpus, protocol) == ("tess", "speaker") else [1]
        if recipe.fusion is not None:
            result = network.cross_validate_recipe(
                x,
                metadata,
                recipe=recipe,
                protocol_name=protocol,
                labels=labels,
                features=features,
                progress=False,
                folds=folds,
                subset=subset,
            )
        else:
            result = network.cross_validate_recipe(
                x,
                metadata,
                recipe=recipe,
                protocol_name=protocol,
                labels=labels,
                progress=False,
                folds=folds,
                subset=subset,
            )
        assert len(result.folds) == (2 if folds is None else 1)
        assert all(0 <= fold.ua <= 1 for fold in result.folds)
        used = {fold.history.get("validation_split_used") for fold in result.folds}
        if recipe_name == "original":
            assert used == {"random"}
        elif corpus == "tess" and protocol == "speaker":
            assert used == {"stratified"}  # one speaker left in each training part
        else:
            assert used == {"speaker"}
