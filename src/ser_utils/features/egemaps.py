"""The 88 eGeMAPSv02 functionals of openSMILE, run in a spawned worker process when TensorFlow is
loaded (openSMILE's native library aborts in a process that loaded TensorFlow first)."""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import signal
import sys

import numpy as np

from ..errors import SerError
from .frames import as_float_audio


@functools.lru_cache(maxsize=1)
def _smile():
    try:
        import opensmile  # optional (the egemaps extra); it must load before TensorFlow
    except ImportError:
        raise SerError(
            "eGeMAPS features need openSMILE — pip install opensmile (or ser-utils[egemaps])"
        ) from None
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )


def egemaps_functionals(samples: np.ndarray, sr: int) -> np.ndarray:
    """The 88 eGeMAPSv02 functionals of openSMILE (works offline; configs ship with the package).

    Returns
    -------
    np.ndarray, shape (88,), float32 — in the order of :func:`egemaps_names`.
    """
    samples = as_float_audio(samples).astype(np.float32, copy=False)
    return _outside_tensorflow(_egemaps_values, samples, int(sr))


def _egemaps_values(samples: np.ndarray, sr: int) -> np.ndarray:
    return _smile().process_signal(samples, sr).to_numpy(dtype=np.float32).reshape(-1)


def _egemaps_feature_names() -> list[str]:
    return list(_smile().feature_names)


def _outside_tensorflow(function, *args):
    """Run ``function(*args)`` here, or in a fresh worker process when TensorFlow is loaded:
    openSMILE's native library aborts (malloc) in a process that loaded TensorFlow first."""
    if "tensorflow" not in sys.modules:
        return function(*args)
    return _spawned_worker().submit(function, *args).result()


def _ignore_interrupts() -> None:
    # Ctrl-C, and the SIGINT a Jupyter kernel's shutdown sends its whole process group, are the
    # parent's to handle: the idle worker would die of it printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@functools.lru_cache(maxsize=1)
def _spawned_worker():
    # "spawn": a fresh interpreter that has not loaded TensorFlow (a fork would inherit it).
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_ignore_interrupts,
    )


def egemaps_names() -> list[str]:
    """Names of the 88 eGeMAPSv02 functionals (``F0semitoneFrom27.5Hz_sma3nz_amean``, …)."""
    return _outside_tensorflow(_egemaps_feature_names)
