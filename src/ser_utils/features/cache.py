"""Feature sets and the per-file cache: one vector per (file, parameters), keyed on every parameter
and the file's identity, and the extraction of a manifest's matrix (:func:`extract_features`,
:func:`extract_feature_sets`) that computes only the misses, in parallel."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from joblib.parallel import get_active_backend
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from .. import audio
from ..audio import common_sample_rate
from ..audio.kernels import compile_librosa_kernels
from ..config import AudioConfig, FrameFeatureConfig, Recipe, check_choice
from ..errors import AudioError, SerError
from ..paths import features_dir
from ..storage import atomic_path, file_identity
from .egemaps import egemaps_functionals, egemaps_names
from .encoders import (
    POOLING_STATISTICS,
    WHISPER_AUDIO,
    WhisperEncoder,
    whisper_embedding,
    whisper_embedding_names,
)
from .frames import (
    flatten_frames,
    frame_feature_names,
    frame_features,
    n_active_frames,
    n_frames,
    strip_padding,
)
from .functionals import frame_functionals, functional_names

log = logging.getLogger(__name__)

FEATURE_SETS: tuple[str, ...] = ("frames", "functionals", "egemaps", "whisper")
#: The sets computed from the audio by librosa and openSMILE (no pretrained model): notebook 02's.
HANDCRAFTED_FEATURE_SETS: tuple[str, ...] = FEATURE_SETS[:3]

#: Bumped whenever a feature function changes its numbers, so old cache entries are never reused.
CACHE_VERSION = 1
#: Libraries whose version changes the numbers of a feature set (the audio chain's for all).
_AUDIO_LIBRARIES = ("numpy", "scipy", "librosa", "soundfile", "soxr", "noisereduce")
_SET_LIBRARIES = {
    "frames": (),
    "functionals": (),
    "egemaps": ("opensmile",),
    "whisper": ("ctranslate2",),
}


# --------------------------------------------------------------------- feature sets
def _check_feature_set(feature_set: str) -> str:
    return check_choice(feature_set, FEATURE_SETS, "feature set")


def feature_vector(
    samples: np.ndarray,
    sr: int,
    feature_set: str,
    *,
    config: FrameFeatureConfig = FrameFeatureConfig(),
) -> np.ndarray:
    """One clip's vector of ``feature_set`` (``frames`` | ``functionals`` | ``egemaps``), float32.

    ``frames``: :func:`frame_features` flattened; ``functionals``: :func:`frame_functionals` of the
    frames before the padding; ``egemaps``: :func:`egemaps_functionals` of the clip without its padding.
    """
    _check_feature_set(feature_set)
    if feature_set == "whisper":
        raise ValueError(
            "whisper features need an encoder: use features.encoders.whisper_embedding, or "
            "extract_features (which loads the recipe's encoder)"
        )
    if feature_set == "frames":
        return frame_features(samples, sr, config=config, flatten=True)
    if feature_set == "functionals":
        valid = n_active_frames(samples, hop_length=config.hop_length, n_fft=config.n_fft)
        return frame_functionals(frame_features(samples, sr, config=config), n_valid=valid)
    return egemaps_functionals(strip_padding(samples), sr)


def feature_names(
    feature_set: str,
    *,
    config: FrameFeatureConfig = FrameFeatureConfig(),
    n_samples: int | None = None,
    width: int | None = None,
) -> list[str]:
    """Column names of ``feature_set``; ``frames`` needs the clip length ``n_samples``
    (names ``mfcc_01@0``, ``mfcc_01@1``, …, in ``config.flatten_order`` like
    :func:`flatten_frames`), ``whisper`` the number of columns ``width`` (the encoder's size
    decides it)."""
    _check_feature_set(feature_set)
    if feature_set == "whisper":
        if width is None:
            raise ValueError("whisper feature names need width (the embedding's length)")
        return whisper_embedding_names(width // len(POOLING_STATISTICS))
    if feature_set == "frames":
        if n_samples is None:
            raise ValueError("frames feature names need n_samples (the padded clip length)")
        count = n_frames(n_samples, hop_length=config.hop_length)
        names = np.array(
            [[f"{name}@{t}" for name in frame_feature_names(config)] for t in range(count)]
        )
        return flatten_frames(names, order=config.flatten_order).tolist()
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


def _parameters(
    feature_set: str,
    frame_config: FrameFeatureConfig,
    audio_config: AudioConfig,
    encoder_identity: str | None = None,
) -> dict:
    if feature_set == "whisper":  # its own audio chain; the encoder's weights and compute type
        return {
            "cache_version": CACHE_VERSION,
            "feature_set": feature_set,
            "audio": dataclasses.asdict(WHISPER_AUDIO),
            "versions": _versions(feature_set),
            "encoder": encoder_identity,
            "pooling": list(POOLING_STATISTICS),
        }
    parameters = {
        "cache_version": CACHE_VERSION,
        "feature_set": feature_set,
        "audio": dataclasses.asdict(audio_config),
        "versions": _versions(feature_set),
    }
    if feature_set != "egemaps":  # eGeMAPS does not read the frame configuration
        parameters["frames"] = dataclasses.asdict(frame_config)
    return parameters


def cache_key(
    path: str | Path,
    feature_set: str,
    *,
    frame_config: FrameFeatureConfig,
    audio_config: AudioConfig,
    encoder_identity: str | None = None,
    _parameters_json: str | None = None,
) -> str:
    """SHA-256 of every parameter of the result (feature set, frame and audio configuration,
    library versions, :data:`CACHE_VERSION`; for ``whisper`` the encoder's identity,
    :func:`ser_utils.features.encoders.encoder_identity`) and of the file's identity (absolute
    path, size, modification time in ns): a changed file or parameter never hits an old entry."""
    _check_feature_set(feature_set)
    if feature_set == "whisper" and encoder_identity is None:
        raise ValueError("a whisper cache key needs the encoder's identity")
    parameters = _parameters_json or json.dumps(
        _parameters(feature_set, frame_config, audio_config, encoder_identity), sort_keys=True
    )
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


def _vectors(
    samples: np.ndarray, sr: int, feature_sets: Sequence[str], frame_config: FrameFeatureConfig
) -> dict[str, np.ndarray]:
    """:func:`feature_vector` of several sets, computing the frame features once for frames + functionals."""
    if "frames" in feature_sets and "functionals" in feature_sets:
        frames = frame_features(samples, sr, config=frame_config)
        valid = n_active_frames(
            samples, hop_length=frame_config.hop_length, n_fft=frame_config.n_fft
        )
        shared = {
            "frames": flatten_frames(frames, order=frame_config.flatten_order),
            "functionals": frame_functionals(frames, n_valid=valid),
        }
    else:
        shared = {}
    return {
        name: shared[name]
        if name in shared
        else feature_vector(samples, sr, name, config=frame_config)
        for name in feature_sets
    }


def _compute(
    path: str,
    targets: dict[str, Path],
    frame_config: FrameFeatureConfig,
    audio_config: AudioConfig,
    audio_loader: Callable | None,
) -> dict[str, np.ndarray]:
    """Load and preprocess one file once, compute the feature sets of ``targets`` and write their
    cache entries (runs in the joblib workers)."""
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
            raise SerError(
                "the manifest has no 'path' column — build it with ser_utils.corpora.load_corpus "
                "or `ser data manifest`"
            )
        return [str(p) for p in manifest["path"]]
    return [str(p) for p in manifest]


def extract_feature_sets(
    manifest: pd.DataFrame | Sequence[str | Path],
    feature_sets: Sequence[str],
    *,
    recipe: Recipe,
    n_jobs: int = -1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    audio_loader: Callable[[str], tuple[np.ndarray, int]] | None = None,
    encoder: WhisperEncoder | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, ExtractionInfo]]:
    """Like :func:`extract_features` for several feature sets at once: each file is read and
    preprocessed once for all the sets it misses (``whisper`` reads its own chain,
    :data:`~ser_utils.features.encoders.WHISPER_AUDIO`, and runs in this process).

    Returns
    -------
    matrices : dict set -> np.ndarray (N, D_set), float32, in manifest order
    infos : dict set -> ExtractionInfo
    """
    feature_sets = [_check_feature_set(name) for name in dict.fromkeys(feature_sets)]
    start = time.perf_counter()
    paths = _paths(manifest)
    cache_dir = Path(cache_dir) if cache_dir is not None else features_dir()
    targets: dict[str, list[Path]] = {}
    vectors: dict[str, list[np.ndarray | None]] = {}
    chained = any(name != "whisper" for name in feature_sets)  # whisper resamples every clip
    if chained and isinstance(manifest, pd.DataFrame) and "sample_rate" in manifest.columns:
        common_sample_rate(manifest["sample_rate"], recipe.audio)  # the same refusal as the arrays
    slots: dict[str, list[Path]] = {}
    identity = None
    if "whisper" in feature_sets:
        encoder = encoder or WhisperEncoder(recipe.encoder, progress=progress)
        identity = encoder.identity
    for name in feature_sets:
        parameters = json.dumps(
            _parameters(name, recipe.features, recipe.audio, identity), sort_keys=True
        )
        targets[name] = [
            cache_path(
                cache_dir,
                name,
                cache_key(
                    p,
                    name,
                    frame_config=recipe.features,
                    audio_config=recipe.audio,
                    encoder_identity=identity,
                    _parameters_json=parameters,
                ),
            )
            for p in paths
        ]
        slots[name] = [_slot_path(cache_dir, name, parameters, p) for p in paths]
        vectors[name] = [_read_cached(t) for t in targets[name]]
    todo = {
        i: {name: targets[name][i] for name in feature_sets if vectors[name][i] is None}
        for i in range(len(paths))
    }
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
        log.warning(
            "%s: %s file(s) changed since their features were cached — computing them again",
            cache_dir,
            max(changed.values()),
        )
    log.info(
        "%s features of %d files under %s: %d files to compute",
        "+".join(feature_sets),
        len(paths),
        cache_dir,
        len(todo),
    )
    embed = [i for i, wanted in todo.items() if "whisper" in wanted]
    for i in tqdm(embed, desc="whisper features", unit="file", disable=not progress or not embed):
        vectors["whisper"][i] = _compute_embedding(paths[i], todo[i]["whisper"], encoder)
        _write_slot(slots["whisper"][i], todo[i]["whisper"].stem)
    frame_todo = {
        i: {name: target for name, target in wanted.items() if name != "whisper"}
        for i, wanted in todo.items()
    }
    frame_todo = {i: wanted for i, wanted in frame_todo.items() if wanted}
    if frame_todo:
        workers = min(joblib.effective_n_jobs(n_jobs), len(frame_todo))
        arguments = [
            (paths[i], wanted, recipe.features, recipe.audio, audio_loader)
            for i, wanted in frame_todo.items()
        ]
        # One BLAS thread per file, in workers and here alike: the numbers do not depend on n_jobs.
        with contextlib.ExitStack() as stack:
            if workers > 1:
                compile_librosa_kernels()  # here, before the workers: numba's cache is not safe for racing writers
                # The active joblib backend is kept (e.g. "dask" under joblib.parallel_backend("dask"),
                # to scale out); only the local default gets one BLAS thread per worker process.
                if _default_joblib_backend():
                    stack.enter_context(
                        joblib.parallel_config(backend="loky", inner_max_num_threads=1)
                    )
                results = joblib.Parallel(n_jobs=workers, return_as="generator")(
                    joblib.delayed(_compute)(*args) for args in arguments
                )
            else:
                stack.enter_context(threadpool_limits(limits=1))
                results = (_compute(*args) for args in arguments)
            bar = tqdm(
                results,
                total=len(frame_todo),
                desc=f"{'+'.join(name for name in feature_sets if name != 'whisper')} features",
                unit="file",
                disable=not progress,
            )
            for i, computed in zip(frame_todo, bar):
                for name, vector in computed.items():
                    vectors[name][i] = vector
                    _write_slot(slots[name][i], targets[name][i].stem)
    seconds = time.perf_counter() - start
    matrices, infos = {}, {}
    for name in feature_sets:
        lengths = {v.shape for v in vectors[name]}
        if len(lengths) > 1:
            raise SerError(
                f"{name} features of different lengths {sorted(lengths)} — the frames feature set needs "
                "clips of one length: use a recipe whose AudioConfig.target_length is set"
            )
        width = next(iter(lengths))[0] if lengths else 0
        matrix = np.empty((len(paths), width), dtype=np.float32)
        for i, vector in enumerate(vectors[name]):
            matrix[i] = vector
        misses = sum(name in wanted for wanted in todo.values())
        matrices[name] = matrix
        infos[name] = ExtractionInfo(
            name, len(paths), len(paths) - misses, misses, seconds, cache_dir, changed[name]
        )
    return matrices, infos


def _compute_embedding(path: str, target: Path, encoder: WhisperEncoder) -> np.ndarray:
    """One file's pooled Whisper embedding from :data:`WHISPER_AUDIO`, written to its entry
    (in this process: the encoder runs on its own threads, or on the GPU)."""
    samples, sr = audio.load_and_preprocess(path, WHISPER_AUDIO)
    try:
        vector = whisper_embedding(samples, sr, encoder=encoder)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
    _write_cached(target, vector)
    return vector


def _default_joblib_backend() -> bool:
    """True unless the caller chose a joblib backend (``joblib.parallel_backend`` / ``parallel_config``)."""
    backend, _ = get_active_backend()
    return type(backend).__name__ in {"LokyBackend", "MultiprocessingBackend"}


def extract_features(
    manifest: pd.DataFrame | Sequence[str | Path],
    feature_set: str,
    *,
    recipe: Recipe,
    n_jobs: int = -1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    audio_loader: Callable[[str], tuple[np.ndarray, int]] | None = None,
    return_info: bool = False,
    encoder: WhisperEncoder | None = None,
) -> np.ndarray | tuple[np.ndarray, ExtractionInfo]:
    """Feature matrix of every file of ``manifest``, in manifest order, cached per file.

    Each file is read and preprocessed with ``recipe.audio``
    (:func:`ser_utils.audio.load_and_preprocess`), then turned into one vector by
    :func:`feature_vector`. Results are cached under ``cache_dir/<set>/`` with a key that
    hashes every parameter and the file's identity (:func:`cache_key`); only the misses
    are computed, in parallel with joblib.

    Parameters
    ----------
    manifest : DataFrame with a ``path`` column, or a sequence of paths
    feature_set : {'frames', 'functionals', 'egemaps', 'whisper'}
    recipe : Recipe
        Its ``audio`` and ``features`` configurations are used; for ``whisper``, its
        ``encoder`` (default the bundled tiny.en) and the whole clip at 16 kHz
        (:data:`~ser_utils.features.encoders.WHISPER_AUDIO`) instead of its audio chain.
    n_jobs : int
        Worker processes for the misses (joblib; -1 = all cores).
    cache_dir : path, optional
        Default :func:`ser_utils.paths.features_dir` (``outputs/features``).
    progress : bool
        Show a tqdm progress bar over the files computed.
    audio_loader : callable, optional
        ``loader(path) -> (samples, sr)`` replacing ``load_and_preprocess(path, recipe.audio)``
        (e.g. :class:`PreloadedAudio`); it must return the same clips, since the cache key
        is still made from the file and ``recipe.audio``. Must be picklable when ``n_jobs != 1``.
    return_info : bool
        Also return an :class:`ExtractionInfo` (cache hits and misses, time).
    encoder : WhisperEncoder, optional
        For ``whisper``: an encoder already loaded, instead of ``recipe.encoder``'s.

    Returns
    -------
    X : np.ndarray, shape (N, D), float32
    info : ExtractionInfo, only when ``return_info``

    Raises
    ------
    SerError
        Unknown feature set, or clips of different lengths for the ``frames`` set; for
        ``whisper``, :class:`~ser_utils.features.encoders.EncoderUnavailableError` when the
        encoder cannot be found or fetched.
    AudioError
        A file is missing or unreadable (the message names it).

    Examples
    --------
    One file of TESS's layout (79 frames × 34 features at the smoke length), twice: the second
    call reads the cache.

    >>> import tempfile
    >>> import numpy as np
    >>> import soundfile as sf
    >>> from ser_utils import config
    >>> from ser_utils.corpora import load_tess
    >>> root = Path(tempfile.mkdtemp()) / "TESS"
    >>> (root / "OAF_angry").mkdir(parents=True)
    >>> sf.write(root / "OAF_angry" / "OAF_back_angry.wav", np.sin(np.arange(24_414) / 10), 24_414)
    >>> recipe = config.original_recipe("tess", "smoke")
    >>> for _ in range(2):
    ...     X, info = extract_features(load_tess(root), "frames", recipe=recipe, return_info=True, n_jobs=1,
    ...                                progress=False, cache_dir=root.parent / "cache")
    ...     print(X.shape, info.hits, info.misses)
    (1, 2686) 0 1
    (1, 2686) 1 0
    """
    matrices, infos = extract_feature_sets(
        manifest,
        [_check_feature_set(feature_set)],
        recipe=recipe,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        progress=progress,
        audio_loader=audio_loader,
        encoder=encoder,
    )
    return (matrices[feature_set], infos[feature_set]) if return_info else matrices[feature_set]
