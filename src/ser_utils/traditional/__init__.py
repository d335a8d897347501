"""Traditional models: the original study's scikit-learn models and grid, a grouped UA-scored
search, their cross-validation under a protocol, and the SVM's class probabilities.

Modules
-------
:mod:`~ser_utils.traditional.models`
    The original's models as Pipelines (:func:`make_model`), its grid, the grouped grids.
:mod:`~ser_utils.traditional.search`
    :func:`original_grid_search`, :func:`grouped_grid_search` (inner folds grouped by
    speaker or session of the training part).
:mod:`~ser_utils.traditional.evaluate`
    :func:`evaluate_model`, :func:`nested_evaluation` (a search in every fold), the original's
    random splits and acted-label cross-validation, the rates and order of the original's runs
    (:func:`as_original_ran`).
:mod:`~ser_utils.traditional.probabilities`
    :func:`svm_probabilities`: softmax of the decision values, or Platt scaling.
"""

from __future__ import annotations

from .evaluate import (
    ORIGINAL_RUNS,
    as_original_ran,
    evaluate_model,
    evaluate_random_splits,
    nested_evaluation,
    original_cross_validation,
    untrimmed_recipe,
)
from .models import (
    GRIDS,
    MODELS,
    ORIGINAL_GRID,
    SOUND_GRIDS,
    check_model_grid,
    label_order,
    make_model,
)
from .probabilities import PLATT_FOLDS, SVM_CALIBRATIONS, svm_probabilities
from .search import grouped_grid_search, inner_splitter, original_grid_search

__all__ = [
    "MODELS",
    "GRIDS",
    "ORIGINAL_GRID",
    "SOUND_GRIDS",
    "make_model",
    "label_order",
    "check_model_grid",
    "original_grid_search",
    "grouped_grid_search",
    "inner_splitter",
    "evaluate_model",
    "nested_evaluation",
    "evaluate_random_splits",
    "untrimmed_recipe",
    "as_original_ran",
    "ORIGINAL_RUNS",
    "original_cross_validation",
    "SVM_CALIBRATIONS",
    "PLATT_FOLDS",
    "svm_probabilities",
]
