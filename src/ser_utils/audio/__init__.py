"""Audio: reading any wav, the preprocessing chain of a recipe (small pure functions), and the
spectrograms the networks take.

Modules
-------
:mod:`~ser_utils.audio.reading`
    :func:`read_audio` (any PCM/float wav, any rate, stereo folded), :func:`file_problem`.
:mod:`~ser_utils.audio.preprocessing`
    The steps (:func:`scale_like_original`, :func:`peak_normalise`, :func:`resample`,
    :func:`trim_silence`, :func:`pad_or_crop`, :func:`reduce_noise`) and :func:`preprocess`.
:mod:`~ser_utils.audio.spectrograms`
    :func:`original_spectrogram` (the original's 442 × 382 log-power spectrogram),
    :func:`log_mel_spectrogram`, :func:`spectrogram` for a recipe.
:mod:`~ser_utils.audio.kernels`
    librosa's numba kernels, compiled once before worker processes start.
"""

from __future__ import annotations

from .preprocessing import (
    SCALINGS,
    common_sample_rate,
    load_and_preprocess,
    pad_or_crop,
    peak_normalise,
    preprocess,
    preprocess_steps,
    reduce_noise,
    resample,
    scale_like_original,
    trim_silence,
)
from .reading import (
    clip_problems,
    clip_problems_line,
    file_problem,
    not_a_regular_file,
    read_audio,
    shortest_clip_seconds,
)
from .spectrograms import (
    SPECTROGRAM_KINDS,
    log_mel_spectrogram,
    original_spectrogram,
    spectrogram,
    spectrogram_shape,
)

__all__ = [
    "read_audio",
    "file_problem",
    "not_a_regular_file",
    "clip_problems",
    "clip_problems_line",
    "shortest_clip_seconds",
    "common_sample_rate",
    "scale_like_original",
    "peak_normalise",
    "resample",
    "trim_silence",
    "pad_or_crop",
    "reduce_noise",
    "preprocess",
    "preprocess_steps",
    "load_and_preprocess",
    "SCALINGS",
    "SPECTROGRAM_KINDS",
    "original_spectrogram",
    "log_mel_spectrogram",
    "spectrogram",
    "spectrogram_shape",
]
