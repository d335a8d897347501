"""The original study's scikit-learn models, with its hyperparameters, and its grids.

Every model is a :class:`~sklearn.pipeline.Pipeline` ending in ``("model", estimator)``.
The original's models take the raw flattened frame features, **without scaling**, as the
original did (its models and its grid search); the grouped search puts a ``StandardScaler``
first, fitted on the training part of each fold only. Every estimator with randomness gets
its ``random_state`` from the caller. One model is not the original's: ``logreg``, a
multinomial logistic regression, the usual probe of pretrained encoders' embeddings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from .. import config
from ..config import check_choice
from ..errors import ChoiceError

__all__ = [
    "MODELS",
    "GRIDS",
    "ORIGINAL_GRID",
    "SOUND_GRIDS",
    "make_model",
    "label_order",
    "check_model_grid",
]


def _mlp(random_state: int) -> MLPClassifier:
    # learning_rate='adaptive' only acts with solver='sgd'; kept as the original set it (solver adam).
    return MLPClassifier(
        hidden_layer_sizes=(100,),
        alpha=0.01,
        learning_rate="adaptive",
        max_iter=400,
        random_state=random_state,
    )


def _tree(random_state: int) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(max_depth=15, random_state=random_state)


def _linear_svm(random_state: int) -> SVC:
    return SVC(kernel="linear", C=0.05, random_state=random_state)


def _forest(random_state: int) -> RandomForestClassifier:
    return RandomForestClassifier(
        n_estimators=25, max_depth=15, max_features=5, random_state=random_state
    )


def _rbf_svm(random_state: int) -> SVC:
    return SVC(kernel="rbf", C=10, gamma="scale", random_state=random_state)


def _logreg(random_state: int) -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=5000, random_state=random_state)


#: name -> estimator factory ``f(random_state)``, with the original study's hyperparameters
#: (``logreg``, not the original's, scikit-learn's defaults with room to converge).
MODELS: dict[str, Callable[[int], object]] = {
    "mlp": _mlp,
    "tree": _tree,
    "linear_svm": _linear_svm,
    "forest": _forest,
    "rbf_svm": _rbf_svm,
    "logreg": _logreg,
}

#: The original fine-tuning grid (SVC; best: rbf, C 10, gamma scale).
ORIGINAL_GRID: dict[str, list] = {
    "model__kernel": ["linear", "rbf"],
    "model__C": [1, 10, 100],
    "model__gamma": ["scale", "auto"],
}
#: Grids of the grouped search, per model: small, and with class weights for UA.
SOUND_GRIDS: dict[str, dict[str, list]] = {
    "rbf_svm": {
        "model__C": [0.1, 1, 10, 100],
        "model__gamma": ["scale"],
        "model__class_weight": [None, "balanced"],
    },
    "linear_svm": {"model__C": [0.001, 0.01, 0.05, 0.5], "model__class_weight": [None, "balanced"]},
    "mlp": {"model__alpha": [0.01, 0.1, 1.0]},
    "tree": {"model__max_depth": [5, 15, None], "model__class_weight": [None, "balanced"]},
    "forest": {"model__max_features": [5, "sqrt"], "model__class_weight": [None, "balanced"]},
    "logreg": {"model__C": [0.001, 0.01, 0.1, 1.0], "model__class_weight": [None, "balanced"]},
}
GRIDS: tuple[str, ...] = ("none", "original", "grouped")


def make_model(name: str, *, random_state: int, scaler: bool = False) -> Pipeline:
    """The model ``name`` of :data:`MODELS` as ``Pipeline([model])``, or ``[scaler, model]``.

    Parameters
    ----------
    name : str
        ``mlp`` (100 hidden, alpha 0.01, adaptive lr, max_iter 400), ``tree`` (max_depth 15),
        ``linear_svm`` (C 0.05), ``forest`` (25 trees, max_depth 15, max_features 5) or
        ``rbf_svm`` (C 10, gamma 'scale'), or ``logreg`` (logistic regression, C 1).
    random_state : int
        Seed of every random choice of the estimator.
    scaler : bool, default False
        Put a ``StandardScaler`` before the model (the grouped search); the original fed its
        features unscaled.

    Examples
    --------
    >>> make_model("rbf_svm", random_state=0).named_steps["model"].C
    10
    >>> list(make_model("mlp", random_state=0).named_steps)
    ['model']
    >>> list(make_model("mlp", random_state=0, scaler=True).named_steps)
    ['scaler', 'model']
    """
    check_choice(name, tuple(MODELS), "model")
    steps = [("scaler", StandardScaler())] if scaler else []
    return Pipeline([*steps, ("model", MODELS[name](random_state))])


def label_order(y: Sequence[str]) -> list[str]:
    """The labels present in ``y`` in the vocabulary order of :data:`config.EMOTIONS`
    (for the four MSP-IMPROV classes this is :data:`config.FOUR_CLASSES`)."""
    present = set(map(str, np.unique(np.asarray(y))))
    unknown = sorted(present - set(config.EMOTIONS))
    return [label for label in config.EMOTIONS if label in present] + unknown


def check_model_grid(model_name: str, grid: str = "none") -> None:
    """Raise :class:`~ser_utils.errors.ChoiceError` unless ``model_name`` is in :data:`MODELS`,
    ``grid`` in :data:`GRIDS` and the grid fits the model (the original grid searches SVC
    kernels only)."""
    check_choice(model_name, tuple(MODELS), "model")
    check_choice(grid, GRIDS, "grid")
    if grid == "original" and model_name not in ("rbf_svm", "linear_svm"):
        raise ChoiceError(
            f"the original grid searches SVC kernels: use it with rbf_svm or linear_svm, "
            f"not {model_name!r}"
        )
