"""Array generation for the deep models: preprocessed audio and spectrograms streamed to ``.npy``.

:func:`generate_arrays` preprocesses every file of a corpus subset with a recipe's audio
chain, computes its spectrogram and writes both, row by row, into ``.npy`` files opened
as memory maps (:func:`numpy.lib.format.open_memmap`), so memory stays the same whatever
the number of files (the original held everything in Python lists, > 5 GB). It writes::

    <out_dir>/audio.npy          (N, L)        float32   preprocessed clips
             /spectrograms.npy   (N, F, T)     float32   original log-power or log-mel
             /labels.npy         (N,)          <U…       the original's label strings (incl. 'other', 'X')
             /metadata.csv       N rows                  utterance_id, label, speaker, session, …
             /arrays.json                                recipe, key, shapes: written last

Row ``i`` of every file is the same utterance. The default subset ``rt`` keeps every R+T file of
MSP-IMPROV with its label, 'other' and no agreement included, as the original's arrays
did; ``labels.npy`` spells them as the original did (``'X'`` for no agreement,
:func:`ser_utils.corpora.original_label_strings`), so the original's own mask works on it;
``metadata.csv`` keeps the manifest's names. The 4-class selection happens at training time,
from the metadata.

The work is resumable and idempotent: files are filled under ``<out_dir>/.partial/`` and
renamed into place when complete; ``.partial/progress.json`` records the rows done after
every chunk, so an interrupted run continues where it stopped and ends with files
identical to an uninterrupted run; when ``arrays.json`` holds the same key (recipe +
subset + manifest rows + each file's resolved path, size and modification time), nothing
is done. A replaced or edited file, or another copy of the corpus, changes the key: the
arrays are generated again and the run says how many files changed.

Examples
--------
The synthetic mini MSP-IMPROV through the improved recipe's chain (smoke profile: 2 s at
16 kHz, 64-band log-mel):

>>> import tempfile
>>> from ser_utils import config, synthetic
>>> from ser_utils.corpora import load_msp_improv
>>> folder = Path(tempfile.mkdtemp())
>>> manifest = load_msp_improv(synthetic.make_msp_improv(folder / "MSP-IMPROV", n_jobs=1))
>>> recipe = config.get_recipe("improved", "msp-improv", "smoke")
>>> written = generate_arrays(manifest, recipe, folder / "arrays", n_jobs=1, progress=False)
>>> spectrograms, labels, metadata = load_arrays(written.directory)
>>> spectrograms.shape, len(labels) == len(metadata)
((192, 64, 201), True)
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from .. import paths
from ..audio import (
    clip_problems,
    clip_problems_line,
    common_sample_rate,
    preprocess,
    read_audio,
    shortest_clip_seconds,
)
from ..audio.kernels import compile_librosa_kernels
from ..audio.reading import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from ..audio.spectrograms import spectrogram, spectrogram_shape
from ..config import FOUR_CLASSES, AudioConfig, Recipe, SpectrogramConfig, check_choice
from ..corpora.check import read_or_build_manifest
from ..corpora.msp_improv import original_label_strings
from ..corpora.subsets import ORIGINAL_ARRAY_SUBSET, default_subset, select_files, select_subset
from ..errors import AudioError, CorpusError, SerError
from ..progress import logger as progress_log
from ..storage import check_free_space, file_identity, read_json, write_csv
from .streaming import StreamingArrays, exclusive_folder, npy_shape, space_needed

__all__ = [
    "ArrayPaths",
    "generate_arrays",
    "ensure_arrays",
    "load_arrays",
    "subset_rows",
    "array_paths",
    "ON_ERROR",
    "METADATA_COLUMNS",
    "ARRAYS_FORMAT_VERSION",
]

log = logging.getLogger(__name__)

#: ``raise``: stop at the first unreadable or silent file; ``skip``: leave it out and list it.
ON_ERROR: tuple[str, ...] = ("raise", "skip")
#: Manifest columns copied into ``metadata.csv`` (those the corpus has), in this order.
METADATA_COLUMNS: tuple[str, ...] = (
    "utterance_id",
    "corpus",
    "label",
    "speaker",
    "gender",
    "session",
    "recording_type",
    "acted_label",
    "sentence",
    "sample_rate",
    "n_samples",
    "duration",
)
ARRAYS_FORMAT_VERSION = 1
INFO_FILE = "arrays.json"


@dataclass(frozen=True)
class ArrayPaths:
    """Where :func:`generate_arrays` wrote its files."""

    directory: Path
    audio: Path
    spectrograms: Path
    labels: Path
    metadata: Path
    info: Path

    @classmethod
    def under(cls, directory: str | Path) -> ArrayPaths:
        directory = Path(directory)
        return cls(
            directory,
            directory / "audio.npy",
            directory / "spectrograms.npy",
            directory / "labels.npy",
            directory / "metadata.csv",
            directory / INFO_FILE,
        )


# ------------------------------------------------------------------------ selection
def _metadata(rows: pd.DataFrame) -> pd.DataFrame:
    columns = [column for column in METADATA_COLUMNS if column in rows.columns]
    return rows[columns].reset_index(drop=True)


def _output_sample_rate(rows: pd.DataFrame, audio: AudioConfig) -> int:
    """The one sample rate of every preprocessed clip (the recipe's, or the files' common rate)."""
    rates = rows["sample_rate"]
    damaged = rows[(rates > 0) & ((rates < MIN_SAMPLE_RATE) | (rates > MAX_SAMPLE_RATE))]
    if len(damaged):
        read_audio(damaged["path"].iloc[0])  # refuses the header's rate, naming the file
    rate = common_sample_rate(rates, audio)
    if rate is None:
        # No file has a readable header: reading the first one names it and says why.
        read_audio(rows["path"].iloc[0])
        raise CorpusError(
            "no file of the corpus has a readable header — check it with `ser data check`"
        )
    return rate


def _identities(rows: pd.DataFrame) -> list[list]:
    """Each row's file identity (resolved path, size, mtime in ns), in row order."""
    return [list(file_identity(path).values()) for path in rows["path"]]


def _key(rows: pd.DataFrame, recipe: Recipe, subset: str, identities: list[list]) -> str:
    """Hash of everything the arrays depend on: format, recipe audio + spectrogram, subset, rows
    and each file's identity (so a replaced or edited file, or another copy, is never reused)."""
    description = {
        "format": ARRAYS_FORMAT_VERSION,
        "corpus": recipe.corpus,
        "subset": subset,
        "audio": dataclasses.asdict(recipe.audio),
        "spectrogram": dataclasses.asdict(recipe.spectrogram),
        "rows": _metadata(rows).to_csv(index=False),
        "files": identities,
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True).encode()).hexdigest()


# -------------------------------------------------------------------------- worker
def _process_file(
    path: str,
    audio: AudioConfig,
    spectrogram_config: SpectrogramConfig,
    sample_rate: int,
    shape: tuple[int, int],
    shortest_seconds: float,
) -> tuple[np.ndarray, np.ndarray, list[str]] | str:
    """Preprocess one file and compute its spectrogram, with the clip's problems
    (:func:`~ser_utils.audio.clip_problems`); an error message (str) when it cannot."""
    try:
        raw, raw_sr = read_audio(path)
        problems = clip_problems(raw, raw_sr, shortest_seconds)
        try:
            samples, sr = preprocess(raw, raw_sr, audio)
        except AudioError as exc:
            raise AudioError(f"{path}: {exc}") from None
        if sr != sample_rate:
            raise AudioError(
                f"{path}: sample rate {sr} Hz, but the arrays hold {sample_rate} Hz clips — "
                "use a recipe that resamples (target_sr) or resample this file"
            )
        image = spectrogram(samples, sr, spectrogram_config)
        if image.shape != shape:
            raise AudioError(f"{path}: spectrogram of shape {image.shape}, expected {shape}")
    except AudioError as exc:
        return str(exc)
    return samples, image, problems


# -------------------------------------------------------------------- completeness
def _changed_files(files: ArrayPaths, rows: pd.DataFrame, identities: list[list]) -> int | None:
    """How many files of ``rows`` differ from those the existing arrays were made from
    (by utterance id); None when there are no earlier arrays to compare with."""
    try:
        info = read_json(files.info)
        before = dict(zip(info["file_ids"], map(list, info["files"])))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    now = dict(zip(rows["utterance_id"].astype(str), identities))
    return sum(before.get(utterance_id) != identity for utterance_id, identity in now.items())


def _complete(files: ArrayPaths, key: str) -> bool:
    if not files.info.is_file():
        return False
    try:
        info = read_json(files.info)
    except (OSError, ValueError):
        return False
    if info.get("key") != key:
        return False
    return (
        npy_shape(files.audio) == tuple(info["audio_shape"])
        and npy_shape(files.spectrograms) == tuple(info["spectrogram_shape"])
        and npy_shape(files.labels) == (info["n"],)
        and files.metadata.is_file()
    )


def _processed_files(stack: contextlib.ExitStack, arguments, n_jobs: int):
    """:func:`_process_file` of each tuple of ``arguments``, in order: in ``n_jobs`` worker
    processes when more than 1 (closed by ``stack``), else here."""
    if n_jobs <= 1:
        return (_process_file(*args) for args in arguments)
    compile_librosa_kernels()  # here, before the workers: numba's cache is not safe for racing writers
    # Results come back in order, as the workers finish them; at most pre_dispatch files
    # are in flight, so memory is bounded and the workers never wait for the writes.
    parallel = stack.enter_context(
        Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch=f"{2 * n_jobs}")
    )
    results = parallel(delayed(_process_file)(*args) for args in arguments)
    stack.enter_context(warnings.catch_warnings())
    warnings.filterwarnings("ignore", message=".*tasks which were still being processed.*")
    stack.callback(getattr(results, "close", lambda: None))  # stop dispatching on an error
    return results


# ------------------------------------------------------------------------ generation
def generate_arrays(
    manifest: pd.DataFrame,
    recipe: Recipe,
    out_dir: str | Path,
    *,
    n_jobs: int = 2,
    progress: bool = True,
    subset: str = ORIGINAL_ARRAY_SUBSET,
    chunk_size: int | None = None,
    on_error: str = "raise",
) -> ArrayPaths:
    """Preprocess every file of ``subset`` and stream audio and spectrograms to ``.npy`` files.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A corpus manifest (:func:`ser_utils.corpora.load_corpus`), with ``path``.
    recipe : Recipe
        ``recipe.audio`` is the preprocessing chain (it must set ``target_length``, so that
        every clip has one length) and ``recipe.spectrogram`` the spectrogram.
    out_dir : path
        Folder of the arrays, e.g. :func:`ser_utils.paths.arrays_dir` ``(recipe)``.
    n_jobs : int, default 2
        Worker processes (joblib); 1 works in this process.
    progress : bool, default True
        tqdm progress bar over the files.
    subset : str, default "rt"
        Which files (:func:`ser_utils.corpora.select_files`).
    chunk_size : int, optional
        Rows per write (default ``8 * n_jobs``): the parent holds at most one chunk of results
        (plus the few files in flight), writes it and records the progress, so peak memory
        does not grow with N; an interrupted run loses at most one chunk.
    on_error : {"raise", "skip"}, default "raise"
        ``"raise"`` stops at the first unreadable or silent file with a one-line
        :class:`~ser_utils.errors.AudioError` naming it (finished rows are kept, a rerun
        resumes); ``"skip"`` leaves such files out, logs and records them in
        ``arrays.json`` (``skipped``).

    Returns
    -------
    ArrayPaths

    Raises
    ------
    AudioError
        A file cannot be read or is silent (``on_error="raise"``), or every file failed.
    CorpusError
        The subset is empty, or the files' sample rates differ while the recipe keeps them.
    """
    check_choice(on_error, ON_ERROR, "on_error")
    if int(n_jobs) < 1:
        raise ValueError(f"n_jobs must be at least 1, got {n_jobs}")
    length = recipe.audio.target_length
    if not length:
        raise ValueError(
            f"recipe {recipe.name!r}: audio.target_length is not set — arrays need one clip "
            "length (pad/crop), e.g. the original recipe's 338 368 samples"
        )
    if "path" not in manifest.columns:
        raise CorpusError(
            "the manifest has no 'path' column — build it with ser_utils.corpora.load_corpus"
        )
    files = ArrayPaths.under(out_dir)
    rows = select_files(manifest, subset)
    identities = _identities(rows)
    key = _key(rows, recipe, subset, identities)
    if _complete(files, key):
        log.info("arrays in %s are up to date (key %s…): nothing to do", files.directory, key[:12])
        if progress:  # a progress line, like the "out of date" one below: what `ser arrays` shows
            progress_log.info(f"arrays up to date: {files.directory} ({len(rows)} utterances)")
        return files
    changed = _changed_files(files, rows, identities)
    if changed:
        progress_log.info(
            f"arrays out of date: {changed} of {len(rows)} files changed since {files.directory} was made "
            "— generating them again"
        )

    n = len(rows)
    sample_rate = _output_sample_rate(rows, recipe.audio)
    shape = spectrogram_shape(length, sample_rate, recipe.spectrogram)
    chunk_size = int(chunk_size or 8 * int(n_jobs))
    files.directory.mkdir(parents=True, exist_ok=True)
    with exclusive_folder(files.directory, "`ser arrays` (or training run)"):
        needed = space_needed(files.directory, {"audio": (n, length), "spectrograms": (n, *shape)})
        check_free_space(files.directory, needed, f"{n} arrays rows")
        return _generate(
            files,
            rows,
            recipe,
            key,
            identities,
            n,
            length,
            sample_rate,
            shape,
            chunk_size,
            n_jobs=int(n_jobs),
            progress=progress,
            subset=subset,
            on_error=on_error,
        )


def _generate(
    files: ArrayPaths,
    rows: pd.DataFrame,
    recipe: Recipe,
    key: str,
    identities: list[list],
    n: int,
    length: int,
    sample_rate: int,
    shape: tuple[int, int],
    chunk_size: int,
    *,
    n_jobs: int,
    progress: bool,
    subset: str,
    on_error: str,
) -> ArrayPaths:
    """:func:`generate_arrays` once the folder is held and its space checked."""
    files.info.unlink(missing_ok=True)  # from here on the folder is not complete
    writer = StreamingArrays(
        files.directory, key, {"audio": (n, length), "spectrograms": (n, *shape)}
    ).open()
    start = writer.done
    log.info(
        "arrays of %d %s files (%s recipe) -> %s, starting at row %d",
        n,
        recipe.corpus,
        recipe.name,
        files.directory,
        start,
    )

    file_paths = rows["path"].astype(str).tolist()
    shortest = shortest_clip_seconds(recipe.spectrogram, sample_rate)
    arguments = (
        (file_paths[i], recipe.audio, recipe.spectrogram, sample_rate, shape, shortest)
        for i in range(start, n)
    )
    warned: list[dict] = []
    with contextlib.ExitStack() as stack:
        results = _processed_files(stack, arguments, int(n_jobs) if start < n else 1)
        bar = stack.enter_context(
            tqdm(
                total=n,
                initial=start,
                desc=f"arrays {recipe.corpus} {recipe.name}",
                unit="file",
                disable=not progress,
            )
        )
        audio_rows, image_rows, skipped = [], [], []
        for index, result in zip(range(start, n), results):
            if isinstance(result, str):
                if on_error == "raise":
                    raise AudioError(
                        f"{result} (file {index + 1} of {n}; or leave such files out with "
                        "on_error='skip' / `ser arrays --skip-bad-files`)"
                    )
                log.warning("skipped: %s", result)
                skipped.append(
                    {
                        "row": index,
                        "utterance_id": str(rows.at[index, "utterance_id"]),
                        "error": result,
                    }
                )
                result = (np.zeros(length, np.float32), np.zeros(shape, np.float32), [])
            if result[2]:
                warned.append(
                    {
                        "row": index,
                        "utterance_id": str(rows.at[index, "utterance_id"]),
                        "warning": "; ".join(result[2]),
                    }
                )
            audio_rows.append(result[0])
            image_rows.append(result[1])
            del result
            if len(audio_rows) == chunk_size or index == n - 1:
                writer.write({"audio": audio_rows, "spectrograms": image_rows}, skipped)
                bar.update(len(audio_rows))
                audio_rows, image_rows, skipped = [], [], []

    skipped = writer.skipped
    if len(skipped) == n:
        raise AudioError(
            f"none of the {n} files could be processed (first: {skipped[0]['error']}) — "
            "check the corpus with `ser data check`"
        )
    metadata = _metadata(rows)
    if skipped:
        keep = np.setdiff1d(np.arange(n), [entry["row"] for entry in skipped])
        writer.keep_rows(keep, chunk_size)
        metadata = metadata.iloc[keep].reset_index(drop=True)
        log.warning(
            "%d of %d files skipped (listed in %s), e.g. %s",
            len(skipped),
            n,
            files.info.name,
            skipped[0]["error"],
        )
    if warned:
        # The clips ser predict warns about, counted the same way (only the rows of this run).
        log.warning(
            "%s",
            clip_problems_line([(w["utterance_id"], w["warning"]) for w in warned], n - start),
        )
    labels = original_label_strings(metadata["label"])
    np.save(writer.path("labels.npy"), labels.astype(f"<U{max(1, max(map(len, labels)))}"))
    write_csv(metadata, writer.path("metadata.csv"))
    writer.commit(
        ["labels.npy", "metadata.csv"],
        {
            "key": key,
            "format_version": ARRAYS_FORMAT_VERSION,
            "corpus": recipe.corpus,
            "recipe": recipe.name,
            "profile": recipe.profile,
            "subset": subset,
            "n": len(metadata),
            "sample_rate": sample_rate,
            "audio_shape": [len(metadata), length],
            "spectrogram_shape": [len(metadata), *shape],
            "spectrogram_kind": recipe.spectrogram.kind,
            "skipped": skipped,
            "warned": warned,
            "file_ids": rows["utterance_id"].astype(str).tolist(),
            "files": identities,
            "audio_config": dataclasses.asdict(recipe.audio),
            "spectrogram_config": dataclasses.asdict(recipe.spectrogram),
        },
        files.info,
    )
    log.info("arrays complete: %s", files.directory)
    return files


def ensure_arrays(
    recipe: Recipe,
    *,
    out_dir: str | Path | None = None,
    n_jobs: int = 2,
    progress: bool = True,
    subset: str = ORIGINAL_ARRAY_SUBSET,
) -> ArrayPaths:
    """The arrays of ``recipe`` for its corpus under the data directory, generated when missing.

    Reads (or builds) the corpus manifest (:func:`ser_utils.corpora.check.read_or_build_manifest`)
    and calls :func:`generate_arrays` into ``out_dir`` (default :func:`ser_utils.paths.arrays_dir`), which
    returns at once when the arrays are complete and up to date.
    """
    manifest = read_or_build_manifest(recipe.corpus)
    return generate_arrays(
        manifest,
        recipe,
        out_dir or paths.arrays_dir(recipe),
        n_jobs=n_jobs,
        progress=progress,
        subset=subset,
    )


# ---------------------------------------------------------------------------- loading
def load_arrays(
    out_dir: str | Path, *, mmap: bool = True
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The spectrograms, labels and metadata written by :func:`generate_arrays`.

    Parameters
    ----------
    out_dir : path
        The arrays folder.
    mmap : bool, default True
        Open ``spectrograms.npy`` as a read-only memory map (nothing is read until used);
        False loads it into memory.

    Returns
    -------
    spectrograms : np.ndarray or np.memmap, shape (N, F, T), float32
    labels : np.ndarray of str, shape (N,), the original's spelling ('X' for no agreement)
    metadata : pandas.DataFrame, N rows, row-aligned with both arrays

    Raises
    ------
    SerError
        The folder holds no complete arrays, or its files disagree in length.
    """
    files = ArrayPaths.under(out_dir)
    if not files.info.is_file():
        raise SerError(
            f"no complete arrays in {files.directory} — generate them with `ser arrays CORPUS ROOT "
            f"--recipe original --out {files.directory}` or notebook 04_generate_arrays"
        )
    spectrograms = np.load(files.spectrograms, mmap_mode="r" if mmap else None)
    labels = np.load(files.labels)
    metadata = pd.read_csv(files.metadata)
    if not len(spectrograms) == len(labels) == len(metadata):
        raise SerError(
            f"arrays in {files.directory} disagree: {len(spectrograms)} spectrograms, {len(labels)} "
            f"labels, {len(metadata)} metadata rows — delete the folder and generate them again"
        )
    return spectrograms, labels, metadata


def subset_rows(
    metadata: pd.DataFrame, *, subset: str | None = None, labels: Sequence[str] = FOUR_CLASSES
) -> pd.DataFrame:
    """The rows of ``metadata`` (the arrays' metadata) that take part: the subset ``subset``
    (:func:`ser_utils.corpora.select_subset`) with a label in ``labels``, and a column ``row``
    giving each one's row in the arrays.

    ``subset`` defaults to the original's evaluation set of the metadata's corpus
    (:func:`ser_utils.corpora.default_subset`: on MSP-IMPROV ``rt-4class``, 1218 on the real
    corpus).

    >>> metadata = pd.DataFrame({"label": ["angry", "other", "sad", "happy"],
    ...                          "recording_type": ["R", "T", "P", "T"], "corpus": "msp-improv"})
    >>> subset_rows(metadata)[["label", "row"]].values.tolist()
    [['angry', 0], ['happy', 3]]
    """
    frame = metadata.assign(row=np.arange(len(metadata)))
    if subset is None:
        corpus = (
            str(frame["corpus"].iloc[0])
            if "corpus" in frame.columns and len(frame)
            else "msp-improv"
        )
        subset = default_subset(corpus)
    frame = select_subset(frame, subset)
    return frame[frame["label"].isin(list(labels)).to_numpy()].reset_index(drop=True)


def array_paths(directory: str | Path) -> list[str]:
    """The audio files of an arrays folder (:func:`generate_arrays`), in row order."""
    info = read_json(Path(directory) / INFO_FILE)
    return [str(entry[0]) for entry in info["files"]]
