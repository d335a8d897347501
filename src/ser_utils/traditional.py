"""The original study's scikit-learn models, its grid search, and a grouped, nested search.

Every model is a :class:`~sklearn.pipeline.Pipeline` ending in ``("model", estimator)``.
The original's models take the raw flattened frame features, **without scaling**, as the
original did (its models and its grid search); the grouped search puts a ``StandardScaler``
first, fitted on the training part of each fold only.
Hyperparameters are the original's; every estimator with randomness gets
its ``random_state`` from the caller.

Tuning
------
:func:`original_grid_search` is the original's: SVC kernel × C × gamma, plain 5-fold CV,
scoring accuracy. :func:`grouped_grid_search` scores UA (balanced accuracy) and splits its
inner folds by speaker or session *of the training part*, so tuning never sees a test
speaker. :func:`nested_evaluation` runs an outer protocol with such a search in each fold.

Examples
--------
Two classes that one feature separates, three sessions left out in turn:

>>> import numpy as np
>>> from ser_utils import evaluation
>>> manifest = pd.DataFrame({"label": ["angry", "sad"] * 12, "session": np.repeat([1, 2, 3], 8),
...                          "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4)})
>>> X = np.random.default_rng(0).normal(size=(24, 5)) + 3 * (manifest["label"] == "angry").to_numpy()[:, None]
>>> protocol = evaluation.make_protocol("loso", manifest)
>>> result = evaluate_model(X, manifest["label"], protocol, "rbf_svm", progress=False)
>>> result.summary.ua
1.0
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from . import config
from .config import Recipe, check_choice
from .errors import ChoiceError
from .evaluation import CrossValidation, FoldPrediction, Protocol, cross_validate, make_protocol

__all__ = [
    "MODELS",
    "GRIDS",
    "ORIGINAL_GRID",
    "SOUND_GRIDS",
    "make_model",
    "original_grid_search",
    "grouped_grid_search",
    "inner_splitter",
    "check_model_grid",
    "evaluate_model",
    "nested_evaluation",
    "evaluate_random_splits",
    "label_order",
    "untrimmed_recipe",
    "original_cross_validation",
]

log = logging.getLogger(__name__)


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


#: name -> estimator factory ``f(random_state)``, with the original study's hyperparameters.
MODELS: dict[str, Callable[[int], object]] = {
    "mlp": _mlp,
    "tree": _tree,
    "linear_svm": _linear_svm,
    "forest": _forest,
    "rbf_svm": _rbf_svm,
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
}
GRIDS: tuple[str, ...] = ("none", "original", "grouped")


def make_model(name: str, *, random_state: int, scaler: bool = False) -> Pipeline:
    """The model ``name`` of :data:`MODELS` as ``Pipeline([model])``, or ``[scaler, model]``.

    Parameters
    ----------
    name : str
        ``mlp`` (100 hidden, alpha 0.01, adaptive lr, max_iter 400), ``tree`` (max_depth 15),
        ``linear_svm`` (C 0.05), ``forest`` (25 trees, max_depth 15, max_features 5) or
        ``rbf_svm`` (C 10, gamma 'scale').
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


# -------------------------------------------------------------------------- tuning
def original_grid_search(
    features: np.ndarray,
    y: Sequence[str],
    *,
    random_state: int = 0,
    cv: int = config.ORIGINAL_GRID_CV,
    n_jobs: int | None = None,
) -> GridSearchCV:
    """The original fine-tuning: SVC kernel {linear, rbf} × C {1, 10, 100} × gamma {scale, auto},
    ``cv``-fold (stratified, unshuffled) cross-validation, scoring accuracy.

    Parameters
    ----------
    features : array (n, d)
        Training features only.
    y : sequence of str
        Training labels.
    random_state : int, default 0
    cv : int, default :data:`config.ORIGINAL_GRID_CV` (5)
    n_jobs : int, optional
        joblib workers of the search.

    Returns
    -------
    GridSearchCV
        Fitted; ``best_params_``, ``best_score_`` and ``best_estimator_`` (refitted on all of
        ``features``).
    """
    search = GridSearchCV(
        make_model("rbf_svm", random_state=random_state),
        ORIGINAL_GRID,
        cv=cv,
        scoring="accuracy",
        n_jobs=n_jobs,
    )
    return search.fit(features, np.asarray(y))


def inner_splitter(
    groups: np.ndarray | None, y: Sequence[str], *, n_splits: int = config.ORIGINAL_GRID_CV
):
    """The inner CV of a grouped search over the training part.

    ``LeaveOneGroupOut`` when the training part holds 2 to ``n_splits`` groups (e.g. the
    5 training sessions of a LOSO fold), ``GroupKFold(n_splits)`` when it holds more;
    ``StratifiedKFold`` (with a warning) when it holds a single group — a speaker-independent
    inner split is then impossible (TESS with one speaker left for training).

    Returns
    -------
    (splitter, groups, description)
    """
    from sklearn.model_selection import GroupKFold

    if groups is not None:
        n_groups = len(pd.unique(groups))
        if 2 <= n_groups <= n_splits:
            return LeaveOneGroupOut(), groups, f"leave-one-group-out ({n_groups})"
        if n_groups > n_splits:
            return GroupKFold(n_splits=n_splits), groups, f"group-{n_splits}-fold"
        warnings.warn(
            "the training part holds a single speaker/session: the inner CV of the grouped search "
            "falls back to stratified folds (not speaker-independent)",
            stacklevel=3,
        )
    counts = pd.Series(np.asarray(y)).value_counts()
    folds = int(max(2, min(n_splits, counts.min())))
    return StratifiedKFold(n_splits=folds, shuffle=False), None, f"stratified-{folds}-fold"


def grouped_grid_search(
    features: np.ndarray,
    y: Sequence[str],
    groups: np.ndarray | None,
    *,
    model: str = "rbf_svm",
    grid: dict | None = None,
    random_state: int = 0,
    n_splits: int = config.ORIGINAL_GRID_CV,
    n_jobs: int | None = None,
) -> GridSearchCV:
    """Grid search scored by UA (balanced accuracy) with inner folds grouped by ``groups``.

    Parameters
    ----------
    features : array (n, d)
        Training features only.
    y : sequence of str
        Training labels.
    groups : array (n,) or None
        Speaker or session of each training utterance; no group is in an inner train and
        validation part at once (see :func:`inner_splitter`).
    model : str, default 'rbf_svm'
        A name of :data:`MODELS`.
    grid : dict, optional
        Parameter grid (``model__…`` keys); default :data:`SOUND_GRIDS` ``[model]``.
    random_state : int, default 0
    n_splits : int, default 5
        Inner folds when there are more groups than this.
    n_jobs : int, optional
        joblib workers of the search.

    Returns
    -------
    GridSearchCV
        Fitted; ``inner_cv_`` describes the inner split.
    """
    splitter, inner_groups, description = inner_splitter(groups, y, n_splits=n_splits)
    search = GridSearchCV(
        make_model(model, random_state=random_state, scaler=True),
        grid or SOUND_GRIDS[model],
        cv=splitter,
        scoring="balanced_accuracy",
        n_jobs=n_jobs,
    )
    search.fit(features, np.asarray(y), groups=inner_groups)
    search.inner_cv_ = description
    return search


# ---------------------------------------------------------------------- evaluation
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


def _check_features(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(
            f"features must be a 2-D array (utterances × values), got shape {features.shape} — "
            "flatten frame features per utterance"
        )
    if len(features) != len(y):
        raise ValueError(
            f"{len(features)} feature rows but {len(y)} labels — extract the features from the same "
            "subset as the labels"
        )
    return features


def evaluate_model(
    features: np.ndarray,
    y: Sequence[str],
    protocol: Protocol,
    model_name: str,
    *,
    labels: Sequence[str] | None = None,
    grid: str = "none",
    inner_groups: np.ndarray | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    progress: bool = True,
    permute_labels: int | None = None,
) -> CrossValidation:
    """Fit ``model_name`` on each training part of ``protocol`` and score its test part.

    The original's models (``grid`` 'none' or 'original') take the features unscaled, as the
    original did; the grouped search scales them inside its pipeline.

    Parameters
    ----------
    features : array (n, d)
    y : sequence of str
        One label per row of ``features``; the protocol was made from the same rows.
    protocol : Protocol
        From :func:`ser_utils.evaluation.make_protocol`.
    model_name : str
        A name of :data:`MODELS`.
    labels : sequence of str, optional
        Class order of the reports; default :func:`label_order` of ``y``.
    grid : {'none', 'original', 'grouped'}, default 'none'
        Tune in each fold on its training part only: the original search (SVC models only)
        or :func:`grouped_grid_search` grouped by ``inner_groups``.
    inner_groups : array (n,), optional
        Speaker/session of every row, for the grouped search.
    random_state : int, default 0
        Seed of the models.
    n_jobs : int, optional
        joblib workers of the grid search.
    progress : bool, default True
    permute_labels : int, optional
        A control: shuffle the labels **within each training part** with this seed (plus the
        fold number) before fitting; the test labels stay true. Nothing about the test part
        can then be learnt, so the scores must land at chance — if they do not, something
        leaks. :data:`config.CONTROL_PERMUTATION_SEED` is the default seed of such runs.

    Returns
    -------
    CrossValidation
        Each fold's details: ``fit_seconds`` and, when tuned, ``best_params``, ``inner_score``
        and ``inner_cv``; ``permuted_seed`` for a permuted-label run.
    """
    check_model_grid(model_name, grid)
    y = np.asarray(y).astype(str)
    features = _check_features(features, y)
    labels = list(labels) if labels is not None else label_order(y)

    def fit_predict(fold: int, train: np.ndarray, test: np.ndarray) -> FoldPrediction:
        start = time.perf_counter()
        info: dict = {}
        y_train = y[train]
        if permute_labels is not None:
            seed = int(permute_labels) + fold  # each training part is shuffled differently
            y_train = np.random.default_rng(seed).permutation(y_train)
            info["permuted_seed"] = seed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if grid == "none":
                estimator = clone(make_model(model_name, random_state=random_state)).fit(
                    features[train], y_train
                )
            else:
                if grid == "original":
                    search = original_grid_search(
                        features[train], y_train, random_state=random_state, n_jobs=n_jobs
                    )
                    info["inner_cv"] = f"stratified-{config.ORIGINAL_GRID_CV}-fold"
                else:
                    groups = None if inner_groups is None else np.asarray(inner_groups)[train]
                    search = grouped_grid_search(
                        features[train],
                        y_train,
                        groups,
                        model=model_name,
                        random_state=random_state,
                        n_jobs=n_jobs,
                    )
                    info["inner_cv"] = search.inner_cv_
                estimator = search.best_estimator_
                info["best_params"] = {
                    k.removeprefix("model__"): v for k, v in search.best_params_.items()
                }
                info["inner_score"] = float(search.best_score_)
        info["fit_seconds"] = round(time.perf_counter() - start, 3)
        return FoldPrediction(estimator.predict(features[test]), details=info)

    return cross_validate(protocol, y, fit_predict, labels, progress=progress)


def nested_evaluation(
    features: np.ndarray,
    manifest: pd.DataFrame,
    *,
    model: str = "rbf_svm",
    protocol: str | Protocol = "loso",
    grid: str = "grouped",
    inner_group: str | None = None,
    labels: Sequence[str] | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    progress: bool = True,
    permute_labels: int | None = None,
) -> CrossValidation:
    """Outer ``protocol`` with a grid search on the training part of every fold.

    Parameters
    ----------
    features : array (n, d)
        One row per row of ``manifest``.
    manifest : pandas.DataFrame
        The subset evaluated (``label``, ``speaker``, ``session`` …).
    model : str, default 'rbf_svm'
    protocol : str or Protocol, default 'loso'
        Outer protocol (made from ``manifest`` when a name).
    grid : {'grouped', 'original'}, default 'grouped'
    inner_group : str, optional
        Manifest column grouping the inner folds; default the outer protocol's group column
        (session for ``loso``), else ``speaker``.
    labels, random_state, n_jobs, progress, permute_labels
        As :func:`evaluate_model`.

    Returns
    -------
    CrossValidation
        Each fold with the ``best_params`` chosen on its training part (in its details).
    """
    if isinstance(protocol, str):
        protocol = make_protocol(protocol, manifest)
    column = inner_group or protocol.group_column or "speaker"
    groups = (
        manifest[column].to_numpy()
        if column in manifest.columns and manifest[column].notna().all()
        else None
    )
    return evaluate_model(
        features,
        manifest["label"],
        protocol,
        model,
        labels=labels,
        grid=grid,
        inner_groups=groups,
        random_state=random_state,
        n_jobs=n_jobs,
        progress=progress,
        permute_labels=permute_labels,
    )


# ------------------------------------------------------- the original's acted-label runs
def untrimmed_recipe(recipe: Recipe, files: pd.DataFrame) -> Recipe:
    """The original's first MSP-IMPROV attempt: ``recipe``'s chain **without trimming**, every
    clip zero-padded to the longest untrimmed R+T clip.

    Parameters
    ----------
    recipe : Recipe
        The original recipe of MSP-IMPROV.
    files : pandas.DataFrame
        The files the features are made from (:func:`ser_utils.evaluation.select_files`, subset ``rt``:
        R+T), with ``n_samples`` and ``sample_rate`` from their headers.

    Returns
    -------
    Recipe
        ``audio.trim`` False; ``audio.target_length`` the longest clip (at the recipe's
        rate) in the full profile, the smoke length in the smoke profile.
    """
    length = recipe.audio.target_length
    if recipe.profile != "smoke":
        rate = recipe.audio.target_sr
        samples = (
            files["n_samples"] if rate is None else files["n_samples"] * rate / files["sample_rate"]
        )
        length = int(np.ceil(samples.max()))
    return dataclasses.replace(
        recipe, audio=dataclasses.replace(recipe.audio, trim=False, target_length=length)
    )


def original_cross_validation(
    features: np.ndarray,
    y: Sequence[str],
    model_name: str = "rbf_svm",
    *,
    cv: int = config.ORIGINAL_ACTED_CV,
    random_state: int = 0,
) -> np.ndarray:
    """The original's ``cross_val_score(model, X, y, cv=5)``: stratified folds without
    shuffling, in row order (the original's walk order), scored by accuracy.

    The original reported 0.42 ± 0.03 for the RBF SVM on acted labels after trimming
    (``scores.mean() ± scores.std()``); which C it used at that stage is not recorded, so
    :data:`MODELS` ``[model_name]`` (C 10, gamma 'scale' for ``rbf_svm``) is used, unscaled.

    Returns
    -------
    np.ndarray, shape (cv,)
        Accuracy of each fold.
    """
    check_model_grid(model_name)
    y = np.asarray(y).astype(str)
    features = _check_features(features, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cross_val_score(
            make_model(model_name, random_state=random_state),
            features,
            y,
            cv=StratifiedKFold(n_splits=cv, shuffle=False),
            scoring="accuracy",
        )


def evaluate_random_splits(
    features: np.ndarray,
    manifest: pd.DataFrame,
    model_name: str,
    *,
    random_states: Sequence[int] = config.ORIGINAL_EVALUATION_RANDOM_STATES,
    labels: Sequence[str] | None = None,
    model_random_state: int = 0,
    progress: bool = False,
) -> CrossValidation:
    """The original's stage-4 evaluation: one random 75/25 split per ``random_states`` value
    (default 1, 3, 4); one fold per split, numbered by its position, with its ``random_state``
    in the details."""
    folds = []
    for number, split_state in enumerate(random_states, start=1):
        protocol = make_protocol("original-random", manifest, random_state=split_state)
        result = evaluate_model(
            features,
            manifest["label"],
            protocol,
            model_name,
            labels=labels,
            random_state=model_random_state,
            progress=progress,
        )
        (fold,) = result.folds
        folds.append(
            dataclasses.replace(
                fold, fold=number, details={**fold.details, "random_state": split_state}
            )
        )
    return CrossValidation("original-random", result.labels, tuple(folds))
