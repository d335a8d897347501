"""Traced twins: one compiled model per architecture whose training, evaluation and prediction
functions TensorFlow has already traced, so that training the same architecture again (a new
fold, a new seed) spends no second tracing the same functions.

:func:`ser_utils.deep.training.train_model` fits through a twin and hands back its own model,
the same to the bit as if it had been fitted itself.
"""

from __future__ import annotations

import collections
import gc
import weakref

import numpy as np

from ..config import ModelConfig, TrainingConfig
from .backend import keras

__all__ = [
    "Twin",
    "copy_state",
    "traced_twin",
    "twin_of",
    "TWINS",
    "TWIN_OF",
    "TWIN_MAX_PARAMETERS",
]


class Twin:
    """A compiled model whose training and evaluation functions TensorFlow has already traced
    (the first fit of a model spends about 2 s tracing, whatever its size). A training run of
    the same architecture, input shape and optimizer copies its freshly built, seeded model's
    state into the twin (every variable, random-seed states included), resets the optimizer
    and fits the twin; the trained state is then copied back, so the run returns its own
    model, exactly as if it had been fitted itself, and the twin stays private."""

    def __init__(self, model: keras.Model, key: tuple):
        self.model, self.key = model, key
        model.optimizer.build(model.trainable_variables)
        self._optimizer_start = [np.array(v) for v in model.optimizer.variables]

    def start_from(self, fresh: keras.Model) -> None:
        copy_state(fresh, self.model)
        for variable, start in zip(self.model.optimizer.variables, self._optimizer_start):
            variable.assign(start)

    def hand_to(self, fresh: keras.Model) -> None:
        copy_state(self.model, fresh)

    def predict(self, trained: keras.Model, batches) -> np.ndarray:
        """``trained.predict(batches)`` through the twin's traced prediction function."""
        copy_state(trained, self.model)
        return self.model.predict(batches, verbose=0)


def copy_state(source: keras.Model, target: keras.Model) -> None:
    if len(source.variables) != len(target.variables):
        raise RuntimeError(f"cannot copy the state of {source.name!r} into {target.name!r}")
    for to, value in zip(target.variables, source.variables):
        to.assign(value)


TWINS: collections.OrderedDict[tuple, Twin] = collections.OrderedDict()
TWINS_KEPT = 3  # architectures kept per process, the least recently used dropped first
#: Larger models train without a twin: two seconds of tracing are nothing beside their epochs,
#: and a second copy of their weights and optimizer state would raise the peak memory (the
#: original model at full size: 33 million parameters).
TWIN_MAX_PARAMETERS = 2_000_000
UNTWINNED: set[tuple] = set()
#: The twin key of each model :func:`~ser_utils.deep.training.train_model` returned through a twin, for :func:`~ser_utils.deep.training.predict_proba`.
TWIN_OF: weakref.WeakKeyDictionary[keras.Model, tuple] = weakref.WeakKeyDictionary()


def traced_twin(model, shape, n_classes, config: TrainingConfig, strategy, build):
    """The twin of a model config's build (created on first use), or None where a model
    cannot be matched by its config (a builder function, a distribution strategy) or is too
    large to keep twice."""
    if strategy is not None or not isinstance(model, (str, ModelConfig)):
        return None
    name, params = (model, {}) if isinstance(model, str) else (model.name, model.params)
    key = (
        name,
        repr(sorted(params.items())),
        shape,
        n_classes,
        config.learning_rate,
        config.mixed_precision,
    )
    if key in UNTWINNED:
        return None
    if key not in TWINS:
        candidate = build()
        if candidate.count_params() > TWIN_MAX_PARAMETERS:
            UNTWINNED.add(key)
            del candidate
            gc.collect()  # its memory is free again for the model that trains
            return None
        TWINS[key] = Twin(candidate, key)
        while len(TWINS) > TWINS_KEPT:
            TWINS.popitem(last=False)
    TWINS.move_to_end(key)
    return TWINS[key]


def twin_of(model: keras.Model) -> Twin | None:
    """The twin ``model`` was fitted through, when it still exists."""
    return TWINS.get(TWIN_OF.get(model))
