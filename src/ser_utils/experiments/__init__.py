"""Experiments: one function per kind of run, called alike by the notebooks and by ``ser``; the
only layer that decides which recipe runs how.

:func:`run_traditional` runs a scikit-learn model on a feature set (``ser traditional``),
:func:`run_deep` a recipe's networks on its spectrogram arrays (``ser evaluate``, ``ser
train``); :func:`run_features`, :func:`run_arrays` and :func:`run_folds` are the stages ``ser``
also exposes, :func:`run_dry_run` measures a full-size run before it is spent. Every run
writes one run directory (:mod:`~ser_utils.experiments.runs`). A run takes its
:class:`~ser_utils.config.Recipe`; names are looked up at the boundary
(:func:`ser_utils.config.get_recipe`) and every other name is checked before any work starts:
a wrong one is a :class:`~ser_utils.errors.ChoiceError` naming the choices. Progress lines go
to :mod:`ser_utils.progress` (``ser`` and the notebooks show them).

Modules
-------
:mod:`~ser_utils.experiments.runs`
    The run directory: :class:`Run`, :func:`run_name`, :func:`write_run`, :func:`load_run`.
:mod:`~ser_utils.experiments.traditional`
    ``ser traditional``.
:mod:`~ser_utils.experiments.network`
    The recipes' networks fold by fold, over training seeds; the final bundle; ``ser evaluate``
    and ``ser train``.
:mod:`~ser_utils.experiments.fusion`
    The fusion recipe's folds: an ensemble fused with an SVM.
:mod:`~ser_utils.experiments.exploration`
    The original's hyperparameter exploration.
:mod:`~ser_utils.experiments.stages`
    ``ser features``, ``ser arrays``, ``ser folds``.
:mod:`~ser_utils.experiments.dry_run`
    ``ser dry-run``.
:mod:`~ser_utils.experiments.plan`
    ``ser run --plan``: each notebook's work, counted from the config, at measured unit costs.
:mod:`~ser_utils.experiments.costs`
    The plan's unit costs: a step of each network, a clip through each chain, measured.
"""

from __future__ import annotations

from .dry_run import DryRun, format_dry_run, run_dry_run
from .exploration import (
    EXPLORATIONS,
    ORIGINAL_EXPLORATION,
    exploration_grid,
    exploration_variants,
    explore_hyperparameters,
)
from .fusion import side_by_side
from .network import (
    compositions,
    cross_validate_recipe,
    cross_validate_seeds,
    default_training_seeds,
    run_deep,
    train_bundle,
)
from .runs import Run, load_run, run_name, write_run
from .stages import run_arrays, run_features, run_folds
from .traditional import run_traditional

__all__ = [
    "Run",
    "run_name",
    "write_run",
    "load_run",
    "run_traditional",
    "run_deep",
    "run_features",
    "run_arrays",
    "run_folds",
    "run_dry_run",
    "DryRun",
    "format_dry_run",
    "cross_validate_recipe",
    "cross_validate_seeds",
    "default_training_seeds",
    "train_bundle",
    "compositions",
    "side_by_side",
    "ORIGINAL_EXPLORATION",
    "EXPLORATIONS",
    "exploration_grid",
    "exploration_variants",
    "explore_hyperparameters",
]
