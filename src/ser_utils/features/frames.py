"""The original study's 34 frame features — MFCC (20), chroma_stft (12), RMS (1), zero-crossing
rate (1) — computed like the four plain librosa calls of the original but faster; frame counts,
padding, flattening and column names.
"""

from __future__ import annotations

import functools

import librosa
import numpy as np

from ..config import FrameFeatureConfig, check_choice

_CHROMA_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def n_frames(n_samples: int, *, hop_length: int) -> int:
    """Number of centred frames librosa gives for ``n_samples`` samples: ``1 + n_samples // hop_length``.

    >>> n_frames(338_368, hop_length=544), n_frames(145_180, hop_length=610)
    (623, 239)
    """
    return 1 + int(n_samples) // int(hop_length)


def _nonzero_end(samples: np.ndarray) -> int:
    """Index after the last non-zero sample (0 when all are zero)."""
    nonzero = np.asarray(samples) != 0
    return len(nonzero) - int(np.argmax(nonzero[::-1])) if nonzero.any() else 0


def n_active_frames(samples: np.ndarray, *, hop_length: int, n_fft: int = 2048) -> int:
    """Number of leading centred frames whose window touches a non-zero sample.

    Frame ``t`` covers samples ``[t·hop − n_fft/2, t·hop + n_fft/2)``; every later frame of a
    zero-padded clip sees only zeros (the padding). 0 for an all-zero clip.
    """
    end = _nonzero_end(samples)
    if end == 0:
        return 0
    active = -(-(end + n_fft // 2) // hop_length)  # ceil
    return min(active, n_frames(len(samples), hop_length=hop_length))


def strip_padding(samples: np.ndarray) -> np.ndarray:
    """``samples`` without trailing exact zeros (the padding of the original chain); one sample if all are zero."""
    return np.asarray(samples)[: max(_nonzero_end(samples), 1)]


def as_float_audio(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError(f"expected mono samples of shape (n,), got shape {samples.shape}")
    return samples if np.issubdtype(samples.dtype, np.floating) else samples.astype(np.float32)


def frame_features(
    samples: np.ndarray,
    sr: int,
    *,
    config: FrameFeatureConfig = FrameFeatureConfig(),
    flatten: bool = False,
) -> np.ndarray:
    """The original study's 34 frame features: MFCC (20), chroma_stft (12), RMS, ZCR.

    The result equals (up to float rounding, ≤ 1e-4) the four plain librosa calls of the
    original, stacked::

        librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=h)
        librosa.feature.chroma_stft(y=y, sr=sr, hop_length=h)
        librosa.feature.rms(y=y, hop_length=h)
        librosa.feature.zero_crossing_rate(y, hop_length=h)

    with ``n_fft`` 2048, a Hann window and centred, zero-padded frames — but one STFT is
    shared by MFCC and chroma (same tuning estimate), and only the frames that touch
    non-zero samples are computed: the frames of trailing zero padding get the values
    librosa computes for a silent frame.

    Parameters
    ----------
    samples : np.ndarray, shape (n,)
        Mono audio (float; as returned by :func:`ser_utils.audio.preprocess`).
    sr : int
        Sample rate of ``samples``; ``config.sr``, when set, is what mfcc and chroma are told instead.
    config : FrameFeatureConfig
        ``hop_length`` (544 MSP-IMPROV, 610 TESS in the original recipe), ``n_mfcc`` (20),
        ``n_chroma`` (12), ``n_fft`` (2048, also the RMS and ZCR frame length), ``sr``,
        ``flatten_order``.
    flatten : bool
        Return the classifier input, ``(34 · frames,)`` in ``config.flatten_order``, see
        :func:`flatten_frames`.

    Returns
    -------
    np.ndarray, shape (frames, 34) — or (34 · frames,) when ``flatten`` — float32
        ``frames = 1 + n // hop_length``; columns in the order of :func:`frame_feature_names`.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.zeros(338_368, dtype=np.float32)
    >>> y[:44_100] = np.sin(np.arange(44_100) / 10)
    >>> frame_features(y, 44_100).shape
    (623, 34)
    """
    y = as_float_audio(samples)
    sr = int(config.sr or sr)
    hop, n_fft = int(config.hop_length), int(config.n_fft)
    total = n_frames(len(y), hop_length=hop)
    active = n_active_frames(y, hop_length=hop, n_fft=n_fft)
    # Computing on y[:cut] gives the same first frames: samples past ``cut`` are zeros in y and
    # padding in y[:cut]; y[cut - 1] == 0 too, so ZCR's edge padding also sees zeros.
    nonzero_end = _nonzero_end(y) if active else len(y)
    cut = min(len(y), max(nonzero_end + 1, (active - 1) * hop))
    part = y[:cut]
    computed = n_frames(len(part), hop_length=hop)
    silent = total - computed

    power = np.abs(librosa.stft(part, n_fft=n_fft, hop_length=hop)) ** 2
    if (
        silent
    ):  # one all-zero column stands for every silent frame (also in power_to_db's top_db max)
        power = np.concatenate([power, np.zeros((power.shape[0], 1), dtype=power.dtype)], axis=1)
    log_mel = librosa.power_to_db(_mel_basis(sr, n_fft) @ power)
    mfcc = librosa.feature.mfcc(S=log_mel, sr=sr, n_mfcc=config.n_mfcc)
    tuning = _estimate_tuning(power, sr, n_fft=n_fft, bins_per_octave=config.n_chroma)
    chroma = librosa.util.normalize(
        _chroma_basis(sr, n_fft, config.n_chroma, tuning) @ power, norm=np.inf, axis=-2
    )
    rms = librosa.feature.rms(y=part, frame_length=n_fft, hop_length=hop)
    zcr = _zero_crossing_rate(part, frame_length=n_fft, hop_length=hop)
    if silent:
        zeros = np.zeros(n_fft, dtype=y.dtype)
        rms = np.concatenate(
            [rms, librosa.feature.rms(y=zeros, frame_length=n_fft, hop_length=hop, center=False)],
            axis=1,
        )
        zcr = np.concatenate(
            [
                zcr,
                librosa.feature.zero_crossing_rate(
                    zeros, frame_length=n_fft, hop_length=hop, center=False
                ),
            ],
            axis=1,
        )
    stacked = np.vstack([mfcc, chroma, rms, zcr])  # (34, computed [+ 1 silent])
    if silent:
        stacked = np.concatenate(
            [stacked[:, :computed], np.repeat(stacked[:, computed:], silent, axis=1)], axis=1
        )
    frames = np.ascontiguousarray(stacked.T, dtype=np.float32)
    return flatten_frames(frames, order=config.flatten_order) if flatten else frames


# ------------------------------------------------- librosa's numbers, computed faster
# Each helper gives what the named librosa function gives inside mfcc/chroma_stft/zero_crossing_rate
# (tests compare them); only the work that cannot change the result is skipped.
@functools.lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int = 128) -> np.ndarray:
    """``librosa.filters.mel`` as ``melspectrogram`` builds it, made once per (sr, n_fft). Kept dense:
    the same BLAS product as librosa's einsum rounds alike (a sparse product differs by ~1e-4 in MFCC)."""
    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)


@functools.lru_cache(maxsize=256)
def _chroma_basis(sr: int, n_fft: int, n_chroma: int, tuning: float) -> np.ndarray:
    """``librosa.filters.chroma`` for one tuning (estimates fall on a 0.01 grid, so few differ)."""
    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma)


def _estimate_tuning(
    power: np.ndarray,
    sr: int,
    *,
    n_fft: int,
    bins_per_octave: int = 12,
    fmin: float = 150.0,
    fmax: float = 4000.0,
    threshold: float = 0.1,
) -> float:
    """``librosa.estimate_tuning(S=power, sr=sr, bins_per_octave=...)`` with piptrack's peak picking
    done only on the bins between ``fmin`` and ``fmax`` (the only ones piptrack keeps) instead
    of all 1025, with the same float32 arithmetic."""
    # its import compiles numba kernels: only when tuning is estimated, after the parent process
    # compiled them (audio.kernels); the lazy loader does not expose it as an attribute by itself
    import librosa.core.pitch

    interpolate = getattr(librosa.core.pitch, "_parabolic_interpolation", None)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    band = np.flatnonzero((max(fmin, 0) <= freqs) & (freqs < min(fmax, sr / 2)))
    if interpolate is None or band.size == 0 or band[0] == 0 or band[-1] + 1 >= len(freqs):
        return float(
            librosa.estimate_tuning(S=power, sr=sr, n_fft=n_fft, bins_per_octave=bins_per_octave)
        )
    lo, hi = int(band[0]), int(band[-1]) + 1
    ref_value = threshold * np.max(power, axis=-2, keepdims=True)
    part = power[
        lo - 1 : hi + 1
    ]  # one neighbour each side: gradient, interpolation and local max are exact
    average = np.gradient(part, axis=-2)[1:-1]
    shift = interpolate(part, axis=-2)[1:-1]
    peaks = librosa.util.localmax(part * (part > ref_value), axis=-2)[1:-1]
    rows, cols = np.nonzero(peaks)
    bins = rows + lo
    pitches = np.zeros(rows.size, dtype=power.dtype)
    pitches[:] = (bins + shift[rows, cols]) * float(sr) / n_fft
    dskew = 0.5 * average[rows, cols] * shift[rows, cols]
    mags = power[lo:hi][rows, cols] + dskew
    mask = pitches > 0
    cutoff = np.median(mags[mask]) if mask.any() else 0.0
    return float(
        librosa.pitch_tuning(
            pitches[(mags >= cutoff) & mask], resolution=0.01, bins_per_octave=bins_per_octave
        )
    )


def _zero_crossing_rate(
    samples: np.ndarray, *, frame_length: int, hop_length: int, threshold: float = 1e-10
) -> np.ndarray:
    """``librosa.feature.zero_crossing_rate(samples, frame_length=..., hop_length=...)`` (centred,
    edge padding, |x| <= 1e-10 counts as 0, 0 as positive), from one cumulative sum of the
    crossings instead of a (frame_length × frames) framed copy."""
    half = frame_length // 2
    padded = np.pad(samples, (half, half), mode="edge")
    negative = padded < -samples.dtype.type(threshold)
    crossings = np.concatenate([[0], np.cumsum(negative[1:] != negative[:-1])])
    starts = np.arange(n_frames(len(samples), hop_length=hop_length)) * hop_length
    counts = crossings[starts + frame_length - 1] - crossings[starts]
    return (counts / frame_length)[np.newaxis, :]


FLATTEN_ORDERS = ("feature", "frame")


def flatten_frames(frames: np.ndarray, *, order: str = "feature") -> np.ndarray:
    """(frames, 34) -> (34 · frames,): ``"feature"``-major (every frame of MFCC 1, then of MFCC 2,
    …) or ``"frame"``-major (the 34 features of frame 0, then of frame 1, …: the original's
    ``swapaxes(…, 1, 2)`` then ``reshape(len(X), frames * 34)``).

    >>> frames = np.array([[1, 2], [3, 4], [5, 6]])  # 3 frames × 2 features
    >>> flatten_frames(frames).tolist(), flatten_frames(frames, order="frame").tolist()
    ([1, 3, 5, 2, 4, 6], [1, 2, 3, 4, 5, 6])
    """
    check_choice(order, FLATTEN_ORDERS, "flatten order")
    frames = np.asarray(frames)
    return (np.ascontiguousarray(frames.T) if order == "feature" else frames).reshape(-1)


def frame_feature_names(config: FrameFeatureConfig = FrameFeatureConfig()) -> list[str]:
    """Names of the 34 columns of :func:`frame_features`: ``mfcc_01``…, ``chroma_C``…, ``rms``, ``zcr``."""
    chroma = (
        list(_CHROMA_NAMES)
        if config.n_chroma == 12
        else [f"{i:02d}" for i in range(1, config.n_chroma + 1)]
    )
    return (
        [f"mfcc_{i:02d}" for i in range(1, config.n_mfcc + 1)]
        + [f"chroma_{c}" for c in chroma]
        + ["rms", "zcr"]
    )
