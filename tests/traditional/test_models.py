"""The original's models and grids (ser_utils.traditional.models)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ser_utils import traditional


# ------------------------------------------------------------------------- models
def test_models_carry_the_original_hyperparameters():
    mlp = traditional.make_model("mlp", random_state=0).named_steps["model"]
    assert isinstance(mlp, MLPClassifier)
    assert (mlp.alpha, mlp.hidden_layer_sizes, mlp.learning_rate, mlp.max_iter) == (
        0.01,
        (100,),
        "adaptive",
        400,
    )
    tree = traditional.make_model("tree", random_state=0).named_steps["model"]
    assert isinstance(tree, DecisionTreeClassifier) and tree.max_depth == 15
    linear = traditional.make_model("linear_svm", random_state=0).named_steps["model"]
    assert isinstance(linear, SVC) and (linear.kernel, linear.C) == ("linear", 0.05)
    forest = traditional.make_model("forest", random_state=0).named_steps["model"]
    assert isinstance(forest, RandomForestClassifier)
    assert (forest.max_depth, forest.n_estimators, forest.max_features) == (15, 25, 5)
    rbf = traditional.make_model("rbf_svm", random_state=0).named_steps["model"]
    assert (rbf.kernel, rbf.C, rbf.gamma) == ("rbf", 10, "scale")


@pytest.mark.parametrize("name", list(traditional.MODELS))
def test_the_original_models_take_raw_features_without_a_scaler_and_the_callers_seed(name):
    pipeline = traditional.make_model(name, random_state=7)
    assert list(pipeline.named_steps) == ["model"]  # the original fed its features unscaled
    assert pipeline.named_steps["model"].random_state == 7
    scaled = traditional.make_model(name, random_state=7, scaler=True)
    assert isinstance(scaled.named_steps["scaler"], StandardScaler)


def test_same_random_state_gives_the_same_forest():
    X, y = make_classification(
        n_samples=80, n_features=12, n_informative=6, n_classes=3, random_state=0
    )
    first = traditional.make_model("forest", random_state=3).fit(X, y).predict_proba(X)
    second = traditional.make_model("forest", random_state=3).fit(X, y).predict_proba(X)
    other = traditional.make_model("forest", random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    "run, message",
    [
        (
            lambda: traditional.make_model("knn", random_state=0),
            "mlp, tree, linear_svm, forest, rbf_svm",
        ),
        (lambda: traditional.check_model_grid("mlp", "original"), "rbf_svm or linear_svm"),
    ],
    ids=["unknown model", "grid of another model"],
)
def test_unknown_model_and_mismatched_grid_are_rejected(run, message):
    with pytest.raises(ValueError, match=message):
        run()
