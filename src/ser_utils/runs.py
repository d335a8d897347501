"""Experiments: one function per kind of run, called alike by the notebooks and by ``ser``.

A **run** is one experiment — a corpus, a subset, a feature set or recipe, a protocol and a
model — and writes one **run directory** (:func:`write_run`), by default
``outputs/runs/<run name>/`` (:func:`run_name`)::

    config.json            what was run: corpus, subset, protocol, model, recipe, seeds, versions
    metrics.json           fold means (wa, ua, macro_f1), their std, every fold's row
    metrics.csv            the fold table (each fold, mean, std)
    fold_composition.csv   per fold: class counts, test sessions and speakers (deep runs)
    predictions.csv        every test prediction: utterance_id, fold, split, true, predicted
    confusion.png          the confusion matrix summed over folds (rows: true label)
    learning_curves.png    training and validation curves (deep runs)
    report.md              a Markdown report embedding the above
    model/                 the model bundle (``ser train``; ``ser predict`` reads it)

:func:`traditional` runs a scikit-learn model on a feature set, :func:`deep` a Keras recipe
on its spectrogram arrays; :func:`features`, :func:`arrays` and :func:`folds` are the
stages ``ser`` also exposes. Progress lines go to :mod:`ser_utils.progress` (``ser`` and the
notebooks show them). Names are checked before any work starts, and a
wrong one is a :class:`~ser_utils.errors.SerError` naming the choices.

Examples
--------
>>> run_name(corpus="msp-improv", subset="rt-4class", inputs="functionals", protocol="loso",
...          model="rbf_svm", recipe="original", extras=["grid-grouped"])
'msp-improv_rt-4class_functionals_loso_rbf_svm_original_grid-grouped'
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, evaluation, paths, progress
from .config import Recipe
from .errors import SerError
from .storage import check_output_dir, check_output_file, read_json

__all__ = [
    "Run",
    "run_name",
    "write_run",
    "traditional",
    "deep",
    "features",
    "arrays",
    "folds",
    "compositions",
    "load_run",
]

log = progress.logger


@dataclass
class Run:
    """What a run wrote: its name, directory, fold rows, fold means and files."""

    name: str
    directory: Path
    rows: list[dict]
    summary: dict = field(default_factory=dict)
    written: dict[str, Path] = field(default_factory=dict)


def run_name(
    *,
    corpus: str,
    subset: str,
    inputs: str,
    protocol: str,
    model: str,
    recipe: str,
    extras: Sequence[str] = (),
) -> str:
    """A readable name, unique per run: corpus, subset, inputs (feature set or recipe input),
    protocol, model, recipe, then anything else that changes the result (grid, control…)."""
    return "_".join([corpus, subset, inputs, protocol, model, recipe, *extras])


def load_run(directory: str | Path) -> dict:
    """``metrics.json`` of a run directory, with its ``config.json`` under ``"config"``."""
    directory = Path(directory)
    data = read_json(directory / "metrics.json")
    data["config"] = read_json(directory / "config.json")
    return data


def write_run(
    name: str,
    rows: list[dict] | None,
    *,
    run_config: dict,
    recipe: Recipe,
    directory: str | Path | None,
    corpus_root: str | Path | None = None,
    histories: dict | None = None,
    composition: dict | None = None,
    bundle: Path | None = None,
) -> Run:
    """Write the run directory of ``rows`` (default ``outputs/runs/<name>``) and return it.

    Parameters
    ----------
    name : str
        :func:`run_name`.
    rows : list of dict or None
        Fold rows of :func:`ser_utils.evaluation.evaluate_folds`.
    run_config : dict
        What was run (corpus, subset, protocol, model, …), written to ``config.json``.
    recipe : Recipe
        The recipe of the audio chain (and, for deep runs, of the model).
    directory : path, optional
    corpus_root, histories, composition, bundle
        As :func:`ser_utils.reports.write_run_directory`.
    """
    from .reports import write_run_directory

    directory = Path(directory) if directory is not None else paths.run_dir(name)
    corpus_root = Path(corpus_root) if corpus_root is not None else paths.corpus_root(recipe.corpus)
    written = write_run_directory(
        directory,
        name=name,
        recipe=recipe,
        corpus_root=corpus_root,
        rows=rows,
        run_config=run_config,
        histories=histories or {},
        bundle=bundle,
        composition=composition,
    )
    return Run(
        name, directory, rows or [], evaluation.summarise_folds(rows) if rows else {}, written
    )


# ------------------------------------------------------------------------ traditional
def traditional(
    corpus: str,
    root: str | Path | None = None,
    *,
    model: str = "rbf_svm",
    protocol: str = "original-random",
    subset: str | None = None,
    feature_set: str = "frames",
    grid: str = "none",
    recipe: str = "original",
    random_state: int | None = None,
    split_random_state: int = config.ORIGINAL_SPLIT_RANDOM_STATE,
    permute_labels: int | None = None,
    speaker_norm: bool = False,
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    out: str | Path | None = None,
    progress: bool = True,
) -> Run:
    """A scikit-learn model on a feature set, under a protocol: ``ser traditional``.

    Parameters
    ----------
    corpus : {'tess', 'msp-improv'}
    root : path, optional
        The corpus folder; default :func:`ser_utils.paths.corpus_root`.
    model : str
        A name of :data:`ser_utils.traditional.MODELS`.
    protocol : str
        A name of :data:`ser_utils.evaluation.PROTOCOLS`.
    subset : str, optional
        A name of :data:`ser_utils.evaluation.SUBSETS`; default the original's set of the corpus.
    feature_set : {'frames', 'functionals', 'egemaps'}
    grid : {'none', 'original', 'grouped'}
        No search, the original's grid (5-fold, accuracy) or the grouped UA-scored search.
    recipe : {'original', 'improved'}
        The audio chain the features are extracted from.
    random_state : int, optional
        Seed of the models; default the recipe's seed.
    split_random_state : int
        Seed of the ``original-random`` split.
    permute_labels : int, optional
        A control: shuffle the labels within each training part with this seed.
    speaker_norm : bool, default False
        Z-normalise the features within each speaker
        (:func:`ser_utils.speaker_norm.normalise_features`), with statistics over the
        speaker's recordings of the subset whatever their label
        (:data:`ser_utils.evaluation.UNLABELLED_SUBSETS`): no label is used, the test
        speaker's unlabelled recordings are.
    n_jobs, cache_dir, progress
        Feature extraction and grid search workers; feature cache; progress bars.
    out : path, optional
        The run directory; default ``outputs/runs/<run name>``.
    """
    from . import features as feature_sets
    from . import traditional as models
    from .corpora import load_corpus

    config.check_choice(corpus, config.CORPORA, "corpus")
    subset = subset or evaluation.default_subset(corpus)
    for what, value, choices in (
        ("model", model, tuple(models.MODELS)),
        ("protocol", protocol, evaluation.PROTOCOLS),
        ("subset", subset, evaluation.SUBSETS),
        ("feature set", feature_set, feature_sets.FEATURE_SETS),
        ("grid", grid, models.GRIDS),
        ("recipe", recipe, config.RECIPES),
    ):
        config.check_choice(value, choices, what)
    models.check_model_grid(model, grid)
    root = Path(root) if root is not None else paths.corpus_root(corpus)
    recipe_ = config.get_recipe(recipe, corpus, paths.profile(root))
    name = run_name(
        corpus=corpus,
        subset=subset,
        inputs=feature_set,
        protocol=protocol,
        model=model,
        recipe=recipe_.name,
        extras=([f"grid-{grid}"] if grid != "none" else [])
        + ([f"permuted-{permute_labels}"] if permute_labels is not None else [])
        + (["speaker-norm"] if speaker_norm else []),
    )
    directory = Path(out) if out is not None else paths.run_dir(name)
    check_output_dir(directory, "--out")
    check_output_dir(cache_dir or paths.features_dir(), "--cache-dir")
    corpus_manifest = load_corpus(corpus, root)
    manifest = evaluation.select_subset(corpus_manifest, subset)
    splitter = evaluation.make_protocol(protocol, manifest, random_state=split_random_state)
    log.info(
        "%s %s: %d utterances, %d folds (%s); %s features, %s recipe (%s)",
        corpus,
        subset,
        len(manifest),
        splitter.n_splits,
        protocol,
        feature_set,
        recipe_.name,
        recipe_.profile,
    )
    # speaker normalisation takes its statistics over the subset's recordings whatever their label
    extracted = (
        evaluation.select_subset(corpus_manifest, evaluation.UNLABELLED_SUBSETS[subset])
        if speaker_norm
        else manifest
    )
    matrix = feature_sets.extract_features(
        extracted,
        feature_set,
        recipe=recipe_,
        n_jobs=n_jobs,
        cache_dir=cache_dir,
        progress=progress,
    )
    if speaker_norm:
        matrix = _speaker_normalised_rows(matrix, extracted, manifest)
    random_state = recipe_.training.seed if random_state is None else random_state
    rows = models.nested_evaluation(
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
        rows,
        recipe=recipe_,
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


def _speaker_normalised_rows(
    matrix: np.ndarray, extracted: pd.DataFrame, manifest: pd.DataFrame
) -> np.ndarray:
    """``matrix`` (the features of ``extracted``'s rows) z-normalised within each speaker,
    at the rows of ``manifest`` (a subset of ``extracted``)."""
    from .speaker_norm import normalise_features

    if "speaker" not in extracted.columns:
        raise SerError("--speaker-norm needs the speaker of every utterance: this corpus has none")
    normalised = normalise_features(matrix, extracted["speaker"])
    position = pd.Series(np.arange(len(extracted)), index=extracted["utterance_id"].to_numpy())
    return normalised[position.loc[manifest["utterance_id"].to_numpy()].to_numpy()]


# ------------------------------------------------------------------------------ deep
def compositions(metadata: pd.DataFrame, protocol: str | None) -> dict:
    """:func:`evaluation.fold_composition` of ``protocol`` over the evaluated rows, and, for
    the original protocol, of leave-one-session-out beside it (when the corpus has sessions)."""
    from .end_to_end import subset_rows

    if protocol is None:
        return {}
    rows = subset_rows(metadata)
    names = [protocol]
    if protocol == "original-4fold" and "session" in rows.columns and rows["session"].nunique() > 1:
        names.append("loso")
    return {
        name: evaluation.fold_composition(rows, evaluation.make_protocol(name, rows))
        for name in names
    }


def deep(
    corpus: str,
    root: str | Path | None = None,
    *,
    recipe: str = "original",
    protocol: str | None,
    train_final: bool = False,
    out: str | Path | None = None,
    profile: str | None = None,
    arrays_directory: str | Path | None = None,
    folds: Sequence[int] | None = None,
    epochs: int | None = None,
    seeds: Sequence[int] | None = None,
    save_models: bool = False,
    n_jobs: int = 2,
    progress: bool = True,
) -> Run:
    """A Keras recipe on its spectrogram arrays: ``ser evaluate`` / ``ser train``, notebook 07.

    Stages, each logged as it starts: manifest -> arrays (streamed to ``.npy``, reused when
    up to date) -> cross-validation under ``protocol``, once per training seed (default
    :func:`ser_utils.end_to_end.default_training_seeds`: 3 draws of original-4fold in the
    full profile, 1 in smoke) -> final model bundle (``train_final``) -> run directory.

    Parameters
    ----------
    corpus : {'tess', 'msp-improv'}
    root : path, optional
        The corpus folder; default :func:`ser_utils.paths.corpus_root`.
    recipe : {'original', 'improved'}
    protocol : str or None
        None: no cross-validation (``train_final`` only).
    train_final : bool
        Also train the final model on every evaluated utterance and save it as ``<out>/model``.
    out : path, optional
        The run directory; default ``outputs/runs/<run name>``.
    profile : {'full', 'smoke'}, optional
        Default :func:`ser_utils.paths.profile` of ``root``.
    arrays_directory : path, optional
        Default :func:`ser_utils.paths.arrays_dir`.
    folds, epochs, seeds, save_models, n_jobs, progress
        Run only these folds (1-based); override the recipe's epochs; training seeds; save
        each fold's bundle; array workers; progress lines.
    """
    from .arrays import generate_arrays, load_arrays
    from .data_check import check_corpus
    from .end_to_end import cross_validate_seeds, default_training_seeds, train_bundle

    config.check_choice(corpus, config.CORPORA, "corpus")
    config.check_choice(recipe, config.RECIPES, "recipe")
    if protocol is not None:
        config.check_choice(protocol, evaluation.PROTOCOLS, "protocol")
    if protocol is None and not train_final:
        raise SerError("nothing to run: give a protocol, or train the final model")
    if save_models and config.get_recipe(recipe, corpus, "smoke").fusion is not None:
        raise SerError(
            f"the {recipe} recipe's folds are ensembles fused with an SVM: there is no fold model to "
            "save — leave out --save-models"
        )
    if train_final and config.get_recipe(recipe, corpus, "smoke").fusion is not None:
        raise SerError(
            f"the {recipe} recipe fuses several networks with an SVM and has no single model to "
            "save — evaluate it (ser evaluate), or train the improved recipe"
        )
    root = Path(root) if root is not None else paths.corpus_root(corpus)
    recipe_ = config.get_recipe(recipe, corpus, profile or paths.profile(root))
    if epochs is not None:
        if epochs < 1:
            raise SerError(f"--epochs must be at least 1, got {epochs}")
        recipe_ = dataclasses.replace(
            recipe_, training=dataclasses.replace(recipe_.training, epochs=epochs)
        )
    subset = evaluation.default_subset(corpus)
    name = run_name(
        corpus=corpus,
        subset=subset,
        inputs=recipe_.spectrogram.kind,
        protocol=protocol or "final",
        model=recipe_.model.name,
        recipe=recipe_.name,
        extras=[f"folds-{'-'.join(map(str, folds))}"] if folds else [],
    )
    directory = Path(out) if out is not None else paths.run_dir(name)
    arrays_directory = Path(arrays_directory) if arrays_directory else paths.arrays_dir(recipe_)
    # Checked first: training for an hour and then failing to write is the worst outcome.
    check_output_dir(directory, "--out")
    check_output_dir(arrays_directory, "--arrays")
    steps = 3 + (protocol is not None) + train_final
    step = iter(range(1, steps + 1))
    start = time.perf_counter()
    log.info(
        "[%d/%d] manifest of %s at %s (%s recipe, %s profile)",
        next(step),
        steps,
        corpus,
        root,
        recipe_.name,
        recipe_.profile,
    )
    manifest = check_corpus(corpus, root)
    log.info("[%d/%d] arrays", next(step), steps)
    array_paths = generate_arrays(
        manifest, recipe_, arrays_directory, n_jobs=n_jobs, progress=progress
    )
    spectrograms, _, metadata = load_arrays(array_paths.directory)
    log.info(
        "      %d clips, spectrograms %s in %s",
        spectrograms.shape[0],
        spectrograms.shape[1:],
        array_paths.directory,
    )
    rows, histories, bundle = None, {}, None
    seeds = (
        list(seeds)
        if seeds
        else (list(default_training_seeds(recipe_, protocol)) if protocol else [])
    )
    if protocol is not None:
        log.info(
            "[%d/%d] cross-validation: %s, %d epochs per fold, training seed(s) %s",
            next(step),
            steps,
            protocol,
            recipe_.training.epochs,
            ", ".join(map(str, seeds)),
        )
        rows = cross_validate_seeds(
            spectrograms,
            metadata,
            recipe=recipe_,
            protocol_name=protocol,
            seeds=seeds,
            folds=folds,
            out_dir=directory / "folds" if save_models else None,
            progress=progress,
        )
        histories.update(
            {
                f"fold {row['fold']}"
                + (f" seed {row['training_seed']}" if len(seeds) > 1 else ""): row.get("history")
                for row in rows
            }
        )
    if train_final:
        log.info(
            "[%d/%d] final model on every utterance, %d epochs",
            next(step),
            steps,
            recipe_.training.epochs,
        )
        bundle, history = train_bundle(
            spectrograms,
            metadata,
            recipe=recipe_,
            directory=directory / "model",
            sample_rate=read_json(array_paths.info).get("sample_rate"),
        )
        histories["final model"] = history
    log.info("[%d/%d] report", next(step), steps)
    run = write_run(
        name,
        rows,
        recipe=recipe_,
        directory=directory,
        corpus_root=root,
        histories=histories,
        bundle=bundle,
        composition=compositions(metadata, protocol),
        run_config={
            "kind": "deep",
            "command": "train" if train_final else "evaluate",
            "corpus": corpus,
            "subset": subset,
            "protocol": protocol,
            "model": recipe_.model.name,
            "folds_run": list(folds) if folds else "all",
            "arrays": str(array_paths.directory),
            "training_seeds": seeds or None,
            "seconds": round(time.perf_counter() - start, 1),
        },
    )
    log.info("done in %.0f s; wrote %s", time.perf_counter() - start, directory)
    return run


# ---------------------------------------------------------------------------- stages
def features(
    corpus: str,
    root: str | Path,
    *,
    feature_set: str,
    out: str | Path,
    recipe: str = "original",
    subset: str = evaluation.ORIGINAL_ARRAY_SUBSET,
    n_jobs: int = -1,
    cache_dir: str | Path | None = None,
) -> tuple[Path, tuple[int, int], object]:
    """Extract a feature matrix (cached per file) and save it with its metadata: ``ser features``.

    Returns the ``.npy`` path, the matrix's shape and what the cache did
    (:class:`~ser_utils.features.ExtractionInfo`)."""
    from . import features as feature_sets
    from .corpora import load_corpus

    for what, value, choices in (
        ("corpus", corpus, config.CORPORA),
        ("feature set", feature_set, feature_sets.FEATURE_SETS),
        ("recipe", recipe, config.RECIPES),
        ("subset", subset, evaluation.SUBSETS),
    ):
        config.check_choice(value, choices, what)
    check_output_dir(out, "--out")
    check_output_dir(cache_dir or paths.features_dir(), "--cache-dir")
    manifest = evaluation.select_files(load_corpus(corpus, root), subset)
    recipe_ = config.get_recipe(recipe, corpus, paths.profile(root))
    log.info(
        "%s (%s): %d files, %s features, %s recipe (%s profile)",
        corpus,
        subset,
        len(manifest),
        feature_set,
        recipe_.name,
        recipe_.profile,
    )
    matrix, info = feature_sets.extract_features(
        manifest, feature_set, recipe=recipe_, n_jobs=n_jobs, cache_dir=cache_dir, return_info=True
    )
    path = feature_sets.save_features(
        matrix, manifest, out, corpus=corpus, feature_set=feature_set, recipe=recipe_
    )
    return path, matrix.shape, info


def arrays(
    corpus: str,
    root: str | Path,
    *,
    out: str | Path,
    recipe: str = "original",
    profile: str | None = None,
    subset: str = evaluation.ORIGINAL_ARRAY_SUBSET,
    n_jobs: int = 2,
    skip_bad_files: bool = False,
) -> dict:
    """Stream preprocessed audio and spectrograms to ``.npy`` files: ``ser arrays``.

    Returns the arrays' description (``arrays.json``)."""
    from .arrays import generate_arrays
    from .corpora import load_corpus

    config.check_choice(corpus, config.CORPORA, "corpus")
    config.check_choice(subset, evaluation.SUBSETS, "subset")
    check_output_dir(out, "--out")
    manifest = load_corpus(corpus, root)
    recipe_ = config.get_recipe(recipe, corpus, profile or paths.profile(root))
    array_paths = generate_arrays(
        manifest,
        recipe_,
        out,
        n_jobs=n_jobs,
        subset=subset,
        on_error="skip" if skip_bad_files else "raise",
    )
    return {
        **read_json(array_paths.info),
        "directory": str(array_paths.directory),
        "profile": recipe_.profile,
    }


def folds(
    corpus: str,
    root: str | Path,
    *,
    protocol: str,
    out: str | Path,
    subset: str | None = None,
    recipe: str = "original",
    split_random_state: int = config.ORIGINAL_SPLIT_RANDOM_STATE,
) -> pd.DataFrame:
    """Write which utterance is train, validation or test in every fold (``utterance_id,fold,split``):
    ``ser folds``. Validation rows are those the recipe's training holds out. Returns the table."""
    from .corpora import load_corpus
    from .storage import write_csv

    config.check_choice(corpus, config.CORPORA, "corpus")
    subset = subset or evaluation.default_subset(corpus)
    config.check_choice(protocol, evaluation.PROTOCOLS, "protocol")
    config.check_choice(subset, evaluation.SUBSETS, "subset")
    config.check_choice(recipe, config.RECIPES, "recipe")
    check_output_file(out, "--out")
    rows = evaluation.select_subset(load_corpus(corpus, root), subset)
    splitter = evaluation.make_protocol(protocol, rows, random_state=split_random_state)
    training = config.get_recipe(recipe, corpus, "full").training
    from .training import (
        validation_split,  # imports TensorFlow: only once the input is known to be good
    )

    table = evaluation.fold_assignments(
        rows,
        splitter,
        lambda labels, speakers: validation_split(labels, groups=speakers, config=training),
    )
    write_csv(table, out)
    return table
