"""Features of the traditional models, computed once per file and cached on disk.

Three feature sets (:data:`FEATURE_SETS`):

``seed``
    The original study's 34 frame features — MFCC (20), chroma_stft (12), RMS (1) and
    zero-crossing rate (1) — over every frame of the padded clip, flattened to one
    vector per clip (623 × 34 = 21 182 values for MSP-IMPROV, 239 × 34 = 8126 for TESS).
``functionals``
    A compact alternative: 9 statistics of each of the 34 frame features over the frames
    that are not padding (34 × 9 = 306 values).
``egemaps``
    The 88 eGeMAPSv02 functionals of openSMILE, the standard SER baseline set.

:func:`frame_features` gives the same numbers as the original's four plain librosa calls
(``librosa.feature.mfcc``, ``chroma_stft``, ``rms``, ``zero_crossing_rate`` with the hop
of the recipe) but computes one STFT for MFCC and chroma, and only the frames that touch
non-zero samples: the trailing frames of a zero-padded clip are filled with the values
librosa gives for a silent frame.

:func:`extract_features` runs the audio chain and a feature function over a manifest in
parallel, caching each (file, parameters) result as one small ``.npy`` under
``outputs/features/<set>/``; the cache key hashes every parameter and the file's identity
(absolute path, size, modification time), so a changed file or parameter is recomputed.

Examples
--------
>>> from ser_utils import config, features
>>> recipe = config.original_recipe("msp-improv")
>>> X = features.extract_features(manifest, "frames", recipe=recipe)  # doctest: +SKIP
>>> X.shape  # doctest: +SKIP
(1272, 21182)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ..audio import common_sample_rate
from .. import evaluation
from ..config import AudioConfig, FrameFeatureConfig, Recipe, output_dir
from ..errors import AudioError, SerError
from ..spectrograms import log_mel_spectrogram, original_spectrogram  # noqa: F401 -- re-exported
from ..storage import atomic_path, file_identity, read_json, write_csv, write_json

__all__ = [
    "FEATURE_SETS", "FUNCTIONALS", "CACHE_VERSION", "frame_features", "flatten_frames", "frame_feature_names",
    "n_frames", "n_active_frames", "strip_padding", "functionals", "functional_names", "egemaps", "egemaps_names",
    "feature_vector", "feature_names", "extract_features", "extract_feature_sets", "ExtractionInfo",
    "PreloadedAudio", "cache_key", "cache_path", "save_features", "load_features",
    "read_description", "features_path", "load_or_extract", "select_rows", "original_spectrogram",
    "log_mel_spectrogram",
]

log = logging.getLogger(__name__)

FEATURE_SETS: tuple[str, ...] = ("frames", "functionals", "egemaps")
#: Statistics of :func:`functionals`, in output order.
FUNCTIONALS: tuple[str, ...] = ("mean", "std", "min", "max", "p10", "p50", "p90", "delta_mean", "delta_std")
#: Bumped whenever a feature function changes its numbers, so old cache entries are never reused.
CACHE_VERSION = 1
_CHROMA_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: Libraries whose version changes the numbers of a feature set (the audio chain's for all).
_AUDIO_LIBRARIES = ("numpy", "scipy", "librosa", "soundfile", "soxr", "noisereduce")
_SET_LIBRARIES = {"full": (), "functionals": (), "egemaps": ("opensmile",)}


# --------------------------------------------------------------------------- frames
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


def _as_float_audio(samples: np.ndarray) -> np.ndarray:
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.size == 0:
        raise ValueError(f"expected mono samples of shape (n,), got shape {samples.shape}")
    return samples if np.issubdtype(samples.dtype, np.floating) else samples.astype(np.float32)


def frame_features(samples: np.ndarray, sr: int, *, config: FrameFeatureConfig = FrameFeatureConfig(),
                   flatten: bool = False) -> np.ndarray:
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
        Sample rate of ``samples``.
    config : FrameFeatureConfig
        ``hop_length`` (544 MSP-IMPROV, 610 TESS in the original recipe), ``n_mfcc`` (20),
        ``n_chroma`` (12), ``n_fft`` (2048, also the RMS and ZCR frame length).
    flatten : bool
        Return the classifier input of the original, ``(34 · frames,)``, see
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
    import librosa

    y = _as_float_audio(samples)
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
    if silent:  # one all-zero column stands for every silent frame (also in power_to_db's top_db max)
        power = np.concatenate([power, np.zeros((power.shape[0], 1), dtype=power.dtype)], axis=1)
    log_mel = librosa.power_to_db(_mel_basis(sr, n_fft) @ power)
    mfcc = librosa.feature.mfcc(S=log_mel, sr=sr, n_mfcc=config.n_mfcc)
    tuning = _estimate_tuning(power, sr, n_fft=n_fft, bins_per_octave=config.n_chroma)
    chroma = librosa.util.normalize(_chroma_basis(sr, n_fft, config.n_chroma, tuning) @ power, norm=np.inf, axis=-2)
    rms = librosa.feature.rms(y=part, frame_length=n_fft, hop_length=hop)
    zcr = _zero_crossing_rate(part, frame_length=n_fft, hop_length=hop)
    if silent:
        zeros = np.zeros(n_fft, dtype=y.dtype)
        rms = np.concatenate([rms, librosa.feature.rms(y=zeros, frame_length=n_fft, hop_length=hop,
                                                       center=False)], axis=1)
        zcr = np.concatenate([zcr, librosa.feature.zero_crossing_rate(zeros, frame_length=n_fft,
                                                                      hop_length=hop, center=False)], axis=1)
    stacked = np.vstack([mfcc, chroma, rms, zcr])  # (34, computed [+ 1 silent])
    if silent:
        stacked = np.concatenate([stacked[:, :computed], np.repeat(stacked[:, computed:], silent, axis=1)], axis=1)
    frames = np.ascontiguousarray(stacked.T, dtype=np.float32)
    return flatten_frames(frames) if flatten else frames


# ------------------------------------------------- librosa's numbers, computed faster
# Each helper gives what the named librosa function gives inside mfcc/chroma_stft/zero_crossing_rate
# (tests compare them); only the work that cannot change the result is skipped.
@functools.lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int = 128) -> np.ndarray:
    """``librosa.filters.mel`` as ``melspectrogram`` builds it, made once per (sr, n_fft). Kept dense:
    the same BLAS product as librosa's einsum rounds alike (a sparse product differs by ~1e-4 in MFCC)."""
    import librosa

    return librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)


@functools.lru_cache(maxsize=256)
def _chroma_basis(sr: int, n_fft: int, n_chroma: int, tuning: float) -> np.ndarray:
    """``librosa.filters.chroma`` for one tuning (estimates fall on a 0.01 grid, so few differ)."""
    import librosa

    return librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma)


def _estimate_tuning(power: np.ndarray, sr: int, *, n_fft: int, bins_per_octave: int = 12,
                     fmin: float = 150.0, fmax: float = 4000.0, threshold: float = 0.1) -> float:
    """``librosa.estimate_tuning(S=power, sr=sr, bins_per_octave=...)`` with piptrack's peak picking
    done only on the bins between ``fmin`` and ``fmax`` (the only ones piptrack keeps) instead
    of all 1025, with the same float32 arithmetic."""
    import librosa
    import librosa.core.pitch  # a submodule the lazy loader does not expose as an attribute by itself

    interpolate = getattr(librosa.core.pitch, "_parabolic_interpolation", None)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    band = np.flatnonzero((max(fmin, 0) <= freqs) & (freqs < min(fmax, sr / 2)))
    if interpolate is None or band.size == 0 or band[0] == 0 or band[-1] + 1 >= len(freqs):
        return float(librosa.estimate_tuning(S=power, sr=sr, n_fft=n_fft, bins_per_octave=bins_per_octave))
    lo, hi = int(band[0]), int(band[-1]) + 1
    ref_value = threshold * np.max(power, axis=-2, keepdims=True)
    part = power[lo - 1: hi + 1]  # one neighbour each side: gradient, interpolation and local max are exact
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
    return float(librosa.pitch_tuning(pitches[(mags >= cutoff) & mask], resolution=0.01,
                                      bins_per_octave=bins_per_octave))


def _zero_crossing_rate(samples: np.ndarray, *, frame_length: int, hop_length: int,
                        threshold: float = 1e-10) -> np.ndarray:
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


def flatten_frames(frames: np.ndarray) -> np.ndarray:
    """(frames, 34) -> (34 · frames,), feature-major: the original's ``vstack(...).flatten()``
    of its (34, frames) matrix (all MFCC 1 frames first, then MFCC 2, …)."""
    return np.ascontiguousarray(np.asarray(frames).T).reshape(-1)


def frame_feature_names(config: FrameFeatureConfig = FrameFeatureConfig()) -> list[str]:
    """Names of the 34 columns of :func:`frame_features`: ``mfcc_01``…, ``chroma_C``…, ``rms``, ``zcr``."""
    chroma = list(_CHROMA_NAMES) if config.n_chroma == 12 else [f"{i:02d}" for i in range(1, config.n_chroma + 1)]
    return ([f"mfcc_{i:02d}" for i in range(1, config.n_mfcc + 1)] + [f"chroma_{c}" for c in chroma]
            + ["rms", "zcr"])


# ---------------------------------------------------------------------- functionals
def functionals(frames: np.ndarray, *, n_valid: int | None = None) -> np.ndarray:
    """Utterance-level statistics of frame features, over the frames that are not padding.

    Parameters
    ----------
    frames : np.ndarray, shape (frames, d)
        E.g. :func:`frame_features` (d = 34).
    n_valid : int, optional
        Number of leading frames that are speech (see :func:`n_active_frames`). By default
        the trailing frames identical to a silent frame (RMS column exactly 0, as
        :func:`frame_features` gives for zero padding) are dropped.

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
    stats = [frames.mean(0), frames.std(0), frames.min(0), frames.max(0), p10, p50, p90,
             deltas.mean(0), deltas.std(0)]
    return np.stack(stats, axis=1).reshape(-1).astype(np.float32)


def functional_names(names: Sequence[str] | None = None) -> list[str]:
    """Names of :func:`functionals` of the columns ``names`` (default :func:`frame_feature_names`):
    ``mfcc_01_mean``, ``mfcc_01_std``, …"""
    names = frame_feature_names() if names is None else list(names)
    return [f"{name}_{stat}" for name in names for stat in FUNCTIONALS]


# -------------------------------------------------------------------------- eGeMAPS
@functools.lru_cache(maxsize=1)
def _smile():
    try:
        import opensmile
    except ImportError:
        raise SerError("eGeMAPS features need openSMILE — pip install opensmile (or ser-utils[egemaps])") from None
    return opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                           feature_level=opensmile.FeatureLevel.Functionals)


def egemaps(samples: np.ndarray, sr: int) -> np.ndarray:
    """The 88 eGeMAPSv02 functionals of openSMILE (works offline; configs ship with the package).

    Returns
    -------
    np.ndarray, shape (88,), float32 — in the order of :func:`egemaps_names`.
    """
    samples = _as_float_audio(samples).astype(np.float32, copy=False)
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


@functools.lru_cache(maxsize=1)
def _spawned_worker():
    import concurrent.futures
    import multiprocessing

    # "spawn": a fresh interpreter that has not loaded TensorFlow (a fork would inherit it).
    return concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def egemaps_names() -> list[str]:
    """Names of the 88 eGeMAPSv02 functionals (``F0semitoneFrom27.5Hz_sma3nz_amean``, …)."""
    return _outside_tensorflow(_egemaps_feature_names)


# --------------------------------------------------------------------- feature sets
def _check_feature_set(feature_set: str) -> str:
    if feature_set not in FEATURE_SETS:
        raise SerError(f"unknown feature set {feature_set!r} — choose one of {', '.join(FEATURE_SETS)}")
    return feature_set


def feature_vector(samples: np.ndarray, sr: int, feature_set: str, *,
                   config: FrameFeatureConfig = FrameFeatureConfig()) -> np.ndarray:
    """One clip's vector of ``feature_set`` (``seed`` | ``functionals`` | ``egemaps``), float32.

    ``seed``: :func:`frame_features` flattened; ``functionals``: :func:`functionals` of the
    frames before the padding; ``egemaps``: :func:`egemaps` of the clip without its padding.
    """
    _check_feature_set(feature_set)
    if feature_set == "frames":
        return frame_features(samples, sr, config=config, flatten=True)
    if feature_set == "functionals":
        valid = n_active_frames(samples, hop_length=config.hop_length, n_fft=config.n_fft)
        return functionals(frame_features(samples, sr, config=config), n_valid=valid)
    return egemaps(strip_padding(samples), sr)


def feature_names(feature_set: str, *, config: FrameFeatureConfig = FrameFeatureConfig(),
                  n_samples: int | None = None) -> list[str]:
    """Column names of ``feature_set``; ``seed`` needs the clip length ``n_samples``
    (names ``mfcc_01@0``, ``mfcc_01@1``, …, feature-major like :func:`flatten_frames`)."""
    _check_feature_set(feature_set)
    if feature_set == "frames":
        if n_samples is None:
            raise ValueError("seed feature names need n_samples (the padded clip length)")
        count = n_frames(n_samples, hop_length=config.hop_length)
        return [f"{name}@{t}" for name in frame_feature_names(config) for t in range(count)]
    if feature_set == "functionals":
        return functional_names(frame_feature_names(config))
    return egemaps_names()


# -------------------------------------------------------------------------- caching
def _versions(feature_set: str) -> dict[str, str]:
    versions = {}
    for package in (*_AUDIO_LIBRARIES, *_SET_LIBRARIES[feature_set]):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def _parameters(feature_set: str, frame_config: FrameFeatureConfig, audio_config: AudioConfig) -> dict:
    parameters = {"cache_version": CACHE_VERSION, "feature_set": feature_set,
                  "audio": dataclasses.asdict(audio_config), "versions": _versions(feature_set)}
    if feature_set != "egemaps":  # eGeMAPS does not read the frame configuration
        parameters["frames"] = dataclasses.asdict(frame_config)
    return parameters


def cache_key(path: str | Path, feature_set: str, *, frame_config: FrameFeatureConfig,
              audio_config: AudioConfig, _parameters_json: str | None = None) -> str:
    """SHA-256 of every parameter of the result (feature set, frame and audio configuration,
    library versions, :data:`CACHE_VERSION`) and of the file's identity (absolute path, size,
    modification time in ns): a changed file or parameter never hits an old entry."""
    _check_feature_set(feature_set)
    parameters = _parameters_json or json.dumps(_parameters(feature_set, frame_config, audio_config), sort_keys=True)
    identity = json.dumps(file_identity(path), sort_keys=True)
    return hashlib.sha256(f"{parameters}\n{identity}".encode()).hexdigest()


def _slot_path(cache_dir: Path, feature_set: str, parameters_json: str, path: str | Path) -> Path:
    """``<cache_dir>/<set>/files/<xx>/<hash>.key``: the key of the entry last computed for this
    file (resolved path) with these parameters, to tell a changed file from a new one."""
    slot = hashlib.sha256(f"{parameters_json}\n{Path(path).resolve()}".encode()).hexdigest()
    return cache_dir / feature_set / "files" / slot[:2] / f"{slot}.key"


def _previous_key(slot: Path, key: str) -> str | None:
    """The key of the entry an earlier version of the file left (when it differs from ``key``), or None."""
    try:
        previous = slot.read_text().strip()
    except OSError:
        return None
    return previous if previous and previous != key else None


def cache_path(cache_dir: str | Path, feature_set: str, key: str) -> Path:
    """``<cache_dir>/<set>/<key[:2]>/<key>.npy``."""
    return Path(cache_dir) / feature_set / key[:2] / f"{key}.npy"


def _read_cached(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # unreadable entry (e.g. a damaged disk): recompute it
        log.warning("unreadable cache entry %s: recomputing", path)
        return None


def _write_cached(path: Path, vector: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.save(handle, vector, allow_pickle=False)


def _write_slot(slot: Path, key: str) -> None:
    with atomic_path(slot) as tmp:
        tmp.write_text(key + "\n")


class PreloadedAudio:
    """An ``audio_loader`` for :func:`extract_features` over clips already preprocessed.

    ``arrays[i]`` (e.g. a memory-mapped ``.npy`` of shape (N, n)) must be what
    ``audio.load_and_preprocess(paths[i], recipe.audio)`` returns — the cache key still
    names the file and the recipe, so entries stay interchangeable with a normal run.
    """

    def __init__(self, arrays: np.ndarray, sr: int, paths: Sequence[str | Path]):
        if len(arrays) != len(paths):
            raise ValueError(f"{len(arrays)} arrays for {len(paths)} paths")
        self.arrays, self.sr = arrays, int(sr)
        self.index = {str(Path(p)): i for i, p in enumerate(paths)}

    def __call__(self, path: str | Path) -> tuple[np.ndarray, int]:
        return np.asarray(self.arrays[self.index[str(Path(path))]]), self.sr


def _vectors(samples: np.ndarray, sr: int, feature_sets: Sequence[str],
             frame_config: FrameFeatureConfig) -> dict[str, np.ndarray]:
    """:func:`feature_vector` of several sets, computing the frame features once for seed + functionals."""
    if "frames" in feature_sets and "functionals" in feature_sets:
        frames = frame_features(samples, sr, config=frame_config)
        valid = n_active_frames(samples, hop_length=frame_config.hop_length, n_fft=frame_config.n_fft)
        shared = {"frames": flatten_frames(frames), "functionals": functionals(frames, n_valid=valid)}
    else:
        shared = {}
    return {name: shared[name] if name in shared else feature_vector(samples, sr, name, config=frame_config)
            for name in feature_sets}


def _compute(path: str, targets: dict[str, Path], frame_config: FrameFeatureConfig, audio_config: AudioConfig,
             audio_loader: Callable | None) -> dict[str, np.ndarray]:
    """Load and preprocess one file once, compute the feature sets of ``targets`` and write their
    cache entries (runs in the joblib workers)."""
    from .. import audio

    if audio_loader is None:
        samples, sr = audio.load_and_preprocess(path, audio_config)
    else:
        samples, sr = audio_loader(path)
    try:
        vectors = _vectors(samples, sr, list(targets), frame_config)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
    except Exception as exc:
        exc.add_note(f"while computing {', '.join(targets)} features of {path}")
        raise
    for name, vector in vectors.items():
        vectors[name] = np.asarray(vector, dtype=np.float32)
        _write_cached(targets[name], vectors[name])
    return vectors


@dataclass(frozen=True)
class ExtractionInfo:
    """What an extraction did, per feature set: cache hits, files computed, seconds, cache folder,
    and how many of the files computed had changed since an earlier entry was cached."""

    feature_set: str
    n_files: int
    hits: int
    misses: int
    seconds: float
    cache_dir: Path
    changed: int = 0


def _paths(manifest: pd.DataFrame | Sequence[str | Path]) -> list[str]:
    if isinstance(manifest, pd.DataFrame):
        if "path" not in manifest.columns:
            raise SerError("the manifest has no 'path' column — build it with ser_utils.corpora.load_corpus "
                           "or `ser data manifest`")
        return [str(p) for p in manifest["path"]]
    return [str(p) for p in manifest]


def extract_feature_sets(manifest: pd.DataFrame | Sequence[str | Path], feature_sets: Sequence[str], *,
                         recipe: Recipe, n_jobs: int = -1, cache_dir: str | Path | None = None,
                         progress: bool = True, audio_loader: Callable[[str], tuple[np.ndarray, int]] | None = None,
                         ) -> tuple[dict[str, np.ndarray], dict[str, ExtractionInfo]]:
    """Like :func:`extract_features` for several feature sets at once: each file is read and
    preprocessed once for all the sets it misses.

    Returns
    -------
    matrices : dict set -> np.ndarray (N, D_set), float32, in manifest order
    infos : dict set -> ExtractionInfo
    """
    import joblib
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    feature_sets = [_check_feature_set(name) for name in dict.fromkeys(feature_sets)]
    start = time.perf_counter()
    paths = _paths(manifest)
    cache_dir = Path(cache_dir) if cache_dir is not None else output_dir() / "features"
    targets: dict[str, list[Path]] = {}
    vectors: dict[str, list[np.ndarray | None]] = {}
    if isinstance(manifest, pd.DataFrame) and "sample_rate" in manifest.columns:
        common_sample_rate(manifest["sample_rate"], recipe.audio)  # the same refusal as the arrays
    slots: dict[str, list[Path]] = {}
    for name in feature_sets:
        parameters = json.dumps(_parameters(name, recipe.features, recipe.audio), sort_keys=True)
        targets[name] = [cache_path(cache_dir, name, cache_key(p, name, frame_config=recipe.features,
                                                               audio_config=recipe.audio,
                                                               _parameters_json=parameters)) for p in paths]
        slots[name] = [_slot_path(cache_dir, name, parameters, p) for p in paths]
        vectors[name] = [_read_cached(t) for t in targets[name]]
    todo = {i: {name: targets[name][i] for name in feature_sets if vectors[name][i] is None}
            for i in range(len(paths))}
    todo = {i: wanted for i, wanted in todo.items() if wanted}
    # A miss whose file had an entry under another identity is a changed file: counted, and its
    # old entry removed so the cache does not grow with every edit.
    changed = {name: 0 for name in feature_sets}
    for i, wanted in todo.items():
        for name, target in wanted.items():
            previous = _previous_key(slots[name][i], target.stem)
            if previous is not None:
                changed[name] += 1
                cache_path(cache_dir, name, previous).unlink(missing_ok=True)
    if any(changed.values()):
        log.warning("%s: %s file(s) changed since their features were cached — computing them again",
                    cache_dir, max(changed.values()))
    log.info("%s features of %d files under %s: %d files to compute", "+".join(feature_sets), len(paths),
             cache_dir, len(todo))
    if todo:
        workers = min(joblib.effective_n_jobs(n_jobs), len(todo))
        arguments = [(paths[i], wanted, recipe.features, recipe.audio, audio_loader) for i, wanted in todo.items()]
        # One BLAS thread per file, in workers and here alike: the numbers do not depend on n_jobs.
        with contextlib.ExitStack() as stack:
            if workers > 1:
                from .._numba import compile_librosa_kernels

                compile_librosa_kernels()  # here, before the workers: numba's cache is not safe for racing writers
                # The active joblib backend is kept (e.g. "dask" under joblib.parallel_backend("dask"),
                # to scale out); only the local default gets one BLAS thread per worker process.
                if _default_joblib_backend():
                    stack.enter_context(joblib.parallel_config(backend="loky", inner_max_num_threads=1))
                results = joblib.Parallel(n_jobs=workers, return_as="generator")(
                    joblib.delayed(_compute)(*args) for args in arguments)
            else:
                stack.enter_context(threadpool_limits(limits=1))
                results = (_compute(*args) for args in arguments)
            bar = tqdm(results, total=len(todo), desc=f"{'+'.join(feature_sets)} features", unit="file",
                       disable=not progress)
            for i, computed in zip(todo, bar):
                for name, vector in computed.items():
                    vectors[name][i] = vector
                    _write_slot(slots[name][i], targets[name][i].stem)
    seconds = time.perf_counter() - start
    matrices, infos = {}, {}
    for name in feature_sets:
        lengths = {v.shape for v in vectors[name]}
        if len(lengths) > 1:
            raise SerError(f"{name} features of different lengths {sorted(lengths)} — the seed feature set needs "
                           "clips of one length: use a recipe whose AudioConfig.target_length is set")
        width = next(iter(lengths))[0] if lengths else 0
        matrix = np.empty((len(paths), width), dtype=np.float32)
        for i, vector in enumerate(vectors[name]):
            matrix[i] = vector
        misses = sum(name in wanted for wanted in todo.values())
        matrices[name] = matrix
        infos[name] = ExtractionInfo(name, len(paths), len(paths) - misses, misses, seconds, cache_dir,
                                     changed[name])
    return matrices, infos


def _default_joblib_backend() -> bool:
    """True unless the caller chose a joblib backend (``joblib.parallel_backend`` / ``parallel_config``)."""
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    return type(backend).__name__ in {"LokyBackend", "MultiprocessingBackend"}


def extract_features(manifest: pd.DataFrame | Sequence[str | Path], feature_set: str, *, recipe: Recipe,
                     n_jobs: int = -1, cache_dir: str | Path | None = None, progress: bool = True,
                     audio_loader: Callable[[str], tuple[np.ndarray, int]] | None = None,
                     return_info: bool = False) -> np.ndarray | tuple[np.ndarray, ExtractionInfo]:
    """Feature matrix of every file of ``manifest``, in manifest order, cached per file.

    Each file is read and preprocessed with ``recipe.audio``
    (:func:`ser_utils.audio.load_and_preprocess`), then turned into one vector by
    :func:`feature_vector`. Results are cached under ``cache_dir/<set>/`` with a key that
    hashes every parameter and the file's identity (:func:`cache_key`); only the misses
    are computed, in parallel with joblib.

    Parameters
    ----------
    manifest : DataFrame with a ``path`` column, or a sequence of paths
    feature_set : {'frames', 'functionals', 'egemaps'}
    recipe : Recipe
        Its ``audio`` and ``features`` configurations are used.
    n_jobs : int
        Worker processes for the misses (joblib; -1 = all cores).
    cache_dir : path, optional
        Default ``config.output_dir() / "features"``.
    progress : bool
        Show a tqdm progress bar over the files computed.
    audio_loader : callable, optional
        ``loader(path) -> (samples, sr)`` replacing ``load_and_preprocess(path, recipe.audio)``
        (e.g. :class:`PreloadedAudio`); it must return the same clips, since the cache key
        is still made from the file and ``recipe.audio``. Must be picklable when ``n_jobs != 1``.
    return_info : bool
        Also return an :class:`ExtractionInfo` (cache hits and misses, time).

    Returns
    -------
    X : np.ndarray, shape (N, D), float32
    info : ExtractionInfo, only when ``return_info``

    Raises
    ------
    SerError
        Unknown feature set, or clips of different lengths for the ``seed`` set.
    AudioError
        A file is missing or unreadable (the message names it).

    Examples
    --------
    >>> from ser_utils import config
    >>> recipe = config.original_recipe("tess")
    >>> X, info = extract_features(manifest, "frames", recipe=recipe, return_info=True)  # doctest: +SKIP
    >>> X.shape, info.hits, info.misses  # doctest: +SKIP
    ((2800, 8126), 0, 2800)
    """
    matrices, infos = extract_feature_sets(manifest, [_check_feature_set(feature_set)], recipe=recipe,
                                           n_jobs=n_jobs, cache_dir=cache_dir, progress=progress,
                                           audio_loader=audio_loader)
    return (matrices[feature_set], infos[feature_set]) if return_info else matrices[feature_set]


# ---------------------------------------------------------------- saved matrices
def features_path(directory: str | Path, corpus: str, feature_set: str) -> Path:
    """``<directory>/<corpus>_<set>.npy`` (metadata: same name, ``.csv``; description ``.json``)."""
    return Path(directory) / f"{corpus}_{feature_set}.npy"


def save_features(matrix: np.ndarray, manifest: pd.DataFrame, directory: str | Path, *, corpus: str,
                  feature_set: str, recipe: Recipe) -> Path:
    """Write the matrix, its row-aligned metadata CSV (the manifest rows) and a JSON description
    (shape, recipe, feature names when short), each atomically; returns the ``.npy`` path."""
    if len(matrix) != len(manifest):
        raise ValueError(f"{len(matrix)} feature rows for {len(manifest)} manifest rows")
    target = features_path(directory, corpus, feature_set)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.asarray(matrix, dtype=np.float32), allow_pickle=False)
    write_csv(manifest.reset_index(drop=True), target.with_suffix(".csv"))
    description = {"corpus": corpus, "feature_set": feature_set, "shape": list(matrix.shape),
                   "recipe": recipe.to_dict()}
    if feature_set != "frames":
        description["feature_names"] = feature_names(feature_set, config=recipe.features)
    write_json(description, target.with_suffix(".json"))
    return target


def load_features(directory: str | Path, *, corpus: str, feature_set: str) -> tuple[np.ndarray, pd.DataFrame]:
    """The matrix and metadata written by :func:`save_features` (raises SerError when missing)."""
    target = features_path(directory, corpus, feature_set)
    if not target.exists() or not target.with_suffix(".csv").exists():
        raise SerError(f"{target} not found — run notebook 02_feature_extraction or "
                       f"`ser features {corpus} ROOT --set {feature_set} --out {Path(directory)}` first")
    metadata_frame = pd.read_csv(target.with_suffix(".csv"))
    matrix = np.load(target, allow_pickle=False)
    if len(matrix) != len(metadata_frame):
        raise SerError(f"{target} has {len(matrix)} rows but its CSV {len(metadata_frame)} — re-run the extraction")
    return matrix, metadata_frame


def read_description(directory: str | Path, *, corpus: str, feature_set: str) -> dict:
    """The JSON description written by :func:`save_features`."""
    return read_json(features_path(directory, corpus, feature_set).with_suffix(".json"))


def load_or_extract(corpus: str, feature_set: str, *, recipe: Recipe, directory: str | Path | None = None,
                    n_jobs: int = -1, progress: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
    """The matrix of :func:`ser_utils.evaluation.select_files` (``rt``) of ``corpus`` saved under ``directory`` (default
    ``outputs/features``, by notebook 02 or ``ser features``), or extracted and saved when it is
    missing or was made with another recipe or from other files.

    Returns
    -------
    matrix : np.ndarray (N, D) float32
    metadata : DataFrame, row-aligned (the manifest rows)
    """
    from ..data_check import read_or_build_manifest

    directory = Path(directory) if directory is not None else output_dir() / "features"
    files = evaluation.select_files(read_or_build_manifest(corpus))
    try:
        matrix, metadata = load_features(directory, corpus=corpus, feature_set=feature_set)
        description = read_description(directory, corpus=corpus, feature_set=feature_set)
        if description.get("recipe") == json.loads(json.dumps(recipe.to_dict())) and \
                list(metadata["path"]) == list(files["path"].astype(str)):
            return matrix, metadata
        log.info("%s was made with another recipe or file list: extracting again", features_path(
            directory, corpus, feature_set))
    except (SerError, OSError, ValueError, KeyError):
        pass
    matrix = extract_features(files, feature_set, recipe=recipe, n_jobs=n_jobs, progress=progress)
    save_features(matrix, files, directory, corpus=corpus, feature_set=feature_set, recipe=recipe)
    return matrix, files


def select_rows(matrix: np.ndarray, metadata: pd.DataFrame, subset: str) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows of ``matrix`` in subset ``subset`` of :func:`ser_utils.evaluation.select_subset`
    (a name of :data:`ser_utils.evaluation.SUBSETS`), and their metadata (index reset)."""
    from ..evaluation import select_subset

    if len(matrix) != len(metadata):
        raise ValueError(f"{len(matrix)} feature rows for {len(metadata)} metadata rows")
    chosen = select_subset(metadata.assign(_row=np.arange(len(metadata))), subset)
    return matrix[chosen["_row"].to_numpy()], chosen.drop(columns="_row")
