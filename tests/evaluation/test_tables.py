"""Tables of a cross-validation and of a protocol's folds (ser_utils.evaluation.tables)."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config
from ser_utils.evaluation import (
    CrossValidation,
    FoldPrediction,
    cross_validate,
    fold_table,
    make_protocol,
    original_table,
    prediction_table,
    select_subset,
)
from tests.helpers import FOLDS, fold_result, hand_manifest


def test_cross_validate_keeps_each_test_prediction_with_its_utterance_id():
    manifest = hand_manifest()
    subset = select_subset(manifest, "4class")
    protocol = make_protocol("loso", subset)

    def fit_predict(fold, train, test):
        probabilities = np.tile([0.1, 0.2, 0.3, 0.4], (len(test), 1))  # always 'sad'
        return FoldPrediction(["sad"] * len(test), probabilities)

    result = cross_validate(
        protocol, subset["label"], fit_predict, config.FOUR_CLASSES, progress=False
    )
    table = prediction_table(result)
    assert list(table.columns) == [
        "utterance_id",
        "fold",
        "split",
        "true",
        "predicted",
        "p_angry",
        "p_happy",
        "p_neutral",
        "p_sad",
    ]
    assert sorted(table["utterance_id"]) == sorted(subset["utterance_id"])  # each tested once
    merged = table.merge(subset[["utterance_id", "label", "session"]])
    assert (merged["true"] == merged["label"]).all() and (merged["fold"] == merged["session"]).all()
    assert (table["predicted"] == "sad").all() and (table["p_sad"] == 0.4).all()
    assert "predictions" not in fold_table(result).columns


def test_original_table_gives_mean_and_sd_over_training_seeds():
    result = CrossValidation(
        "original-4fold",
        ("a", "b"),
        tuple(
            fold_result(fold, wa, wa - 0.1, wa - 0.2, training_seed=seed)
            for (seed, fold), wa in {(0, 1): 0.5, (0, 2): 0.7, (1, 1): 0.6, (1, 2): 0.5}.items()
        ),
    )
    assert result.seeds == (0, 1)
    table = original_table(result)
    assert list(table.index) == [1, 2, "mean"]
    assert table.at[1, "wa"] == pytest.approx(0.55) and table.at[1, "wa_sd"] == pytest.approx(0.05)
    assert table.at[2, "wa"] == pytest.approx(0.6) and table.at[2, "wa_sd"] == pytest.approx(0.1)
    # draws: seed 0 mean 0.6, seed 1 mean 0.55
    assert table.at["mean", "wa"] == pytest.approx(0.575) and table.at[
        "mean", "wa_sd"
    ] == pytest.approx(0.025)
    assert table.at["mean", "ua"] == pytest.approx(0.475) and (table["n_seeds"] == 2).all()


def test_fold_table_has_one_row_per_fold_then_mean_and_std():
    table = fold_table(FOLDS)
    assert list(table.index) == [1, 2, "mean", "std"]
    assert list(table.columns[:5]) == ["wa", "ua", "macro_f1", "n_train", "n_test"]
    assert table.loc["mean", "wa"] == pytest.approx(0.6)
    assert table.loc["std", "wa"] == pytest.approx(0.1)  # population std of 0.5 and 0.7
    assert table.loc["mean", "ua"] == pytest.approx(0.5)
    assert table.loc[2, "best_params"] == "C=10"
    assert "confusion" not in table.columns and "per_class" not in table.columns
    assert FOLDS.summary.macro_f1_std == pytest.approx(0.1)


def test_fold_composition_shows_what_each_fold_tests(msp_manifest):
    from ser_utils.evaluation import fold_composition, make_protocol, select_subset

    rt4 = select_subset(msp_manifest, "rt-4class")
    table = fold_composition(rt4, make_protocol("original-4fold", rt4))
    assert list(table.index) == [1, 2, 3, 4]
    assert (table[list(config.FOUR_CLASSES)].sum(axis=1) == table["n_test"]).all()
    assert (
        table["n_test"].sum() == len(rt4) and (table["n_train"] + table["n_test"] == len(rt4)).all()
    )
    for fold, (train, test) in enumerate(
        make_protocol("original-4fold", rt4).split(rt4["label"]), start=1
    ):
        tested = set(rt4["speaker"].iloc[test])
        assert table.at[fold, "test_speakers"] == ",".join(sorted(tested))
        assert table.at[fold, "test_speakers_in_training"] == len(
            tested & set(rt4["speaker"].iloc[train])
        )
    # In the original's (walk) order the folds follow the sessions: some test speakers are unseen.
    assert (table["test_speakers_in_training"] < table["n_test_speakers"]).any()
    # In name order every speaker is in every fold, on both sides.
    by_name = rt4.sort_values("utterance_id").reset_index(drop=True)
    named = fold_composition(by_name, make_protocol("original-4fold", by_name))
    assert (named["test_speakers_in_training"] == named["n_test_speakers"]).all()
    assert (named["test_utterances_seen_speaker"] == 1.0).all()
    loso = fold_composition(rt4, make_protocol("loso", rt4))
    assert (loso["test_speakers_in_training"] == 0).all() and (loso["n_test_speakers"] == 2).all()
    assert list(loso["test_sessions"]) == [str(s) for s in range(1, 7)]
