"""Grid searches on a training part (ser_utils.traditional.search)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

from ser_utils import config, traditional


def test_original_grid_is_unscaled_and_the_grouped_grid_scales():
    X, y = make_classification(
        n_samples=60, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    labels = np.array(["angry", "happy", "sad"])[y]
    original = traditional.original_grid_search(X, labels)
    assert list(original.best_estimator_.named_steps) == ["model"]
    grouped = traditional.grouped_grid_search(
        X, labels, np.arange(60) % 3, grid={"model__C": [1.0]}
    )
    assert list(grouped.best_estimator_.named_steps) == ["scaler", "model"]


# ------------------------------------------------------------------------- tuning
def test_original_grid_search_is_the_originals_twelve_candidates_scored_by_accuracy():
    X, y = make_classification(
        n_samples=100, n_features=8, n_informative=5, n_classes=4, random_state=1
    )
    search = traditional.original_grid_search(X, np.array(["angry", "happy", "neutral", "sad"])[y])
    assert len(search.cv_results_["params"]) == 2 * 3 * 2
    assert search.n_splits_ == config.ORIGINAL_GRID_CV and search.scoring == "accuracy"
    assert search.best_params_["model__kernel"] in ("linear", "rbf")
    assert search.best_params_["model__C"] in (1, 10, 100)


def test_inner_splitter_groups_by_speaker_and_falls_back_with_a_warning():
    y = np.array(["a", "b"] * 10)
    five_sessions = np.repeat([2, 3, 4, 5, 6], 4)
    splitter, groups, description = traditional.inner_splitter(five_sessions, y)
    assert isinstance(splitter, LeaveOneGroupOut) and description == "leave-one-group-out (5)"
    for train, test in splitter.split(np.zeros((len(y), 1)), y, groups):
        assert not set(groups[train]) & set(groups[test])
    ten = np.arange(20) // 2
    assert isinstance(traditional.inner_splitter(ten, y)[0], GroupKFold)
    with pytest.warns(UserWarning, match="single speaker"):
        splitter, groups, description = traditional.inner_splitter(np.zeros(len(y)), y)
    assert isinstance(splitter, StratifiedKFold) and groups is None
