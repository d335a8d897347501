"""A traditional model cross-validated under a protocol, through the one fold loop: plain, or
tuned in every fold on its training part alone (a nested search); and the original's own
evaluations (random splits, 5-fold cross-validation on acted labels).

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
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score

from .. import config
from ..config import Recipe
from ..evaluation import (
    CrossValidation,
    FoldPrediction,
    Protocol,
    cross_validate,
    make_protocol,
)
from .models import check_model_grid, label_order, make_model
from .search import grouped_grid_search, original_grid_search

__all__ = [
    "evaluate_model",
    "nested_evaluation",
    "evaluate_random_splits",
    "untrimmed_recipe",
    "as_original_ran",
    "ORIGINAL_RUNS",
    "original_cross_validation",
]

#: The original's notebooks with traditional runs: the first (TESS, then MSP-IMPROV's acted,
#: trimmed, consensus and grid-search runs) and the evaluation notebook (three random splits).
ORIGINAL_RUNS: tuple[str, ...] = ("first", "evaluation")


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
        A name of :data:`~ser_utils.traditional.models.MODELS`.
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


# ------------------------------------------------------- the original's own runs
def as_original_ran(recipe: Recipe, run: str = "evaluation") -> Recipe:
    """The original recipe with the sample rates and feature order one of the original's
    traditional runs actually used (its code, not its intent).

    ``run="first"`` (the first notebook): every clip resampled to 22 050 Hz *as if* it were at
    :data:`~ser_utils.config.ORIGINAL_STALE_SAMPLE_RATE` (24 414 Hz, a TESS file's rate left in a
    variable; a 44.1 kHz MSP-IMPROV clip shrinks by 22 050 / 24 414), noise reduction told the
    file's own rate, mfcc and chroma_stft told 24 414 Hz on TESS and 44 100 Hz on MSP-IMPROV.
    ``run="evaluation"`` (MSP-IMPROV only): the arrays' audio at each file's rate, mfcc and
    chroma_stft told 22 050 Hz. Both flatten frame by frame. TESS has only the first run.

    >>> from ser_utils import config
    >>> first = as_original_ran(config.original_recipe("msp-improv"), "first")
    >>> first.audio.resample_from, first.audio.target_sr, first.features.sr, first.features.flatten_order
    (24414, 22050, 44100, 'frame')
    >>> as_original_ran(config.original_recipe("msp-improv")).features.sr
    22050
    """
    config.check_choice(run, ORIGINAL_RUNS, "original run")
    if recipe.name != "original":
        raise ValueError(f"only the original recipe has the original's runs, not {recipe.name!r}")
    features = dataclasses.replace(recipe.features, flatten_order="frame")
    audio = recipe.audio
    if recipe.corpus == "tess" or run == "first":
        audio = dataclasses.replace(
            audio,
            target_sr=config.TESS_ORIGINAL_SAMPLE_RATE,
            resample_from=config.ORIGINAL_STALE_SAMPLE_RATE,
            denoise_rate="file",
        )
        features = dataclasses.replace(
            features,
            sr=config.TESS_ORIGINAL_FEATURE_SR
            if recipe.corpus == "tess"
            else config.MSP_IMPROV_ORIGINAL_FEATURE_SR,
        )
    else:
        features = dataclasses.replace(features, sr=config.ORIGINAL_EVALUATION_FEATURE_SR)
    return dataclasses.replace(recipe, audio=audio, features=features)


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
        ``audio.trim`` False; ``audio.target_length`` the longest clip after the recipe's
        resampling (598 878 samples on the real corpus through :func:`as_original_ran`'s first
        run) in the full profile, the smoke length in the smoke profile; the first notebook's
        hop of 873 when ``recipe`` is that run's.
    """
    length = recipe.audio.target_length
    if recipe.profile != "smoke":
        rate = recipe.audio.target_sr
        source = recipe.audio.resample_from or files["sample_rate"]
        samples = files["n_samples"] if rate is None else files["n_samples"] * rate / source
        length = int(np.ceil(samples.max()))
    features = recipe.features
    if recipe.audio.resample_from == config.ORIGINAL_STALE_SAMPLE_RATE:
        features = dataclasses.replace(
            features, hop_length=config.MSP_IMPROV_ORIGINAL_UNTRIMMED_HOP
        )
    return dataclasses.replace(
        recipe,
        audio=dataclasses.replace(recipe.audio, trim=False, target_length=length),
        features=features,
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
    :data:`~ser_utils.traditional.models.MODELS` ``[model_name]`` (C 10, gamma 'scale' for ``rbf_svm``) is used, unscaled.

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
