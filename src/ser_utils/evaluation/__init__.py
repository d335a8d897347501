"""Evaluation: protocols, metrics, the one fold loop and its tables, shared by every kind of run.

A **subset** says which utterances take part (:func:`select_subset`, defined in
:mod:`ser_utils.corpora.subsets`); a **protocol** says which of them train and which test in
each fold (:func:`make_protocol`); :func:`cross_validate` runs a ``fit_predict(fold, train,
test)`` on every fold and returns a :class:`CrossValidation`, whose folds, summary and
confusion the tables read.

Modules
-------
:mod:`~ser_utils.evaluation.protocols`
    The protocols as scikit-learn splitters, the leakage guard.
:mod:`~ser_utils.evaluation.metrics`
    WA, UA, macro-F1, per-class scores, the confusion matrix.
:mod:`~ser_utils.evaluation.cross_validation`
    The fold loop and its typed results (:class:`FoldResult`, :class:`CrossValidation`).
:mod:`~ser_utils.evaluation.tables`
    The fold table, the predictions, the spread over seeds, the folds' composition.
"""

from __future__ import annotations

from ..corpora.subsets import (
    ORIGINAL_ARRAY_SUBSET,
    ORIGINAL_SUBSETS,
    SUBSETS,
    UNLABELLED_SUBSETS,
    default_subset,
    select_files,
    select_subset,
)
from .cross_validation import (
    CrossValidation,
    FoldPrediction,
    FoldPredictions,
    FoldResult,
    Summary,
    cross_validate,
)
from .metrics import METRICS, SCORE_KEYS, class_report, compute_metrics
from .protocols import (
    PROTOCOLS,
    SPEAKER_INDEPENDENT,
    LeakageError,
    Protocol,
    SelectedFolds,
    check_no_leakage,
    make_protocol,
)
from .tables import (
    compare_with_original,
    fold_assignments,
    fold_composition,
    fold_table,
    original_table,
    prediction_table,
)

__all__ = [
    "SUBSETS",
    "ORIGINAL_SUBSETS",
    "ORIGINAL_ARRAY_SUBSET",
    "UNLABELLED_SUBSETS",
    "default_subset",
    "select_subset",
    "select_files",
    "PROTOCOLS",
    "SPEAKER_INDEPENDENT",
    "Protocol",
    "SelectedFolds",
    "LeakageError",
    "make_protocol",
    "check_no_leakage",
    "SCORE_KEYS",
    "METRICS",
    "compute_metrics",
    "class_report",
    "FoldPrediction",
    "FoldPredictions",
    "FoldResult",
    "Summary",
    "CrossValidation",
    "cross_validate",
    "fold_table",
    "original_table",
    "prediction_table",
    "compare_with_original",
    "fold_composition",
    "fold_assignments",
]
