"""The stages ``ser`` exposes on their own: a feature matrix (``ser features``), the arrays of a
recipe (``ser arrays``) and the fold assignments of a protocol (``ser folds``); and what a
network reads (:func:`network_inputs`: its spectrogram arrays, or a pretrained encoder's
pooled embeddings for a head over it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config, paths
from ..audio import clip_problems_line
from ..config import Recipe, check_choice
from ..corpora import (
    ORIGINAL_ARRAY_SUBSET,
    SUBSETS,
    default_subset,
    load_corpus,
    select_files,
    select_subset,
)
from ..corpora.check import clip_report
from ..deep.arrays import generate_arrays, load_arrays
from ..deep.validation import validation_split
from ..evaluation import PROTOCOLS, fold_assignments, make_protocol
from ..features import FEATURE_SETS, ExtractionInfo, extract_features, save_features
from ..features.encoders import DEFAULT_ENCODER, WHISPER_SAMPLE_RATE, WhisperEncoder
from ..progress import logger as progress_log
from ..storage import check_output_dir, check_output_file, read_json, write_csv

__all__ = [
    "run_features",
    "run_arrays",
    "run_folds",
    "NetworkInputs",
    "network_inputs",
    "uses_encoder",
    "ENCODER_MODELS",
]

#: Models whose input is a pretrained encoder's pooled embedding (the ``whisper`` feature set).
ENCODER_MODELS: tuple[str, ...] = ("encoder_head",)

log = progress_log


def run_features(
    recipe: Recipe,
    root: str | Path,
    *,
    feature_set: str,
    out: str | Path,
    subset: str = ORIGINAL_ARRAY_SUBSET,
    n_jobs: int = -1,
    cache_dir: str | Path | None = None,
) -> tuple[Path, tuple[int, int], ExtractionInfo]:
    """Extract a feature matrix (cached per file) with the recipe's audio chain and save it with
    its metadata: ``ser features``.

    Returns the ``.npy`` path, the matrix's shape and what the cache did."""
    check_choice(feature_set, FEATURE_SETS, "feature set")
    check_choice(subset, SUBSETS, "subset")
    check_output_dir(out, "--out")
    check_output_dir(cache_dir or paths.features_dir(), "--cache-dir")
    corpus = recipe.corpus
    manifest = select_files(load_corpus(corpus, root), subset)
    log.info(
        "%s (%s): %d files, %s features, %s recipe (%s profile)",
        corpus,
        subset,
        len(manifest),
        feature_set,
        recipe.name,
        recipe.profile,
    )
    warned, _ = clip_report(manifest, recipe.spectrogram, recipe.audio.target_sr)
    if warned:  # the clips ser predict and ser arrays warn about, counted the same way
        logging.getLogger(__name__).warning("%s", clip_problems_line(warned, len(manifest)))
    matrix, info = extract_features(
        manifest, feature_set, recipe=recipe, n_jobs=n_jobs, cache_dir=cache_dir, return_info=True
    )
    path = save_features(
        matrix, manifest, out, corpus=corpus, feature_set=feature_set, recipe=recipe
    )
    return path, matrix.shape, info


def run_arrays(
    recipe: Recipe,
    root: str | Path,
    *,
    out: str | Path,
    subset: str = ORIGINAL_ARRAY_SUBSET,
    n_jobs: int = 2,
    skip_bad_files: bool = False,
) -> dict:
    """Stream the recipe's preprocessed audio and spectrograms to ``.npy`` files: ``ser arrays``.

    Returns the arrays' description (``arrays.json``), with their folder and profile."""
    check_choice(subset, SUBSETS, "subset")
    check_output_dir(out, "--out")
    manifest = load_corpus(recipe.corpus, root)
    array_paths = generate_arrays(
        manifest,
        recipe,
        out,
        n_jobs=n_jobs,
        subset=subset,
        on_error="skip" if skip_bad_files else "raise",
    )
    return {
        **read_json(array_paths.info),
        "directory": str(array_paths.directory),
        "profile": recipe.profile,
    }


def run_folds(
    recipe: Recipe,
    root: str | Path,
    *,
    protocol: str,
    out: str | Path,
    subset: str | None = None,
    split_random_state: int = config.ORIGINAL_SPLIT_RANDOM_STATE,
) -> pd.DataFrame:
    """Write which utterance is train, validation or test in every fold (``utterance_id,fold,split``):
    ``ser folds``. Validation rows are those the recipe's training holds out. Returns the table."""
    subset = subset or default_subset(recipe.corpus)
    check_choice(protocol, PROTOCOLS, "protocol")
    check_choice(subset, SUBSETS, "subset")
    check_output_file(out, "--out")
    rows = select_subset(load_corpus(recipe.corpus, root), subset)
    splitter = make_protocol(protocol, rows, random_state=split_random_state)
    training = recipe.training
    table = fold_assignments(
        rows,
        splitter,
        lambda labels, speakers: validation_split(labels, groups=speakers, config=training),
    )
    write_csv(table, out)
    return table


def uses_encoder(recipe: Recipe) -> bool:
    """Whether the recipe's network reads a pretrained encoder's embeddings, not spectrograms."""
    return recipe.model.name in ENCODER_MODELS


@dataclass(frozen=True)
class NetworkInputs:
    """What a network recipe's folds read: ``inputs`` (N, …) row-aligned with ``metadata``
    (the manifest rows: label, speaker, session, …), where they are kept, the sample rate
    prediction resamples new audio to, and the encoder a head was trained on (name and identity)."""

    inputs: object
    metadata: pd.DataFrame
    directory: Path
    sample_rate: int | None
    encoder: dict


def network_inputs(
    recipe: Recipe,
    manifest: pd.DataFrame,
    arrays_directory: str | Path,
    *,
    n_jobs: int = 2,
    progress: bool = True,
) -> NetworkInputs:
    """The spectrogram arrays of the recipe (:func:`ser_utils.deep.arrays.generate_arrays`,
    reused when up to date), or — for a head over a pretrained encoder (:func:`uses_encoder`) —
    the ``whisper`` embeddings of the same files (R+T whatever their label), from the per-file
    feature cache (``outputs/features``)."""
    if not uses_encoder(recipe):
        array_paths = generate_arrays(
            manifest, recipe, arrays_directory, n_jobs=n_jobs, progress=progress
        )
        spectrograms, _, metadata = load_arrays(array_paths.directory)
        rate = read_json(array_paths.info).get("sample_rate")
        return NetworkInputs(spectrograms, metadata, array_paths.directory, rate, {})
    files = select_files(manifest, ORIGINAL_ARRAY_SUBSET).reset_index(drop=True)
    encoder = WhisperEncoder(recipe.encoder, progress=progress)
    embeddings = extract_features(
        files, "whisper", recipe=recipe, encoder=encoder, progress=progress
    )
    identity = {
        "encoder": str(recipe.encoder or DEFAULT_ENCODER),
        "encoder_identity": encoder.identity,
        "encoder_compute_type": encoder.compute_type,
    }
    return NetworkInputs(
        np.asarray(embeddings),
        files,
        paths.features_dir() / "whisper",
        WHISPER_SAMPLE_RATE,
        identity,
    )
