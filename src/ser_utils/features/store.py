"""Saved feature matrices: ``<directory>/<corpus>_<set>.npy`` with its row-aligned metadata CSV and
JSON description, loading them back, and selecting rows of a subset."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import Recipe
from ..corpora.check import read_or_build_manifest
from ..corpora.subsets import select_files, select_subset
from ..errors import SerError
from ..paths import features_dir
from ..storage import atomic_path, read_json, write_csv, write_json
from .cache import extract_features, feature_names

log = logging.getLogger(__name__)


def features_path(directory: str | Path, corpus: str, feature_set: str) -> Path:
    """``<directory>/<corpus>_<set>.npy`` (metadata: same name, ``.csv``; description ``.json``)."""
    return Path(directory) / f"{corpus}_{feature_set}.npy"


def save_features(
    matrix: np.ndarray,
    manifest: pd.DataFrame,
    directory: str | Path,
    *,
    corpus: str,
    feature_set: str,
    recipe: Recipe,
) -> Path:
    """Write the matrix, its row-aligned metadata CSV (the manifest rows) and a JSON description
    (shape, recipe, feature names when short), each atomically; returns the ``.npy`` path."""
    if len(matrix) != len(manifest):
        raise ValueError(f"{len(matrix)} feature rows for {len(manifest)} manifest rows")
    target = features_path(directory, corpus, feature_set)
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.asarray(matrix, dtype=np.float32), allow_pickle=False)
    write_csv(manifest.reset_index(drop=True), target.with_suffix(".csv"))
    description = {
        "corpus": corpus,
        "feature_set": feature_set,
        "shape": list(matrix.shape),
        "recipe": recipe.to_dict(),
    }
    if feature_set != "frames":
        description["feature_names"] = feature_names(
            feature_set, config=recipe.features, width=matrix.shape[1]
        )
    write_json(description, target.with_suffix(".json"))
    return target


def load_features(
    directory: str | Path, *, corpus: str, feature_set: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """The matrix and metadata written by :func:`save_features` (raises SerError when missing)."""
    target = features_path(directory, corpus, feature_set)
    if not target.exists() or not target.with_suffix(".csv").exists():
        raise SerError(
            f"{target} not found — run notebook 02_feature_extraction or "
            f"`ser features {corpus} ROOT --features {feature_set} --out {Path(directory)}` first"
        )
    metadata_frame = pd.read_csv(target.with_suffix(".csv"))
    matrix = np.load(target, allow_pickle=False)
    if len(matrix) != len(metadata_frame):
        raise SerError(
            f"{target} has {len(matrix)} rows but its CSV {len(metadata_frame)} — re-run the extraction"
        )
    return matrix, metadata_frame


def read_description(directory: str | Path, *, corpus: str, feature_set: str) -> dict:
    """The JSON description written by :func:`save_features`."""
    return read_json(features_path(directory, corpus, feature_set).with_suffix(".json"))


def load_or_extract(
    corpus: str,
    feature_set: str,
    *,
    recipe: Recipe,
    directory: str | Path | None = None,
    n_jobs: int = -1,
    progress: bool = True,
) -> tuple[np.ndarray, pd.DataFrame]:
    """The matrix of :func:`ser_utils.evaluation.select_files` (``rt``) of ``corpus`` saved under ``directory`` (default
    ``outputs/features``, by notebook 02 or ``ser features``), or extracted and saved when it is
    missing or was made with another recipe or from other files.

    Returns
    -------
    matrix : np.ndarray (N, D) float32
    metadata : DataFrame, row-aligned (the manifest rows)
    """
    directory = Path(directory) if directory is not None else features_dir()
    files = select_files(read_or_build_manifest(corpus))
    try:
        matrix, metadata = load_features(directory, corpus=corpus, feature_set=feature_set)
        description = read_description(directory, corpus=corpus, feature_set=feature_set)
        if description.get("recipe") == json.loads(json.dumps(recipe.to_dict())) and list(
            metadata["path"]
        ) == list(files["path"].astype(str)):
            return matrix, metadata
        log.info(
            "%s was made with another recipe or file list: extracting again",
            features_path(directory, corpus, feature_set),
        )
    except (SerError, OSError, ValueError, KeyError):
        pass
    matrix = extract_features(files, feature_set, recipe=recipe, n_jobs=n_jobs, progress=progress)
    save_features(matrix, files, directory, corpus=corpus, feature_set=feature_set, recipe=recipe)
    return matrix, files


def select_rows(
    matrix: np.ndarray, metadata: pd.DataFrame, subset: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """The rows of ``matrix`` in subset ``subset`` of :func:`ser_utils.evaluation.select_subset`
    (a name of :data:`ser_utils.evaluation.SUBSETS`), and their metadata (index reset)."""
    if len(matrix) != len(metadata):
        raise ValueError(f"{len(matrix)} feature rows for {len(metadata)} metadata rows")
    chosen = select_subset(metadata.assign(_row=np.arange(len(metadata))), subset)
    return matrix[chosen["_row"].to_numpy()], chosen.drop(columns="_row")
