"""Networks cross-validated on their arrays: ``ser evaluate``, ``ser train`` and notebook 07.

:func:`cross_validate_recipe` is the one place that decides how a recipe's folds train: one
network per fold (the original and improved recipes), or an ensemble fused with an SVM (the
fusion recipe, :mod:`ser_utils.experiments.fusion`). Either way the folds come from the same
rows — the arrays' rows of the evaluated subset (:func:`ser_utils.deep.arrays.subset_rows`) — and
go through the one fold loop (:func:`ser_utils.evaluation.cross_validate`). Within a fold every
choice — the validation part, early stopping, class weights — is made on the training part;
the test fold is only predicted. :func:`run_deep` is the whole run: arrays, every fold of
every training seed, the final model, the run directory.

TensorFlow is imported when a network first trains, not with this module: ``ser traditional``
and the stages load the experiments without it.

>>> default_training_seeds(config.original_recipe("msp-improv", "full"), "original-4fold")
(0, 1, 2)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config, paths
from ..config import FOUR_CLASSES, Recipe, check_choice
from ..corpora.check import check_corpus
from ..deep.arrays import subset_rows
from ..deep.validation import validation_split
from ..deep.views import RowView
from ..errors import ChoiceError, SerError
from ..evaluation import (
    PROTOCOLS,
    CrossValidation,
    FoldPrediction,
    Protocol,
    SelectedFolds,
    cross_validate,
    default_subset,
    fold_composition,
    make_protocol,
)
from ..progress import logger as progress_log
from ..storage import check_free_space, check_output_dir
from . import fusion
from .runs import Run, run_name, write_run
from .stages import network_inputs, uses_encoder

__all__ = [
    "NetworkFolds",
    "cross_validate_recipe",
    "cross_validate_seeds",
    "default_training_seeds",
    "check_single_network",
    "train_bundle",
    "compositions",
    "run_deep",
]

log = progress_log


@dataclass(frozen=True)
class NetworkFolds:
    """The rows of the arrays a network run evaluates and the protocol over them.

    Attributes
    ----------
    rows : pandas.DataFrame
        :func:`ser_utils.deep.arrays.subset_rows`: the evaluated rows, with ``row``, each one's row
        in the arrays.
    protocol : Protocol
        Over ``rows`` (only the selected folds, when ``folds`` was given).
    y : np.ndarray
        Their labels.
    positions : np.ndarray
        Their rows in the arrays.
    speakers : np.ndarray or None
        Their speakers, when the arrays' metadata has them.
    """

    rows: pd.DataFrame
    protocol: Protocol
    y: np.ndarray
    positions: np.ndarray
    speakers: np.ndarray | None

    @classmethod
    def select(
        cls,
        metadata: pd.DataFrame,
        protocol_name: str,
        *,
        labels: Sequence[str],
        subset: str | None,
        folds: Sequence[int] | None,
    ) -> NetworkFolds:
        rows = subset_rows(metadata, subset=subset, labels=labels)
        if len(rows) < 2:
            raise ValueError(
                f"only {len(rows)} utterances with labels {', '.join(labels)} — nothing to "
                "cross-validate"
            )
        protocol = make_protocol(protocol_name, rows)
        if folds is not None:
            n_folds = protocol.splitter.get_n_splits(groups=protocol.groups)
            outside = sorted({int(fold) for fold in folds if not 1 <= int(fold) <= n_folds})
            if outside:
                raise ChoiceError(
                    f"--folds {' '.join(map(str, outside))}: protocol {protocol_name} has "
                    f"{n_folds} folds here — choose folds from 1 to {n_folds}"
                )
            protocol = dataclasses.replace(
                protocol, splitter=SelectedFolds(protocol.splitter, folds)
            )
            progress_log.info(
                f"{protocol_name}: running only fold(s) {', '.join(map(str, protocol.splitter.folds))} "
                f"of {protocol.splitter.splitter.get_n_splits(groups=protocol.groups)}"
            )
        speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
        return cls(
            rows, protocol, rows["label"].astype(str).to_numpy(), rows["row"].to_numpy(), speakers
        )

    def speakers_of(self, part: np.ndarray) -> np.ndarray | None:
        """The speakers of the fold rows ``part`` (None without speakers)."""
        return None if self.speakers is None else self.speakers[part]


def _network_fold(
    spectrograms,
    folds: NetworkFolds,
    *,
    recipe: Recipe,
    labels: Sequence[str],
    out_dir: str | Path | None,
    verbose: int,
):
    """``fit_predict`` of one network per fold, seeded ``recipe.training.seed + fold``."""
    # TensorFlow: loaded when the first network trains
    from ..deep.bundles import save_bundle
    from ..deep.training import history_summary, predict_proba, release_models, train_model

    y, positions, protocol_name = folds.y, folds.positions, folds.protocol.name

    def fit_predict(fold: int, train: np.ndarray, test: np.ndarray) -> FoldPrediction:
        training = dataclasses.replace(recipe.training, seed=recipe.training.seed + fold)
        start = time.perf_counter()
        release_models()
        model, history = train_model(
            recipe.model,
            RowView(spectrograms, positions[train]),
            y[train],
            labels=labels,
            config=training,
            groups=folds.speakers_of(train),
            verbose=verbose,
            progress=f"{protocol_name} fold {fold}",
        )
        probabilities = predict_proba(
            model, RowView(spectrograms, positions[test]), batch_size=recipe.training.batch_size
        )
        predicted = np.asarray(labels)[probabilities.argmax(axis=1)]
        _, held_out = validation_split(
            y[train], groups=folds.speakers_of(train), config=training
        )  # the split train_model made, for the record
        details = {
            **history_summary(history),
            "n_validation": len(held_out),
            "seed": training.seed,
            "seconds": round(time.perf_counter() - start, 1),
        }
        if out_dir is not None:
            save_bundle(
                Path(out_dir) / f"fold{fold}",
                model,
                labels=labels,
                recipe=recipe,
                history=history,
                extra={
                    "protocol": protocol_name,
                    "fold": fold,
                    "n_train": len(train),
                    "test_group": folds.protocol.test_groups(test),
                },
            )
        del model
        return FoldPrediction(predicted, probabilities, details=details, history=history)

    return fit_predict


def cross_validate_recipe(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    protocol_name: str,
    labels: Sequence[str] = FOUR_CLASSES,
    out_dir: str | Path | None = None,
    progress: bool = True,
    folds: Sequence[int] | None = None,
    subset: str | None = None,
    verbose: int = 0,
    features: np.ndarray | None = None,
    n_jobs: int = 1,
) -> CrossValidation:
    """Train and test the recipe's networks on every fold of a protocol.

    For each fold, seeded with ``recipe.training.seed + fold``: the original and improved
    recipes split the training part into train and validation
    (:func:`ser_utils.deep.validation.validation_split`: the original's random 20 % with
    ``random_state`` 727, or grouped by speaker), build ``recipe.model`` for the arrays' input
    shape, fit for ``recipe.training.epochs`` and predict the test fold; the fusion recipe
    trains its ensemble and SVM on the training part and fuses them
    (:func:`ser_utils.experiments.fusion.fusion_fold`). The test fold is used for nothing else.

    Parameters
    ----------
    spectrograms : array or memmap, shape (N, F, T)
        From :func:`ser_utils.deep.arrays.load_arrays`.
    metadata : pandas.DataFrame
        N rows, row-aligned with ``spectrograms`` (``label``, ``speaker``, ``session``,
        ``recording_type``).
    recipe : Recipe
        ``recipe.model``, ``recipe.training`` and, for the fusion recipe, ``recipe.fusion``.
    protocol_name : str
        ``"original-4fold"`` (StratifiedKFold(4), no shuffling — the original), ``"loso"``
        (leave one session out), … (:data:`ser_utils.evaluation.PROTOCOLS`).
    labels : sequence of str, default FOUR_CLASSES
        Class order of the model outputs and reports.
    out_dir : path, optional
        Save each fold's trained model as a bundle ``<out_dir>/fold<k>`` (one network per fold
        only).
    progress : bool, default True
        Progress bar over the folds (Keras prints nothing).
    folds : sequence of int, optional
        Run only these folds (1-based, in protocol order) — to keep a quick run short; they
        are then numbered from 1 (``test_group`` names the held-out session).
    subset : str, optional
        :func:`ser_utils.corpora.select_subset` name; default the corpus's original set.
    verbose : int, default 0
        Keras' per-epoch output (2: one line per epoch).
    features : np.ndarray, shape (N, D), optional
        The fusion recipe's SVM features, row-aligned with ``metadata``; default: made from
        the files of the arrays folder ``spectrograms`` was memory-mapped from.
    n_jobs : int, default 1
        Workers for the fusion recipe's features.

    Returns
    -------
    CrossValidation
        Each fold with its learning curves (``history``) and details: ``epochs``,
        ``best_val_accuracy``, ``best_epoch``, ``seed``, ``seconds``, and ``n_validation`` (one
        network) or the members' scores and the combiner's inner out-of-fold scores (fusion).
    """
    # TensorFlow: loaded when the first network trains
    from ..deep.backend import quiet_tensorflow
    from ..deep.training import release_models

    labels = list(labels)
    quiet_tensorflow()
    selection = NetworkFolds.select(
        metadata, protocol_name, labels=labels, subset=subset, folds=folds
    )
    if recipe.fusion is not None:  # an ensemble fused with an SVM; otherwise one network per fold
        source, features, recipe = fusion.fusion_inputs(
            spectrograms, metadata, recipe=recipe, features=features, out_dir=out_dir, n_jobs=n_jobs
        )
        fit_predict = fusion.fusion_fold(
            source,
            features,
            selection.y,
            selection.positions,
            selection.speakers,
            recipe=recipe,
            labels=labels,
            protocol_name=protocol_name,
            progress=progress,
        )
    else:
        fit_predict = _network_fold(
            spectrograms, selection, recipe=recipe, labels=labels, out_dir=out_dir, verbose=verbose
        )
    result = cross_validate(selection.protocol, selection.y, fit_predict, labels, progress=progress)
    release_models()
    return result


def default_training_seeds(recipe: Recipe, protocol_name: str) -> tuple[int, ...]:
    """The training seeds a protocol runs with by default: for ``original-4fold``
    :data:`config.ORIGINAL_4FOLD_TRAINING_SEEDS` of the recipe's profile (3 draws in full, 1 in
    smoke); for every other protocol the recipe's own seed."""
    if protocol_name == "original-4fold":
        return config.ORIGINAL_4FOLD_TRAINING_SEEDS[recipe.profile]
    return (recipe.training.seed,)


def cross_validate_seeds(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    protocol_name: str,
    seeds: Sequence[int],
    out_dir: str | Path | None = None,
    **options,
) -> CrossValidation:
    """:func:`cross_validate_recipe` once per training seed: the same folds, other draws of the
    weights, dropout and batch order.

    Parameters
    ----------
    spectrograms, metadata, recipe, protocol_name
        As :func:`cross_validate_recipe`.
    seeds : sequence of int
        Training seeds; fold ``k`` of draw ``s`` is seeded with ``s + k``.
    out_dir : path, optional
        Save each fold's model under ``<out_dir>/seed<s>/fold<k>`` (``<out_dir>/fold<k>`` for one seed).
    **options
        Passed to :func:`cross_validate_recipe` (``labels``, ``folds``, ``progress``, …).

    Returns
    -------
    CrossValidation
        Every fold of every draw, each with its ``training_seed``;
        :func:`ser_utils.evaluation.original_table` summarises them.
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one training seed")
    draws = []
    for seed in seeds:
        draw = dataclasses.replace(recipe, training=dataclasses.replace(recipe.training, seed=seed))
        directory = (
            None if out_dir is None else Path(out_dir) / (f"seed{seed}" if len(seeds) > 1 else "")
        )
        result = cross_validate_recipe(
            spectrograms,
            metadata,
            recipe=draw,
            protocol_name=protocol_name,
            out_dir=directory,
            **options,
        )
        draws.append(result.with_training_seed(seed))
    return CrossValidation.concatenate(draws)


def check_single_network(recipe: Recipe, what: str) -> None:
    """Raise :class:`~ser_utils.errors.SerError` when the recipe has no single network to save
    (the fusion recipe: an ensemble fused with an SVM); ``what`` names what was asked for."""
    if recipe.fusion is not None:
        raise SerError(
            f"the {recipe.name} recipe fuses several networks with an SVM and has no single model "
            f"to save ({what}) — evaluate it (ser evaluate), or train the improved recipe"
        )


def train_bundle(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    directory: str | Path,
    labels: Sequence[str] = FOUR_CLASSES,
    subset: str | None = None,
    verbose: int = 0,
    sample_rate: int | None = None,
    extra: dict | None = None,
) -> tuple[Path, dict]:
    """Train the recipe's model on every 4-class utterance (the recipe's validation part held
    out for the learning curves / early stopping) and save it as a bundle.

    Returns
    -------
    directory : Path
        The bundle (:func:`ser_utils.deep.bundles.load_bundle` reads it back).
    history : dict
        Learning curves.
    """
    check_single_network(recipe, "a bundle for `ser predict`")
    # TensorFlow: loaded when the network trains
    from ..deep.bundles import bundle_bytes, save_bundle
    from ..deep.training import release_models, train_model

    subset = subset or default_subset(recipe.corpus)
    rows = subset_rows(metadata, subset=subset, labels=labels)
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    # A disk too full for the bundle is found before the epochs, not after them.
    needed = bundle_bytes(recipe.model, spectrograms.shape[1:], len(labels))
    check_free_space(Path(directory).parent, needed, "the model bundle")
    release_models()
    model, history = train_model(
        recipe.model,
        RowView(spectrograms, rows["row"].to_numpy()),
        y,
        labels=labels,
        config=recipe.training,
        groups=speakers,
        verbose=verbose,
        progress="final model",
    )
    # The rate the spectrograms were made at: prediction resamples new audio to it.
    rate = sample_rate or recipe.audio.target_sr or int(metadata["sample_rate"].mode().iloc[0])
    path = save_bundle(
        directory,
        model,
        labels=labels,
        recipe=recipe,
        history=history,
        extra={
            "subset": subset,
            "n_utterances": len(rows),
            "sample_rate": int(rate),
            **(extra or {}),
        },
    )
    del model
    release_models()
    return Path(path), history


def compositions(metadata: pd.DataFrame, protocol: str | None) -> dict:
    """:func:`ser_utils.evaluation.fold_composition` of ``protocol`` over the evaluated rows and,
    for the original protocol, of leave-one-session-out beside it (when the corpus has sessions)."""
    if protocol is None:
        return {}
    rows = subset_rows(metadata)
    names = [protocol]
    if protocol == "original-4fold" and "session" in rows.columns and rows["session"].nunique() > 1:
        names.append("loso")
    return {name: fold_composition(rows, make_protocol(name, rows)) for name in names}


def run_deep(
    recipe: Recipe,
    root: str | Path | None = None,
    *,
    protocol: str | None,
    train_final: bool = False,
    out: str | Path | None = None,
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
    :func:`default_training_seeds`: 3 draws of original-4fold in the full profile, 1 in smoke)
    -> final model bundle (``train_final``) -> run directory.

    Parameters
    ----------
    recipe : Recipe
        ``original``, ``improved`` or ``fusion``, for its corpus and profile.
    root : path, optional
        The corpus folder; default :func:`ser_utils.paths.corpus_root`.
    protocol : str or None
        None: no cross-validation (``train_final`` only).
    train_final : bool
        Also train the final model on every evaluated utterance and save it as ``<out>/model``.
    out : path, optional
        The run directory; default ``outputs/runs/<run name>``.
    arrays_directory : path, optional
        Default :func:`ser_utils.paths.arrays_dir`.
    folds, epochs, seeds, save_models, n_jobs, progress
        Run only these folds (1-based); override the recipe's epochs; training seeds; save
        each fold's bundle; array workers; progress lines.
    """
    corpus = recipe.corpus
    if protocol is not None:
        check_choice(protocol, PROTOCOLS, "protocol")
    if protocol is None and not train_final:
        raise SerError("nothing to run: give a protocol, or train the final model")
    if save_models:
        check_single_network(recipe, "a model per fold, --save-models")
    if train_final:
        check_single_network(recipe, "the final model")
    root = Path(root) if root is not None else paths.corpus_root(corpus)
    if epochs is not None:
        if epochs < 1:
            raise SerError(f"--epochs must be at least 1, got {epochs}")
        recipe = dataclasses.replace(
            recipe, training=dataclasses.replace(recipe.training, epochs=epochs)
        )
    subset = default_subset(corpus)
    name = run_name(
        corpus=corpus,
        subset=subset,
        inputs="whisper" if uses_encoder(recipe) else recipe.spectrogram.kind,
        protocol=protocol or "final",
        model=recipe.model.name,
        recipe_name=recipe.name,
        extras=[f"folds-{'-'.join(map(str, folds))}"] if folds else [],
    )
    directory = Path(out) if out is not None else paths.run_dir(name)
    arrays_directory = Path(arrays_directory) if arrays_directory else paths.arrays_dir(recipe)
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
        recipe.name,
        recipe.profile,
    )
    manifest = check_corpus(corpus, root)
    log.info("[%d/%d] %s", next(step), steps, "embeddings" if uses_encoder(recipe) else "arrays")
    sources = network_inputs(recipe, manifest, arrays_directory, n_jobs=n_jobs, progress=progress)
    spectrograms, metadata = sources.inputs, sources.metadata
    log.info(
        "      %d clips, inputs %s in %s",
        spectrograms.shape[0],
        spectrograms.shape[1:],
        sources.directory,
    )
    result, histories, bundle = None, {}, None
    seeds = (
        list(seeds)
        if seeds
        else (list(default_training_seeds(recipe, protocol)) if protocol else [])
    )
    if protocol is not None:
        log.info(
            "[%d/%d] cross-validation: %s, %d epochs per fold, training seed(s) %s",
            next(step),
            steps,
            protocol,
            recipe.training.epochs,
            ", ".join(map(str, seeds)),
        )
        result = cross_validate_seeds(
            spectrograms,
            metadata,
            recipe=recipe,
            protocol_name=protocol,
            seeds=seeds,
            folds=folds,
            out_dir=directory / "folds" if save_models else None,
            progress=progress,
        )
        histories.update(
            {
                f"fold {fold.fold}"
                + (f" seed {fold.training_seed}" if len(seeds) > 1 else ""): fold.history
                for fold in result.folds
            }
        )
    if train_final:
        log.info(
            "[%d/%d] final model on every utterance, %d epochs",
            next(step),
            steps,
            recipe.training.epochs,
        )
        bundle, history = train_bundle(
            spectrograms,
            metadata,
            recipe=recipe,
            directory=directory / "model",
            sample_rate=sources.sample_rate,
            extra=sources.encoder,
        )
        histories["final model"] = history
    log.info("[%d/%d] report", next(step), steps)
    run = write_run(
        name,
        result,
        recipe=recipe,
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
            "model": recipe.model.name,
            "folds_run": list(folds) if folds else "all",
            "arrays": str(sources.directory),
            **sources.encoder,
            "training_seeds": seeds or None,
            "seconds": round(time.perf_counter() - start, 1),
        },
    )
    log.info("done in %.0f s; wrote %s", time.perf_counter() - start, directory)
    return run
