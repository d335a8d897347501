"""Importing TensorFlow/Keras quietly: the only place the package imports them from.

TensorFlow's C++ start-up lines (oneDNN notices, absl warnings) are written to the process's
stderr before ``TF_CPP_MIN_LOG_LEVEL`` applies; they are silenced during the import only,
so real errors (raised as Python exceptions) still surface.

The import leaves about 400 000 long-lived Python objects, which every full garbage collection
would walk again (0.2 s each: one per training between folds, plus Python's own). They are
moved to the permanent generation (``gc.freeze``) once, when this module is first imported:
still freed by reference counting, never walked again.

What a Keras ``fit`` leaves in TensorFlow's process-wide registries is released when it returns
(:func:`fit_state_released`; measured on the full-size original, ``benchmarks/training_memory.py``):

* **The traced training step.** Keras sums the gradients of each step through
  ``tf.distribute``'s all-reduce, whose gradient is a ``tf.custom_gradient``. Traced inside a
  ``tf.function``, that registers a function in TensorFlow's global gradient registry under a
  new name (``CustomGradient-<n>``, one per trace) and never removes it; the function's
  closure holds the traced step's graph, and the graph holds every variable it captured. So
  each model ever trained keeps its weights and optimizer slots (380 MiB for the
  33-million-parameter original: weights and Adam's two moments) after the model itself is
  gone. The registered gradient is only looked up while the step is traced, so it is dropped
  once ``fit`` returns.
* **The datasets.** Keras feeds a ``PyDataset`` through ``tf.data.Dataset.from_generator``,
  which registers its Python functions in TensorFlow's global default graph; eager code never
  replaces that graph, so every dataset (training, validation, prediction) stays alive. It is
  replaced after each ``fit`` (what ``keras.backend.clear_session`` does to it, without
  clearing the kernel cache, which every traced function would pay for again).

TensorFlow's oneDNN build serves every tensor of 256 KiB or more from a pool of its own (a
best-fit allocator over regions it grows and never returns), which holds about 900 MiB more
than the full-size original's training needs at its peak and keeps all of it once training
ends. ``TF_ONEDNN_USE_SYSTEM_ALLOCATOR=1`` (TensorFlow's own switch, read when its allocator is
created) makes oneDNN's allocator take every tensor from ``malloc``, which maps the large ones
and unmaps them when freed: the same kernels on the same numbers, with the peak at what the
step holds. It is set here unless the environment already names it, so it applies only when
the package imports TensorFlow first.

None of these touches a computed number: the weights and histories are the same to the bit
(``tests/deep/test_training.py``).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN's pool keeps every page it ever held (900 MiB above a full-size training's need); malloc returns them.
os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")


@contextlib.contextmanager
def _stderr_silenced():
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


if "tensorflow" not in sys.modules:
    with _stderr_silenced():
        import tensorflow
import keras  # noqa: E402
import tensorflow  # noqa: E402  (loaded above, quietly; named here for the modules that need it)

gc.collect()
gc.freeze()

__all__ = ["keras", "tensorflow", "quiet_tensorflow", "fit_state_released"]


def quiet_tensorflow() -> None:
    """Silence TensorFlow's retracing warnings: each fold builds a new model, so TensorFlow
    warns about retracing predict, which is expected."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


_CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def _gradient_registry() -> dict | None:
    """TensorFlow's registry of gradient functions by op name (``None`` if TensorFlow moved it)."""
    from tensorflow.python.framework import ops  # TensorFlow's internals: loaded already, above

    registry = getattr(ops, "_gradient_registry", None)
    return getattr(registry, "_registry", None)


@contextlib.contextmanager
def fit_state_released():
    """Release, when the block ends, the custom gradients registered inside it and the
    datasets registered in the global default graph."""
    registry = _gradient_registry()
    before = set(registry) if registry is not None else set()
    try:
        yield
    finally:
        if registry is not None:
            for name in [n for n in registry if n.startswith(_CUSTOM_GRADIENT_PREFIX)]:
                if name not in before:
                    del registry[name]
        if tensorflow.executing_eagerly():  # a graph being built by the caller is left alone
            tensorflow.compat.v1.reset_default_graph()
