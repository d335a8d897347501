"""The one fold loop and its typed results (ser_utils.evaluation.cross_validation)."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config
from ser_utils.evaluation import (
    FoldPrediction,
    FoldResult,
    cross_validate,
    make_protocol,
    select_subset,
)
from tests.helpers import hand_manifest


# ------------------------------------------------------------------ fold reports
def test_cross_validate_scores_each_fold_and_keeps_the_callables_details():
    manifest = hand_manifest()
    subset = select_subset(manifest, "4class")
    protocol = make_protocol("loso", subset)
    seen = []

    def fit_predict(fold, train, test):
        seen.append((fold, train, test))
        majority = subset["label"].iloc[train].mode().iloc[0]
        return FoldPrediction([majority] * len(test), details={"majority": majority})

    result = cross_validate(
        protocol, subset["label"], fit_predict, config.FOUR_CLASSES, progress=False
    )
    assert [fold.fold for fold in result.folds] == [number for number, _, _ in seen] == [1, 2, 3]
    assert [fold.test_group for fold in result.folds] == ["1", "2", "3"]
    for fold, (_, train, test) in zip(result.folds, seen):
        truth = subset["label"].iloc[test].to_numpy()
        assert fold.wa == pytest.approx(np.mean(truth == fold.details["majority"]))
        assert fold.n_train == len(train) and fold.n_test == len(test)
        assert fold.confusion.sum() == len(test)
        assert list(fold.per_class.index) == list(config.FOUR_CLASSES)
    assert result.summary.n_folds == 3 and result.summary.wa == pytest.approx(
        np.mean([fold.wa for fold in result.folds])
    )
    assert (result.confusion == sum(fold.confusion for fold in result.folds)).all()


def test_cross_validate_scores_each_member_alone_on_the_same_test_rows():
    manifest = hand_manifest()
    subset = select_subset(manifest, "4class")
    y = subset["label"].to_numpy()
    one_hot = np.eye(4)[[config.FOUR_CLASSES.index(label) for label in y]]

    def fit_predict(fold, train, test):
        wrong = np.roll(one_hot[test], 1, axis=1)  # always the next class: UA 0
        return FoldPrediction(
            y[test], one_hot[test], members={"right": one_hot[test], "wrong": wrong}
        )

    result = cross_validate(
        make_protocol("loso", subset), y, fit_predict, config.FOUR_CLASSES, progress=False
    )
    fold = result.folds[0]
    assert fold.members == {"right": {"ua": 1.0, "wa": 1.0}, "wrong": {"ua": 0.0, "wa": 0.0}}
    assert fold.score("ua_wrong") == 0.0 and fold.to_dict()["wa_right"] == 1.0
    assert FoldResult.from_dict(fold.to_dict()).to_dict() == fold.to_dict()


def test_cross_validate_rejects_a_wrong_number_of_predictions():
    manifest = hand_manifest()
    protocol = make_protocol("loso", manifest)
    with pytest.raises(ValueError, match="fold 1: fit_predict returned 1 predictions"):
        cross_validate(
            protocol,
            manifest["label"],
            lambda fold, train, test: ["angry"],
            list(config.EMOTIONS) + ["other", "no_agreement"],
            progress=False,
        )
