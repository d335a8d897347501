"""The stages ``ser`` exposes on their own: a feature matrix (``ser features``), the arrays of a
recipe (``ser arrays``) and the fold assignments of a protocol (``ser folds``)."""

from __future__ import annotations

import logging
from pathlib import Path

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
from ..deep.arrays import generate_arrays
from ..deep.validation import validation_split
from ..evaluation import PROTOCOLS, fold_assignments, make_protocol
from ..features import FEATURE_SETS, ExtractionInfo, extract_features, save_features
from ..progress import logger as progress_log
from ..storage import check_output_dir, check_output_file, read_json, write_csv

__all__ = ["run_features", "run_arrays", "run_folds"]

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
