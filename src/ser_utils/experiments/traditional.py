"""A scikit-learn model on a feature set, under a protocol: the run ``ser traditional`` makes
and notebooks 03, 06 and 07 call.

The features are extracted (and cached) with the recipe's audio chain, optionally normalised
within each speaker, and evaluated by :func:`ser_utils.traditional.nested_evaluation` — each
fold's model fitted (and tuned, with a grid) on its training part alone — into one run
directory (:mod:`ser_utils.experiments.runs`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import config, paths
from ..config import Recipe, check_choice
from ..corpora import UNLABELLED_SUBSETS, default_subset, load_corpus, select_subset
from ..errors import SerError
from ..evaluation import PROTOCOLS, SUBSETS, make_protocol
from ..features import FEATURE_SETS, extract_features
from ..features.speaker_norm import normalise_features
from ..progress import logger as progress_log
from ..storage import check_output_dir
from ..traditional import (
    GRIDS,
    MODELS,
    ORIGINAL_RUNS,
    as_original_ran,
    check_model_grid,
    nested_evaluation,
)
from .runs import Run, run_name, write_run

__all__ = ["run_traditional", "speaker_normalised_rows"]

log = progress_log


def run_traditional(
    recipe: Recipe,
    root: str | Path | None = None,
    *,
    model: str = "rbf_svm",
    protocol: str = "original-random",
    subset: str | None = None,
    feature_set: str = "frames",
    grid: str = "none",
    random_state: int | None = None,
    split_random_state: int = config.ORIGINAL_SPLIT_RANDOM_STATE,
    permute_labels: int | None = None,
    speaker_norm: bool = False,
    original_run: str = "evaluation",
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> Run:
    """A scikit-learn model on a feature set, under a protocol: ``ser traditional``.

    Parameters
    ----------
    recipe : Recipe
        Its corpus, and the audio chain the features are extracted from (``original`` or
        ``improved``, at the corpus's profile).
    root : path, optional
        The corpus folder; default :func:`ser_utils.paths.corpus_root`.
    model : str
        A name of :data:`ser_utils.traditional.MODELS`.
    protocol : str
        A name of :data:`ser_utils.evaluation.PROTOCOLS`.
    subset : str, optional
        A name of :data:`ser_utils.corpora.SUBSETS`; default the original's set of the corpus.
    feature_set : {'frames', 'functionals', 'egemaps'}
    grid : {'none', 'original', 'grouped'}
        No search, the original's grid (5-fold, accuracy) or the grouped UA-scored search.
    random_state : int, optional
        Seed of the models; default the recipe's seed.
    split_random_state : int
        Seed of the ``original-random`` split.
    permute_labels : int, optional
        A control: shuffle the labels within each training part with this seed.
    speaker_norm : bool, default False
        Z-normalise the features within each speaker
        (:func:`ser_utils.features.speaker_norm.normalise_features`), with statistics over the
        speaker's recordings of the subset whatever their label
        (:data:`ser_utils.corpora.UNLABELLED_SUBSETS`): no label is used, the test
        speaker's unlabelled recordings are.
    original_run : {'evaluation', 'first'}
        Under the original recipe and the ``original-random`` protocol, the original run whose
        rates and feature order are reproduced (:func:`ser_utils.traditional.as_original_ran`):
        its evaluation notebook (the default) or its first notebook (consensus labels, grid search).
        Other protocols keep the recipe's own, correct rates.
    n_jobs, cache_dir, progress
        Feature extraction and grid search workers; feature cache; progress bars.
    out : path, optional
        The run directory; default ``outputs/runs/<run name>``.
    """
    corpus = recipe.corpus
    subset = subset or default_subset(corpus)
    for what, value, choices in (
        ("model", model, tuple(MODELS)),
        ("protocol", protocol, PROTOCOLS),
        ("subset", subset, SUBSETS),
        ("feature set", feature_set, FEATURE_SETS),
        ("grid", grid, GRIDS),
    ):
        check_choice(value, choices, what)
    check_model_grid(model, grid)
    check_choice(original_run, ORIGINAL_RUNS, "original run")
    # the original's random splits ran on the rates its code computed; grouped protocols keep the true ones
    as_ran = recipe.name == "original" and protocol == "original-random"
    if as_ran:
        recipe = as_original_ran(recipe, original_run)
    root = Path(root) if root is not None else paths.corpus_root(corpus)
    name = run_name(
        corpus=corpus,
        subset=subset,
        inputs=feature_set,
        protocol=protocol,
        model=model,
        recipe_name=recipe.name,
        extras=([f"grid-{grid}"] if grid != "none" else [])
        + ([f"permuted-{permute_labels}"] if permute_labels is not None else [])
        + (["speaker-norm"] if speaker_norm else [])
        + (["first-notebook"] if as_ran and corpus != "tess" and original_run == "first" else []),
    )
    directory = Path(out) if out is not None else paths.run_dir(name)
    check_output_dir(directory, "--out")
    check_output_dir(cache_dir or paths.features_dir(), "--cache-dir")
    corpus_manifest = load_corpus(corpus, root)
    manifest = select_subset(corpus_manifest, subset)
    splitter = make_protocol(protocol, manifest, random_state=split_random_state)
    log.info(
        "%s %s: %d utterances, %d folds (%s); %s features, %s recipe (%s)",
        corpus,
        subset,
        len(manifest),
        splitter.n_splits,
        protocol,
        feature_set,
        recipe.name,
        recipe.profile,
    )
    # speaker normalisation takes its statistics over the subset's recordings whatever their label
    extracted = (
        select_subset(corpus_manifest, UNLABELLED_SUBSETS[subset]) if speaker_norm else manifest
    )
    matrix = extract_features(
        extracted,
        feature_set,
        recipe=recipe,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        progress=progress,
    )
    if speaker_norm:
        matrix = speaker_normalised_rows(matrix, extracted, manifest)
    random_state = recipe.training.seed if random_state is None else random_state
    result = nested_evaluation(
        matrix,
        manifest,
        model=model,
        protocol=splitter,
        grid=grid,
        random_state=random_state,
        n_jobs=n_jobs,
        permute_labels=permute_labels,
        progress=progress,
    )
    return write_run(
        name,
        result,
        recipe=recipe,
        directory=directory,
        corpus_root=root,
        run_config={
            "kind": "traditional",
            "corpus": corpus,
            "subset": subset,
            "protocol": protocol,
            "model": model,
            "features": feature_set,
            "grid": grid,
            "random_state": random_state,
            "permuted_labels_seed": permute_labels,
            "speaker_norm": speaker_norm,
            "split_random_state": split_random_state if protocol == "original-random" else None,
            "n_utterances": len(manifest),
            "n_features": int(matrix.shape[1]),
        },
    )


def speaker_normalised_rows(
    matrix: np.ndarray, extracted: pd.DataFrame, manifest: pd.DataFrame
) -> np.ndarray:
    """``matrix`` (the features of ``extracted``'s rows) z-normalised within each speaker,
    at the rows of ``manifest`` (a subset of ``extracted``)."""
    if "speaker" not in extracted.columns:
        raise SerError("--speaker-norm needs the speaker of every utterance: this corpus has none")
    normalised = normalise_features(matrix, extracted["speaker"])
    position = pd.Series(np.arange(len(extracted)), index=extracted["utterance_id"].to_numpy())
    return normalised[position.loc[manifest["utterance_id"].to_numpy()].to_numpy()]
