"""Importing TensorFlow/Keras quietly: the only place the package imports them from.

TensorFlow's C++ start-up lines (oneDNN notices, absl warnings) are written to the process's
stderr before ``TF_CPP_MIN_LOG_LEVEL`` applies; they are silenced during the import only,
so real errors (raised as Python exceptions) still surface.

The import leaves about 400 000 long-lived Python objects, which every full garbage collection
would walk again (0.2 s each: one per training between folds, plus Python's own). They are
moved to the permanent generation (``gc.freeze``) once, when this module is first imported:
still freed by reference counting, never walked again.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
        import tensorflow  # noqa: F401
import keras  # noqa: E402

gc.collect()
gc.freeze()

__all__ = ["keras", "quiet_tensorflow"]


def quiet_tensorflow() -> None:
    """Silence TensorFlow's retracing warnings: each fold builds a new model, so TensorFlow
    warns about retracing predict, which is expected."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
