"""The preprocessing chain, one small pure function per step.

:func:`preprocess` composes the steps from an :class:`~ser_utils.config.AudioConfig`;
the original recipe reproduces the original study's chain exactly::

    TESS        x1000 (int16 x 1000 / 32768) -> resample 22 050 Hz -> pad 145 180 -> denoise
    MSP-IMPROV  x1000 -> trim (top_db 25, frame 256, hop 64) -> pad 338 368 -> denoise

and :func:`ser_utils.traditional.as_original_ran` the rates its traditional runs used instead
(``AudioConfig.resample_from``, ``AudioConfig.denoise_rate``).

Examples
--------
A half-second tone between two silences, through the original MSP-IMPROV chain of the
smoke profile (trimmed, then padded to 2 s at 44.1 kHz):

>>> import dataclasses
>>> import numpy as np
>>> from ser_utils import config
>>> sr = 44_100
>>> tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(sr // 2) / sr)
>>> samples = np.concatenate([np.zeros(sr // 4), tone, np.zeros(sr // 4)]).astype(np.float32)
>>> chain = dataclasses.replace(config.original_recipe("msp-improv", "smoke").audio, denoise=False)
>>> steps = preprocess_steps(samples, sr, chain)
>>> {name: len(x) for name, (x, rate) in steps.items()}["trimmed"] < len(samples)
True
>>> clean, rate = preprocess(samples, sr, chain)
>>> clean.shape, rate
((88200,), 44100)
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import librosa
import numpy as np

from ..config import ORIGINAL_SCALE_GAIN, AudioConfig, check_choice
from ..errors import AudioError, CorpusError
from .reading import read_audio

__all__ = [
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
    "DENOISE_RATES",
]

SCALINGS = ("original", "peak", "none")
DENOISE_RATES = ("audio", "file")


def scale_like_original(samples: np.ndarray) -> np.ndarray:
    """The original's scaling: int16 samples x 1000 / 32768, i.e. float samples x 1000.

    (The original also peak-normalised, but discarded the result.)
    """
    return (np.asarray(samples, dtype=np.float32) * np.float32(ORIGINAL_SCALE_GAIN)).astype(
        np.float32
    )


def common_sample_rate(rates: Iterable[int], config: AudioConfig) -> int | None:
    """The one sample rate every clip has after ``config``'s chain, or None when there are no rates.

    ``config.target_sr`` when the chain resamples; otherwise the files' own rate, which must
    then be the same for all (rates of 0 — unreadable headers — are left to the reader,
    which names the file).

    Raises
    ------
    CorpusError
        The chain keeps each file's rate and the files have several.

    >>> common_sample_rate([44_100, 44_100, 0], AudioConfig(target_sr=None))
    44100
    """
    if config.target_sr:
        return int(config.target_sr)
    found = sorted({int(rate) for rate in rates if rate == rate and rate > 0})  # NaN != NaN
    if len(found) > 1:
        raise CorpusError(
            f"the files have several sample rates ({', '.join(map(str, found))} Hz) but the recipe "
            "keeps each file's own rate, so their features and spectrograms would not be "
            "comparable — use a recipe with a target_sr (e.g. --recipe improved) or resample the "
            "corpus to one rate"
        )
    return found[0] if found else None


def _check_not_silent(samples: np.ndarray, what: str = "the clip") -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak == 0.0:
        raise AudioError(
            f"{what} is silent (all samples are zero) — remove the file from the corpus"
        )
    return peak


def peak_normalise(samples: np.ndarray) -> np.ndarray:
    """Scale so that the largest absolute sample is 1."""
    peak = _check_not_silent(samples)
    return (np.asarray(samples, dtype=np.float32) / np.float32(peak)).astype(np.float32)


def resample(
    samples: np.ndarray, orig_sr: int, target_sr: int, *, res_type: str = "soxr_hq"
) -> np.ndarray:
    """Resample with librosa (``soxr_hq`` by default; ``kaiser_best`` needs resampy)."""
    if orig_sr == target_sr:
        return np.asarray(samples, dtype=np.float32)
    return librosa.resample(
        np.asarray(samples, dtype=np.float32),
        orig_sr=orig_sr,
        target_sr=target_sr,
        res_type=res_type,
    ).astype(np.float32)


def trim_silence(
    samples: np.ndarray, *, top_db: float = 25.0, frame_length: int = 256, hop_length: int = 64
) -> np.ndarray:
    """Remove leading and trailing silence quieter than ``top_db`` below the peak
    (:func:`librosa.effects.trim`).

    Raises
    ------
    AudioError
        The clip is silent, or trimming leaves nothing.
    """
    _check_not_silent(samples)
    trimmed, _ = librosa.effects.trim(
        np.asarray(samples, dtype=np.float32),
        top_db=top_db,
        frame_length=frame_length,
        hop_length=hop_length,
    )
    if trimmed.size == 0:
        raise AudioError(
            "trimming left no samples — the clip holds no sound above the silence threshold"
        )
    return trimmed.astype(np.float32)


def pad_or_crop(samples: np.ndarray, length: int) -> np.ndarray:
    """Zero-pad at the end, or crop the end, to exactly ``length`` samples."""
    if length <= 0:
        raise ValueError(f"length must be positive, got {length}")
    samples = np.asarray(samples, dtype=np.float32)
    if samples.shape[0] >= length:
        return samples[:length].copy()
    out = np.zeros(length, dtype=np.float32)
    out[: samples.shape[0]] = samples
    return out


def reduce_noise(samples: np.ndarray, sr: int) -> np.ndarray:
    """Spectral-gating noise reduction with :func:`noisereduce.reduce_noise` at its defaults."""
    import noisereduce  # a second to import (scipy.signal): only the chains that denoise need it

    return np.asarray(
        noisereduce.reduce_noise(y=np.asarray(samples, dtype=np.float32), sr=sr), dtype=np.float32
    )


def preprocess_steps(
    samples: np.ndarray, sr: int, config: AudioConfig
) -> dict[str, tuple[np.ndarray, int]]:
    """Every intermediate signal of the chain of ``config``, in order, starting with ``"raw"``.

    The chain is scale -> resample -> trim -> (denoise) -> pad/crop -> denoise; steps the
    config switches off are absent. :func:`preprocess` returns the last entry.

    Returns
    -------
    dict
        ``{"raw": (samples, sr), "scaled": …, "resampled": …, "trimmed": …, "padded": …,
        "denoised": …}``, each value ``(float32 samples, sample_rate)``.
    """
    check_choice(config.scaling, SCALINGS, "scaling")
    check_choice(config.denoise_rate, DENOISE_RATES, "denoise rate")
    _check_not_silent(samples)
    steps = {"raw": (np.asarray(samples, dtype=np.float32), sr)}
    file_sr = sr
    if config.scaling != "none":
        samples = (
            scale_like_original(samples)
            if config.scaling == "original"
            else peak_normalise(samples)
        )
        steps["scaled"] = samples, sr
    source_sr = config.resample_from or sr
    if config.target_sr and config.target_sr != source_sr:
        n_before = len(samples)
        samples, sr = (
            resample(samples, source_sr, config.target_sr, res_type=config.resample_type),
            config.target_sr,
        )
        if not np.any(samples):  # a clip of a few samples resamples to nothing but zeros
            raise AudioError(
                f"the clip is too short to use: resampling its {n_before} samples "
                f"({1000 * n_before / steps['raw'][1]:.2f} ms) to {sr} Hz leaves only zeros — "
                "remove the file from the corpus"
            )
        steps["resampled"] = samples, sr
    elif config.target_sr:  # told it is already at the target rate: the samples stay as they are
        sr = config.target_sr
    if config.trim:
        samples = trim_silence(
            samples,
            top_db=config.trim_top_db,
            frame_length=config.trim_frame_length,
            hop_length=config.trim_hop_length,
        )
        steps["trimmed"] = samples, sr
    if config.denoise and config.denoise_before_pad:
        samples = reduce_noise(samples, file_sr if config.denoise_rate == "file" else sr)
        steps["denoised"] = samples, sr
    if config.target_length:
        samples = pad_or_crop(samples, config.target_length)
        steps["padded"] = samples, sr
    if config.denoise and not config.denoise_before_pad:
        samples = reduce_noise(samples, file_sr if config.denoise_rate == "file" else sr)
        steps["denoised"] = samples, sr
    return steps


def preprocess(samples: np.ndarray, sr: int, config: AudioConfig) -> tuple[np.ndarray, int]:
    """Apply the chain of ``config``: scale -> resample -> trim -> (denoise) -> pad/crop -> denoise.

    Parameters
    ----------
    samples : np.ndarray, float32 mono, as returned by :func:`read_audio`
    sr : int
        Sample rate of ``samples``.
    config : AudioConfig

    Returns
    -------
    samples : np.ndarray, float32
    sample_rate : int
        ``config.target_sr`` when set, else ``sr``.
    """
    steps = preprocess_steps(samples, sr, config)
    return steps[next(reversed(steps))]


def load_and_preprocess(path: str | Path, config: AudioConfig) -> tuple[np.ndarray, int]:
    """:func:`read_audio` then :func:`preprocess`; every error names ``path``."""
    samples, sr = read_audio(path)
    try:
        return preprocess(samples, sr, config)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
