"""Spectrogram inputs of the deep models: the original's log-power spectrogram and log-mel.

:func:`original_spectrogram` is the original study's input, exactly as it defined it
(its stage 3): a symmetric Hann window of ``int(0.04 * sr)`` samples, hop
``int(0.02 * sr)``, the remainder that does not fill a hop truncated, one-sided |rfft|²
scaled to a power spectral density, bins up to 11 025 Hz kept, natural log of
(power + 1e-14). At 44.1 kHz and 338 368 samples its shape is ``(442, 382)``;
:func:`spectrogram` always computes it at 44.1 kHz, whatever the file's rate, because the
original's function had ``sample_rate=44100`` as a default and was never passed the rate.
It is computed here on a strided view of the signal with one ``rfft`` over all frames;
:func:`original_spectrogram_reference` is the same definition written as a plain loop, kept
as the reference the tests and the benchmark compare against.

:func:`log_mel_spectrogram` is the improved recipe's input (64 mel bands, 512-point FFT,
hop 160 at 16 kHz, in dB). :func:`spectrogram` dispatches on ``config.kind`` and
:func:`spectrogram_shape` tells the output shape without any audio.

Examples
--------
>>> import numpy as np
>>> from ser_utils.config import MSP_IMPROV_ORIGINAL_LENGTH, ORIGINAL_SPECTROGRAM_SAMPLE_RATE
>>> from ser_utils.audio.spectrograms import original_spectrogram
>>> samples = np.random.default_rng(0).standard_normal(MSP_IMPROV_ORIGINAL_LENGTH).astype(np.float32)
>>> original_spectrogram(samples, ORIGINAL_SPECTROGRAM_SAMPLE_RATE).shape
(442, 382)
"""

from __future__ import annotations

import functools

import librosa
import numpy as np

from ..config import ORIGINAL_SPECTROGRAM_SAMPLE_RATE, SpectrogramConfig, check_choice

__all__ = [
    "original_spectrogram",
    "original_spectrogram_reference",
    "log_mel_spectrogram",
    "spectrogram",
    "spectrogram_shape",
    "SPECTROGRAM_KINDS",
]

SPECTROGRAM_KINDS: tuple[str, ...] = ("original", "logmel")
#: log-mel in dB as librosa.power_to_db computes it: floor of the power, dynamic range kept.
LOG_MEL_AMIN = 1e-10
LOG_MEL_TOP_DB = 80.0

_DEFAULT = SpectrogramConfig()


# ----------------------------------------------------------------------- original
def _original_geometry(
    n_samples: int, sr: int, config: SpectrogramConfig
) -> tuple[int, int, int, int]:
    """``(window, hop, n_frames, n_bins)`` of the original spectrogram; validates the input size."""
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    window = int(config.window_seconds * sr)
    hop = int(config.hop_seconds * sr)
    if window < 2 or hop < 1:
        raise ValueError(
            f"window {config.window_seconds} s / hop {config.hop_seconds} s at {sr} Hz give "
            f"{window} / {hop} samples — use a higher sample rate or longer window"
        )
    if n_samples < window:
        raise ValueError(
            f"the clip has {n_samples} samples, fewer than one {window}-sample window "
            f"({config.window_seconds * 1000:g} ms at {sr} Hz) — pad the clip first"
        )
    n_frames = (n_samples - window) // hop + 1
    frequencies = float(sr) / window * np.arange(window // 2 + 1)
    n_bins = int(np.count_nonzero(frequencies <= config.max_frequency))
    return window, hop, n_frames, n_bins


def _check_signal(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise ValueError(f"expected a mono signal of shape (n,), got shape {samples.shape}")
    return samples


def original_spectrogram(
    samples: np.ndarray, sr: int, *, config: SpectrogramConfig = _DEFAULT
) -> np.ndarray:
    """The original study's log power spectrogram.

    Frames of ``window = int(config.window_seconds * sr)`` samples every
    ``hop = int(config.hop_seconds * sr)`` samples (the remainder that does not fill a
    hop is dropped, so ``frames = (n - window) // hop + 1``), weighted by a symmetric Hann
    window ``w`` (:func:`numpy.hanning`); power ``|rfft|²`` scaled by ``2 / (Σw² · sr)``
    (the first and the last FFT bin by ``1 / (Σw² · sr)``, as they have no mirror image);
    bins with frequency ``sr / window · k <= config.max_frequency`` kept;
    ``log(power + config.eps)``.

    All frames go through one ``rfft`` on a strided view of the signal, in float64 (the
    original's precision: float32 arithmetic would lose the quiet bins of real speech).

    Parameters
    ----------
    samples : np.ndarray, shape (n,)
        Mono signal, e.g. the original-preprocessed clip (int16 × 1000 / 32768, padded).
    sr : int
        Its sample rate. The original assumed 44 100 Hz (window 1764, hop 882).
    config : SpectrogramConfig, default SpectrogramConfig()
        ``window_seconds`` (0.040), ``hop_seconds`` (0.020), ``max_frequency`` (11 025 Hz)
        and ``eps`` (1e-14).

    Returns
    -------
    np.ndarray, shape (n_bins, n_frames), float32
        ``(442, 382)`` for 338 368 samples at 44.1 kHz.

    Raises
    ------
    ValueError
        The signal is not 1-D or shorter than one window.

    See Also
    --------
    original_spectrogram_reference : the same definition as a plain loop over frames.
    spectrogram_shape : the output shape without computing anything.

    Examples
    --------
    >>> import numpy as np
    >>> original_spectrogram(np.ones(88_200, dtype=np.float32), 44_100).shape
    (442, 99)
    """
    samples = _check_signal(samples)
    window, hop, n_frames, n_bins = _original_geometry(samples.shape[0], sr, config)
    signal = np.ascontiguousarray(samples[: window + (n_frames - 1) * hop], dtype=np.float64)
    # (frames, window) view without copying; rfft along the last axis for contiguous reads.
    frames = np.lib.stride_tricks.sliding_window_view(signal, window)[::hop]
    weighting = np.hanning(window)
    spectrum = np.fft.rfft(frames * weighting, axis=1)[:, :n_bins]  # only the bins that are kept
    power = spectrum.real**2 + spectrum.imag**2
    scale = np.sum(weighting**2) * sr
    # One-sided density: every bin doubled but the first and the last (Nyquist) of the full rfft.
    factors = np.full(n_bins, 2.0 / scale)
    factors[0] = 1.0 / scale
    if n_bins == window // 2 + 1:
        factors[-1] = 1.0 / scale
    power *= factors
    return np.log(power.T + config.eps).astype(np.float32)


def original_spectrogram_reference(
    samples: np.ndarray, sr: int, *, config: SpectrogramConfig = _DEFAULT
) -> np.ndarray:
    """:func:`original_spectrogram` written as the definition reads: one frame at a time.

    Slow (a Python loop over frames); the reference for tests and benchmarks.

    Parameters
    ----------
    samples, sr, config
        As in :func:`original_spectrogram`.

    Returns
    -------
    np.ndarray, shape (n_bins, n_frames), float32
    """
    samples = _check_signal(samples)
    window, hop, n_frames, _ = _original_geometry(samples.shape[0], sr, config)
    truncate = (samples.shape[0] - window) % hop
    signal = np.asarray(samples[: samples.shape[0] - truncate], dtype=np.float64)
    weighting = np.hanning(window)
    scale = np.sum(weighting**2) * sr
    frequencies = float(sr) / window * np.arange(window // 2 + 1)
    keep = frequencies <= config.max_frequency
    columns = []
    for frame in range(n_frames):
        power = np.abs(np.fft.rfft(signal[frame * hop : frame * hop + window] * weighting)) ** 2
        power[1:-1] = power[1:-1] * 2.0 / scale
        power[0] = power[0] / scale
        power[-1] = power[-1] / scale
        columns.append(np.log(power[keep] + config.eps))
    return np.asarray(columns, dtype=np.float64).T.astype(np.float32)


# ------------------------------------------------------------------------ log-mel
@functools.lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels).astype(np.float64)


def log_mel_spectrogram(
    samples: np.ndarray, sr: int, *, config: SpectrogramConfig = _DEFAULT
) -> np.ndarray:
    """Log-mel spectrogram in dB: the improved recipe's input.

    What :func:`librosa.feature.melspectrogram` computes at its defaults (centred frames
    zero-padded by ``n_fft // 2``, periodic Hann window, power 2, Slaney mel filters) with
    ``config.n_fft`` (512), ``config.mel_hop_length`` (160) and ``config.n_mels`` (64),
    then :func:`librosa.power_to_db` (reference 1, floor 1e-10, at most 80 dB below the
    clip's loudest bin), so padding silence does not dominate the value range. Frames go
    through one FFT and one matrix product with the (cached) mel filter bank.

    Parameters
    ----------
    samples : np.ndarray, shape (n,)
    sr : int
        Sample rate; the improved recipe resamples to 16 kHz (10 ms hop).
    config : SpectrogramConfig, default SpectrogramConfig()

    Returns
    -------
    np.ndarray, shape (n_mels, 1 + n // mel_hop_length), float32
        ``(64, 601)`` for 6 s at 16 kHz.

    Examples
    --------
    >>> import numpy as np
    >>> log_mel_spectrogram(np.ones(32_000, dtype=np.float32), 16_000).shape
    (64, 201)
    """
    samples = _check_signal(samples)
    n_fft, hop = int(config.n_fft), int(config.mel_hop_length)
    padded = np.pad(np.asarray(samples, dtype=np.float64), n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]  # (1 + n // hop, n_fft)
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as librosa's "hann"
    spectrum = np.fft.rfft(frames * window, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    mel = _mel_basis(int(sr), n_fft, int(config.n_mels)) @ power.T
    return librosa.power_to_db(mel, ref=1.0, amin=LOG_MEL_AMIN, top_db=LOG_MEL_TOP_DB).astype(
        np.float32
    )


# ------------------------------------------------------------------------ dispatch
def _check_kind(config: SpectrogramConfig) -> str:
    return check_choice(config.kind, SPECTROGRAM_KINDS, "spectrogram kind")


def spectrogram(samples: np.ndarray, sr: int, config: SpectrogramConfig = _DEFAULT) -> np.ndarray:
    """The spectrogram ``config.kind`` names: ``"original"`` (:func:`original_spectrogram`) or
    ``"logmel"`` (:func:`log_mel_spectrogram` at ``sr``).

    The original spectrogram is computed at :data:`~ser_utils.config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE`
    (44.1 kHz: window 1764, hop 882, 442 bins) **whatever** ``sr`` is, as the original did:
    a 48 kHz clip of 338 368 samples still gives ``(442, 382)``.

    Returns
    -------
    np.ndarray, shape :func:`spectrogram_shape`, float32
    """
    if _check_kind(config) == "original":
        # The original's function defaulted to 44.1 kHz and was never passed the file's rate.
        return original_spectrogram(samples, ORIGINAL_SPECTROGRAM_SAMPLE_RATE, config=config)
    return log_mel_spectrogram(samples, sr, config=config)


def spectrogram_shape(
    n_samples: int, sr: int, config: SpectrogramConfig = _DEFAULT
) -> tuple[int, int]:
    """``(frequency bins, frames)`` of :func:`spectrogram` for a clip of ``n_samples``, without audio.

    Examples
    --------
    >>> from ser_utils.config import SpectrogramConfig
    >>> spectrogram_shape(338_368, 44_100)
    (442, 382)
    >>> spectrogram_shape(338_368, 48_000)  # the original spectrogram assumes 44.1 kHz, as the original
    (442, 382)
    >>> spectrogram_shape(96_000, 16_000, SpectrogramConfig(kind="logmel"))
    (64, 601)
    """
    if _check_kind(config) == "original":  # 44.1 kHz whatever ``sr``, as :func:`spectrogram`
        _, _, n_frames, n_bins = _original_geometry(
            int(n_samples), ORIGINAL_SPECTROGRAM_SAMPLE_RATE, config
        )
        return n_bins, n_frames
    return int(config.n_mels), 1 + int(n_samples) // int(config.mel_hop_length)
