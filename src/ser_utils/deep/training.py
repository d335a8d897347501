"""Seeded training of the Keras models.

:func:`train_model` is the one call a notebook needs: it seeds every generator, builds the
model (under a ``tf.distribute`` strategy and the mixed-precision policy when asked),
holds out the validation part the :class:`~ser_utils.config.TrainingConfig` describes and
fits; the first training of a process that shows progress names its device
(:func:`ser_utils.deep.devices.announce_device`). :func:`fit_model` fits a model that already
exists. Arrays are read batch by batch (:class:`ArrayBatches`), so a memory-mapped ``.npy`` of
thousands of spectrograms is never copied whole into memory. A GPU is used when TensorFlow sees
one (its CUDA build: ``make venv GPU=1``); nothing requires it. A trained model is saved with
:func:`ser_utils.deep.bundles.save_bundle`.

Training a model takes seconds to minutes, so its worked examples are the tests. The
validation part comes from :mod:`ser_utils.deep.validation`.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import random
import time
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from ..config import ModelConfig, TrainingConfig, check_choice
from ..progress import logger as progress_log
from .backend import fit_state_released, keras
from .batches import ArrayBatches
from .devices import announce_device
from .models import build_model
from .twins import TWIN_OF, traced_twin, twin_of
from .validation import VALIDATION_SPLITS, validation_split, validation_split_used

log = logging.getLogger(__name__)

__all__ = [
    "set_global_seed",
    "validation_split",
    "validation_split_used",
    "VALIDATION_SPLITS",
    "encode_labels",
    "balanced_class_weights",
    "ArrayBatches",
    "EpochLog",
    "cosine_learning_rate",
    "LEARNING_RATE_SCHEDULES",
    "fit_model",
    "train_model",
    "predict_proba",
    "history_summary",
    "release_models",
]

LEARNING_RATE_SCHEDULES: tuple[str, ...] = ("constant", "cosine")


# ----------------------------------------------------------------------------- seeding
def set_global_seed(
    seed: int, *, deterministic_ops: bool = False, tensorflow_seed: bool = True
) -> None:
    """Seed Python's ``random``, NumPy's global generator and the Keras/TensorFlow seeds.

    Parameters
    ----------
    seed : int
    deterministic_ops : bool, default False
        Also make TensorFlow pick deterministic kernels
        (``tf.config.experimental.enable_op_determinism``): bit-identical reruns, slower
        on a GPU. It stays on for the rest of the process.
    tensorflow_seed : bool, default True
        Also set TensorFlow's own global seed (``tf.random.set_seed``). That clears
        TensorFlow's kernel cache, so each traced function is instantiated again on its next
        call: about 0.1 s per function, whatever the model's size. Keras 3's layers,
        initialisers and dropout draw only from stateless random ops seeded by Keras' own
        generator, which this resets in any case, so a model of :mod:`ser_utils.deep.models`
        gets the same weights to the bit without it (``tests/deep/test_training.py``);
        :func:`train_model` leaves it out for them, and sets it for a builder function,
        which may use TensorFlow's stateful random ops.
    """
    if tensorflow_seed:
        keras.utils.set_random_seed(seed)  # Python, NumPy, TensorFlow and Keras' generator
    else:
        # Keras' own seed state, set without tf.random.set_seed (no public API does that)
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils

        # keras.utils.set_random_seed without tf.random.set_seed
        global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if deterministic_ops and keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # loaded already (keras); only this branch names it

        tf.config.experimental.enable_op_determinism()


# ----------------------------------------------------------------------------- labels
def encode_labels(y: Sequence, labels: Sequence[str]) -> np.ndarray:
    """Label strings (or integer codes) -> integer codes in the order of ``labels``.

    The class order is given, never learned from ``y``: the model's output ``k`` is always
    ``labels[k]``, whichever classes a subset happens to contain.

    Raises
    ------
    ValueError
        ``y`` holds a label outside ``labels`` (or a code outside ``0 .. len(labels) - 1``).
    """
    labels = tuple(labels)
    values = np.asarray(y)
    if values.dtype.kind in "iu":
        bad = values[(values < 0) | (values >= len(labels))]
        if bad.size:
            raise ValueError(
                f"label codes {sorted(set(bad.tolist()))[:5]} are outside 0..{len(labels) - 1} "
                f"for the {len(labels)} classes {', '.join(labels)}"
            )
        return values.astype(np.int64)
    index = {label: code for code, label in enumerate(labels)}
    unknown = sorted({str(value) for value in values.tolist()} - set(index))
    if unknown:
        raise ValueError(
            f"labels {', '.join(unknown[:5])} are not among the classes {', '.join(labels)} — "
            "filter the rows first (e.g. drop 'other' and 'no_agreement') or pass the full class list"
        )
    return np.fromiter(
        (index[str(value)] for value in values.tolist()), dtype=np.int64, count=len(values)
    )


def balanced_class_weights(codes: np.ndarray, n_classes: int) -> dict[int, float]:
    """scikit-learn's ``'balanced'`` weights, n_samples / (n_present_classes × count), per code.

    Classes absent from ``codes`` get weight 1.0 (they never occur, so it is never used).
    """
    codes = np.asarray(codes)
    present = np.unique(codes)
    weights = compute_class_weight("balanced", classes=present, y=codes)
    result = {code: 1.0 for code in range(n_classes)}
    result.update({int(code): float(weight) for code, weight in zip(present, weights)})
    return result


def _needs_channel_axis(model: keras.Model, x) -> bool:
    """True when the model expects one more axis than ``x`` has (a missing channel axis)."""
    expected = tuple(model.inputs[0].shape[1:])
    given = tuple(x.shape[1:])
    if len(expected) == len(given) + 1 and expected[-1] == 1:
        given = (*given, 1)
        needs = True
    else:
        needs = False
    if len(expected) != len(given) or any(
        e is not None and e != g for e, g in zip(expected, given)
    ):
        raise ValueError(
            f"model {model.name!r} expects examples of shape {expected}, "
            f"got an array of shape {tuple(x.shape)} — check the features the model was built for"
        )
    return needs


# --------------------------------------------------------------------------- fitting
def cosine_learning_rate(epoch: int, *, initial: float, epochs: int) -> float:
    """Cosine decay without restarts: ``initial`` at epoch 0, towards 0 at ``epochs``.

    Examples
    --------
    >>> [round(cosine_learning_rate(epoch, initial=1.0, epochs=4), 3) for epoch in range(4)]
    [1.0, 0.854, 0.5, 0.146]
    """
    return float(initial * 0.5 * (1.0 + np.cos(np.pi * epoch / max(1, epochs))))


class EpochLog(keras.callbacks.Callback):
    """One printed line per epoch — ``fold 2 · epoch 3/25 · loss 1.21 · accuracy 0.48 ·
    val_loss 1.30 · val_accuracy 0.44 · 4.1 s`` — instead of Keras' per-batch bar, which
    floods saved notebooks and logs.

    Parameters
    ----------
    prefix : str, default ""
        Put before each line (e.g. the fold or the variant being trained).
    """

    def __init__(self, prefix: str = ""):
        super().__init__()
        self.prefix = f"{prefix} · " if prefix else ""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        values = " · ".join(
            f"{name} {value:.3f}"
            for name, value in (logs or {}).items()
            if name in ("loss", "accuracy", "val_loss", "val_accuracy")
        )
        progress_log.info(
            f"{self.prefix}epoch {epoch + 1}/{self.params.get('epochs', '?')} · {values} · "
            f"{time.perf_counter() - self._start:.1f} s"
        )


def fit_model(
    model: keras.Model,
    x,
    y: Sequence,
    *,
    labels: Sequence[str],
    groups: Sequence | None = None,
    config: TrainingConfig,
    x_val=None,
    y_val: Sequence | None = None,
    verbose: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    progress: bool | str = True,
) -> dict[str, list[float]]:
    """Fit a compiled model on ``x``, ``y``; return its learning curves.

    Parameters
    ----------
    model : keras.Model
        Compiled, with ``len(labels)`` softmax outputs.
    x : array or memmap, shape (n, freq, time) or (n, freq, time, 1), or (n, frames, features)
        A missing channel axis is added batch by batch.
    y : sequence, length n
        Label strings (or integer codes) in the vocabulary of ``labels``.
    labels : sequence of str
        The class order of the model's outputs, e.g. :data:`~ser_utils.config.FOUR_CLASSES`.
    groups : sequence, length n, optional
        Speaker of each example, for ``config.validation_split == "speaker"``.
    config : TrainingConfig
        ``epochs``, ``batch_size``, ``seed`` (batch order), the validation split (used when
        ``x_val`` is not given; ``validation_size`` 0 trains without validation),
        ``early_stopping_patience`` (stop on validation loss, restore the best weights),
        ``class_weight`` (``'balanced'`` weights from the training part),
        ``learning_rate_schedule`` (``"cosine"``: :func:`cosine_learning_rate` per epoch from
        the compiled learning rate) and the augmentation of the training batches
        (``spec_augment_masks``, ``spec_augment_width``, ``mixup_alpha``; see
        :class:`ArrayBatches`).
    x_val, y_val : optional
        An explicit validation set instead of the split.
    verbose : 0, 1 or 2
        Keras' own progress output (1: a bar per batch, 2: a line per epoch).
    callbacks : sequence of keras.callbacks.Callback
        Extra callbacks.
    progress : bool or str, default True
        With ``verbose=0``, print one line per epoch (:class:`EpochLog`); a string is put
        before each line. False prints nothing.

    Returns
    -------
    dict of str -> list of float
        Keras' history: ``loss``, ``accuracy`` and, with validation, ``val_loss`` and
        ``val_accuracy``, one value per epoch run. With class weights both losses are
        weighted (by the weights of the training part); accuracy never is. With the split
        of ``config``, also ``validation_split_used`` (a string: ``"random"``,
        ``"speaker"``, or ``"stratified"`` when a single training speaker made the speaker
        split impossible, see :func:`validation_split`).

    Notes
    -----
    Weight initialisation and dropout follow the global seed: call :func:`set_global_seed`
    before building the model, or use :func:`train_model`, which does both.
    """
    labels = tuple(labels)
    n_outputs = model.outputs[0].shape[-1]
    if n_outputs != len(labels):
        raise ValueError(
            f"model {model.name!r} has {n_outputs} outputs but {len(labels)} labels were given "
            f"({', '.join(labels)}) — build the model with n_classes=len(labels)"
        )
    check_choice(config.learning_rate_schedule, LEARNING_RATE_SCHEDULES, "learning_rate_schedule")
    codes = encode_labels(y, labels)
    split_used = None
    if len(codes) != len(x):
        raise ValueError(
            f"x has {len(x)} examples but y has {len(codes)} labels — pass one label per example"
        )
    add_channel = _needs_channel_axis(model, x)

    if x_val is not None:
        if y_val is None:
            raise ValueError("x_val was given without y_val — pass both or neither")
        train_idx = np.arange(len(x))
        val_x, val_codes, val_idx = x_val, encode_labels(y_val, labels), None
        if len(val_codes) != len(x_val):
            raise ValueError(
                f"x_val has {len(x_val)} examples but y_val has {len(val_codes)} labels"
            )
    elif config.validation_size:
        train_idx, val_idx = validation_split(codes, groups=groups, config=config)
        val_x, val_codes = x, codes
        split_used = validation_split_used(groups, config=config)
        if split_used != config.validation_split:
            log.warning(
                "the training part holds a single speaker: validation falls back to a stratified random "
                "split (not speaker-independent)"
            )
    else:
        train_idx, val_x = np.arange(len(x)), None
    if config.early_stopping_patience is not None and val_x is None:
        raise ValueError(
            "early stopping watches the validation loss, but there is no validation data — "
            "set validation_size > 0, pass x_val/y_val or early_stopping_patience=None"
        )

    class_weight = (
        balanced_class_weights(codes[train_idx], len(labels)) if config.class_weight else None
    )
    train_batches = ArrayBatches(
        x,
        codes,
        n_classes=len(labels),
        indices=train_idx,
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
        class_weight=class_weight,
        add_channel_axis=add_channel,
        spec_augment_masks=config.spec_augment_masks,
        spec_augment_width=config.spec_augment_width,
        mixup_alpha=config.mixup_alpha,
    )
    val_batches = None
    if val_x is not None:
        # Same class weights on the validation loss, so early stopping tracks the balanced objective.
        val_batches = ArrayBatches(
            val_x,
            val_codes,
            n_classes=len(labels),
            indices=val_idx,
            batch_size=config.batch_size,
            class_weight=class_weight,
            add_channel_axis=_needs_channel_axis(model, val_x),
        )

    all_callbacks = list(callbacks)
    if progress and not verbose:
        all_callbacks.append(EpochLog(progress if isinstance(progress, str) else ""))
    if config.early_stopping_patience is not None:
        all_callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=config.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    if config.learning_rate_schedule == "cosine":
        initial = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        all_callbacks.append(
            keras.callbacks.LearningRateScheduler(
                lambda epoch, rate: cosine_learning_rate(
                    epoch, initial=initial, epochs=config.epochs
                )
            )
        )
    with fit_state_released():  # else every model trained in the process stays in memory
        history = model.fit(
            train_batches,
            validation_data=val_batches,
            epochs=config.epochs,
            shuffle=False,  # ArrayBatches shuffles, from config.seed
            callbacks=all_callbacks,
            verbose=verbose,
        )
    curves = {
        name: [float(value) for value in values]
        for name, values in history.history.items()
        if name != "learning_rate"
    }
    if split_used is not None:
        curves["validation_split_used"] = split_used
    return curves


@contextlib.contextmanager
def _precision_policy(mixed_precision: bool):
    """Build under ``mixed_float16`` when asked, then restore the previous global policy."""
    previous = keras.mixed_precision.global_policy()
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


DISTRIBUTIONS = ("default", "mirrored")


def make_strategy(name: str = "default"):
    """The ``tf.distribute`` strategy a config names: ``"default"`` -> None (TensorFlow's own
    placement), ``"mirrored"`` -> ``MirroredStrategy()`` over every visible GPU (the CPU when
    there is none)."""
    check_choice(name, DISTRIBUTIONS, "distribution")
    if name == "default":
        return None
    import tensorflow as tf  # loaded already (keras); only this branch names it

    return tf.distribute.MirroredStrategy()


def train_model(
    model: ModelConfig | str | Callable[..., keras.Model],
    x,
    y: Sequence,
    *,
    labels: Sequence[str],
    config: TrainingConfig,
    groups: Sequence | None = None,
    x_val=None,
    y_val: Sequence | None = None,
    strategy=None,
    input_shape: Sequence[int] | None = None,
    verbose: int = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    progress: bool | str = True,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Seed, build and fit a model: the whole of one training run.

    Parameters
    ----------
    model : ModelConfig, str or callable
        A model config or builder name (built with :func:`ser_utils.deep.models.build_model`,
        Adam's learning rate taken from ``config.learning_rate``), or a function
        ``build(input_shape, n_classes) -> compiled keras.Model``.
    x, y, labels, groups, x_val, y_val, verbose, callbacks, progress
        As in :func:`fit_model`.
    config : TrainingConfig
        As in :func:`fit_model`; also ``seed`` and ``deterministic_ops``
        (:func:`set_global_seed`, called first) and ``mixed_precision`` (the model is
        built under the ``mixed_float16`` policy; its softmax stays float32).
    strategy : tf.distribute.Strategy, optional
        Build and compile the model inside ``strategy.scope()``, e.g.
        ``tf.distribute.MirroredStrategy()`` to use every GPU. Default: the one
        ``config.distribution`` names (:func:`make_strategy`; ``"default"``: TensorFlow's
        default, one GPU when there is one, else the CPU).
    input_shape : tuple, optional
        Shape of one example for the builder; default ``x.shape[1:]`` (image builders add
        the channel axis themselves).

    Returns
    -------
    model : keras.Model
        Trained (best validation weights with early stopping).
    history : dict of str -> list of float

    Notes
    -----
    A model given by its config is fitted through a traced twin: the first training of an
    architecture (config, input shape, classes, learning rate, precision) traces TensorFlow's
    training and validation functions, about 2 s; later trainings of the same architecture copy
    their freshly built, seeded model into the twin, fit it and copy the result back, which
    gives the same weights to the bit as fitting the new model itself
    (``tests/deep/test_training.py``). A builder function, a model under a distribution strategy
    and a model of more than two million parameters are fitted directly.
    """
    if progress:
        announce_device()  # once per process: GPU: <name> or CPU (no GPU visible)
    shape = tuple(input_shape) if input_shape is not None else tuple(x.shape[1:])
    n_classes = len(tuple(labels))
    strategy = strategy if strategy is not None else make_strategy(config.distribution)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    builder = callable(model) and not isinstance(model, (str, ModelConfig))

    def build() -> keras.Model:
        with _precision_policy(config.mixed_precision), scope:
            if builder:
                return model(shape, n_classes)
            return build_model(model, shape, n_classes, learning_rate=config.learning_rate)

    # The twin is built before seeding, so the seeded build below is the same either way.
    twin = traced_twin(model, shape, n_classes, config, strategy, build)
    set_global_seed(
        config.seed, deterministic_ops=config.deterministic_ops, tensorflow_seed=builder
    )
    built = build()
    if twin is not None:
        twin.start_from(built)
    history = fit_model(
        built if twin is None else twin.model,
        x,
        y,
        labels=labels,
        groups=groups,
        config=config,
        x_val=x_val,
        y_val=y_val,
        verbose=verbose,
        callbacks=callbacks,
        progress=progress,
    )
    if twin is not None:
        twin.hand_to(built)
        TWIN_OF[built] = twin.key
    return built, history


def predict_proba(model: keras.Model, x, *, batch_size: int = 32) -> np.ndarray:
    """Class probabilities, shape (n, n_classes), columns in the model's label order.

    ``x`` may be a memmap and may lack the channel axis; it is read batch by batch. A model
    that :func:`train_model` fitted through a traced twin predicts through the twin too, with
    its own weights: the same numbers without tracing a prediction function per model.
    """
    batches = ArrayBatches(x, batch_size=batch_size, add_channel_axis=_needs_channel_axis(model, x))
    twin = twin_of(model)
    if twin is not None:
        return np.asarray(twin.predict(model, batches), dtype=np.float32)
    return np.asarray(model.predict(batches, verbose=0), dtype=np.float32)


def history_summary(history: dict) -> dict:
    """The number of epochs run and, from the learning curves, the best validation accuracy,
    its epoch, the last validation and training accuracies."""
    summary = {"epochs": len(history.get("loss", []))}
    if history.get("val_accuracy"):
        best = int(np.argmax(history["val_accuracy"]))
        summary.update(
            best_val_accuracy=float(history["val_accuracy"][best]),
            best_epoch=best + 1,
            final_val_accuracy=float(history["val_accuracy"][-1]),
        )
    if history.get("accuracy"):
        summary["final_train_accuracy"] = float(history["accuracy"][-1])
    return summary


def release_models() -> None:
    """Release the previous model between trainings: one garbage collection (about 0.25 s,
    so once per training, not more).

    Not ``keras.backend.clear_session()``: on TensorFlow it also clears the kernel cache, so
    every traced function, the twins of :func:`train_model` included, is
    instantiated again on its next call, about 0.1 s per function whatever the model's size.
    What else it resets is not needed here: each training reseeds Keras' generator
    (:func:`set_global_seed`), and layer names do not change a number."""
    gc.collect()
