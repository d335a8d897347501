"""Utterance-level functionals (9 statistics per frame feature over the frames that are not padding)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .frames import frame_feature_names

#: Statistics of :func:`frame_functionals`, in output order.
FUNCTIONALS: tuple[str, ...] = (
    "mean",
    "std",
    "min",
    "max",
    "p10",
    "p50",
    "p90",
    "delta_mean",
    "delta_std",
)


def frame_functionals(frames: np.ndarray, *, n_valid: int | None = None) -> np.ndarray:
    """Utterance-level statistics of frame features, over the frames that are not padding.

    Parameters
    ----------
    frames : np.ndarray, shape (frames, d)
        E.g. :func:`~ser_utils.features.frames.frame_features` (d = 34).
    n_valid : int, optional
        Number of leading frames that are speech (see :func:`~ser_utils.features.frames.n_active_frames`). By default
        the trailing frames identical to a silent frame (RMS column exactly 0, as
        :func:`~ser_utils.features.frames.frame_features` gives for zero padding) are dropped.

    Returns
    -------
    np.ndarray, shape (d · 9,), float32
        Per feature (row-major): mean, std, min, max, 10th/50th/90th percentile, mean and
        std of the first differences between frames (0 when one frame) — see
        :func:`functional_names`.
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[0] == 0:
        raise ValueError(f"expected frames of shape (frames, features), got {frames.shape}")
    if n_valid is None:
        silent = frames[:, -2] == 0 if frames.shape[1] == 34 else np.zeros(len(frames), dtype=bool)
        n_valid = len(frames) - int(np.argmin(silent[::-1])) if not silent.all() else 1
    frames = frames[: max(1, min(int(n_valid), len(frames)))]
    deltas = np.diff(frames, axis=0) if len(frames) > 1 else np.zeros((1, frames.shape[1]))
    p10, p50, p90 = np.percentile(frames, [10, 50, 90], axis=0)
    stats = [
        frames.mean(0),
        frames.std(0),
        frames.min(0),
        frames.max(0),
        p10,
        p50,
        p90,
        deltas.mean(0),
        deltas.std(0),
    ]
    return np.stack(stats, axis=1).reshape(-1).astype(np.float32)


def functional_names(names: Sequence[str] | None = None) -> list[str]:
    """Names of :func:`frame_functionals` of the columns ``names`` (default :func:`frame_feature_names`):
    ``mfcc_01_mean``, ``mfcc_01_std``, …"""
    names = frame_feature_names() if names is None else list(names)
    return [f"{name}_{stat}" for name in names for stat in FUNCTIONALS]
