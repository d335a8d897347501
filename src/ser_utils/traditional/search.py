"""Tuning on a training part: the original's grid search, and a grouped one scored by UA.

:func:`original_grid_search` is the original's: SVC kernel × C × gamma, plain 5-fold CV,
scoring accuracy. :func:`grouped_grid_search` scores UA (balanced accuracy) and splits its
inner folds by speaker or session *of the training part* (:func:`inner_splitter`), so tuning
never sees a test speaker.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold, LeaveOneGroupOut, StratifiedKFold

from .. import config
from .models import ORIGINAL_GRID, SOUND_GRIDS, make_model

__all__ = ["original_grid_search", "inner_splitter", "grouped_grid_search"]


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
        A name of :data:`~ser_utils.traditional.models.MODELS`.
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
