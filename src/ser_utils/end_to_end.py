"""The deep-learning experiments: cross-validated training/evaluation per protocol, the
hyperparameter exploration and the final trained bundle — what notebooks 05 and 07 and the
``ser`` command call.

Every function reads the arrays of :mod:`ser_utils.arrays` (spectrograms memory-mapped,
metadata row-aligned) and selects the 4-class R+T utterances itself, so the same arrays
serve every experiment. Within a fold, every choice — the validation part, early
stopping, class weights — is made on the training part; the test fold is only predicted.

Whole runs (arrays, every fold, the run directory) go through :func:`ser_utils.runs.deep`;
training examples are in ``tests/test_end_to_end.py``. The rows an evaluation uses, and the
training seeds it repeats with:

>>> metadata = pd.DataFrame({"label": ["angry", "other", "sad", "happy"], "recording_type": ["R", "T", "P", "T"],
...                          "corpus": "msp-improv"})
>>> subset_rows(metadata)[["label", "row"]].values.tolist()
[['angry', 0], ['happy', 3]]
>>> default_training_seeds(config.original_recipe("msp-improv", "full"), "original-4fold")
(0, 1, 2)
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, evaluation
from .config import FOUR_CLASSES, ModelConfig, Recipe
from .errors import SerError
from .progress import logger as progress_log

__all__ = [
    "RowView",
    "subset_rows",
    "cross_validate_model",
    "explore_hyperparameters",
    "train_bundle",
    "compare_with_original",
    "ORIGINAL_EXPLORATION",
    "cross_validate_seeds",
    "default_training_seeds",
    "exploration_grid",
]

log = logging.getLogger(__name__)

#: The original's exploration in compact form, one change at a time from its final model
#: (average pooling 3×3, Adam 5e-4, L1 1e-3): learning rate, pooling type and size, L1.
#: ``learning_rate`` goes to the training config, every other key to the model builder.
ORIGINAL_EXPLORATION: dict[str, dict] = {
    "final (avg pool 3, lr 5e-4, L1 1e-3)": {},
    "learning rate 1e-4": {"learning_rate": 1e-4},
    "learning rate 1e-3": {"learning_rate": 1e-3},
    "max pooling": {"pooling": "max"},
    "pool size 4": {"pool_size": 4},
    "L1 1e-2": {"l1": 1e-2},
}


class RowView:
    """Rows ``rows`` of ``array`` as an array-like — ``len``, ``shape``, ``dtype`` and integer
    indexing — without copying: a fold's training part of a memory-mapped ``.npy`` is read
    batch by batch by :class:`ser_utils.training.ArrayBatches`, never loaded whole.

    Parameters
    ----------
    array : np.ndarray or np.memmap, shape (N, ...)
    rows : array of int
        Rows of ``array``, increasing (sequential reads).
    """

    def __init__(self, array, rows: Sequence[int]):
        self.array = array
        self.rows = np.asarray(rows, dtype=np.int64)
        self.shape = (len(self.rows), *array.shape[1:])
        self.dtype = array.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        return self.array[self.rows[index]]


def subset_rows(
    metadata: pd.DataFrame, *, subset: str | None = None, labels: Sequence[str] = FOUR_CLASSES
) -> pd.DataFrame:
    """The rows of ``metadata`` that take part: :func:`evaluation.select_subset` ``(subset)``
    with a label in ``labels``, and a column ``row`` giving each one's row in the arrays.

    ``subset`` defaults to the original's evaluation set of the metadata's corpus
    (:func:`evaluation.default_subset`: on MSP-IMPROV ``rt-4class``, 1218 on the real corpus)."""
    frame = metadata.assign(row=np.arange(len(metadata)))
    if subset is None:
        corpus = (
            str(frame["corpus"].iloc[0])
            if "corpus" in frame.columns and len(frame)
            else "msp-improv"
        )
        subset = evaluation.default_subset(corpus)
    frame = evaluation.select_subset(frame, subset)
    return frame[frame["label"].isin(list(labels)).to_numpy()].reset_index(drop=True)


def _training_config(recipe: Recipe, **changes) -> config.TrainingConfig:
    return dataclasses.replace(recipe.training, **changes)


def _clear_keras() -> None:
    """Release the previous model between trainings: one garbage collection (about 0.25 s,
    so once per training, not more).

    Not ``keras.backend.clear_session()``: on TensorFlow it also clears the kernel cache, so
    every traced function, the twins of :func:`ser_utils.training.train_model` included, is
    instantiated again on its next call, about 0.1 s per function whatever the model's size.
    What else it resets is not needed here: each training reseeds Keras' generator
    (:func:`ser_utils.training.set_global_seed`), and layer names do not change a number."""
    gc.collect()


def _quiet_tensorflow() -> None:
    # Each fold builds a new model, so TensorFlow warns about retracing predict: expected here.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


class _SelectedFolds:
    """A scikit-learn splitter that yields only the folds ``folds`` (1-based) of ``splitter``."""

    def __init__(self, splitter, folds: Sequence[int]):
        self.splitter = splitter
        self.folds = sorted({int(fold) for fold in folds})

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return len(self.folds)

    def split(self, X, y=None, groups=None):
        for number, split in enumerate(self.splitter.split(X, y, groups=groups), start=1):
            if number in self.folds:
                yield split


def _history_summary(history: dict) -> dict:
    summary = {"epochs": len(history.get("loss", []))}
    if history.get("val_accuracy"):
        best = int(np.argmax(history["val_accuracy"]))
        summary.update(
            best_val_accuracy=float(history["val_accuracy"][best]),
            best_epoch=best + 1,
            final_val_accuracy=float(history["val_accuracy"][-1]),
        )
    if history.get("accuracy"):
        summary["final_train_accuracy"] = float(history["accuracy"][-1])
    return summary


# --------------------------------------------------------------------- cross-validation
def cross_validate_model(
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
) -> list[dict]:
    """Train and test the recipe's model on every fold of a protocol.

    For each fold: seed every generator with ``recipe.training.seed + fold``; split the
    training part into train and validation (:func:`ser_utils.training.validation_split`:
    the original's random 20 % with ``random_state`` 727, or grouped by speaker for the
    improved recipe); build ``recipe.model`` for the arrays' input shape; fit for
    ``recipe.training.epochs`` (early stopping and class weights only from the training
    part); predict the test fold. The test fold is used for nothing else.

    Parameters
    ----------
    spectrograms : array or memmap, shape (N, F, T)
        From :func:`ser_utils.arrays.load_arrays`.
    metadata : pandas.DataFrame
        N rows, row-aligned with ``spectrograms`` (``label``, ``speaker``, ``session``,
        ``recording_type``).
    recipe : Recipe
        ``recipe.model`` and ``recipe.training``.
    protocol_name : str
        ``"original-4fold"`` (StratifiedKFold(4), no shuffling — the original), ``"loso"``
        (leave one session out), … (:data:`ser_utils.evaluation.PROTOCOLS`).
    labels : sequence of str, default FOUR_CLASSES
        Class order of the model outputs and reports.
    out_dir : path, optional
        Save each fold's trained model as a bundle ``<out_dir>/fold<k>``.
    progress : bool, default True
        Progress bar over the folds (Keras prints nothing).
    folds : sequence of int, optional
        Run only these folds (1-based, in protocol order) — to keep a quick run short;
        the rows then cover only them (``fold`` numbers restart at 1; ``test_group`` names
        the held-out session).
    subset : str, optional
        :func:`ser_utils.evaluation.select_subset` name; default the corpus's original set.
    verbose : int, default 0
        Keras' per-epoch output (2: one line per epoch).

    Returns
    -------
    list of dict
        :func:`ser_utils.evaluation.evaluate_folds` rows: ``wa``, ``ua``, ``macro_f1``,
        ``per_class``, ``confusion``, ``n_train``, ``n_test`` and ``epochs``,
        ``best_val_accuracy``, ``best_epoch``, ``n_validation``, ``seed`` and ``history``
        (the learning curves).
    """
    if (
        recipe.fusion is not None
    ):  # an ensemble fused with the SVM: its own fold loop, the same folds
        from .fusion import cross_validate_recipe

        return cross_validate_recipe(
            spectrograms,
            metadata,
            recipe=recipe,
            protocol_name=protocol_name,
            labels=labels,
            out_dir=out_dir,
            progress=progress,
            folds=folds,
            subset=subset,
            verbose=verbose,
        )
    from .bundles import save_bundle
    from .training import predict_proba, train_model, validation_split

    _quiet_tensorflow()
    rows = subset_rows(metadata, subset=subset, labels=labels)
    if len(rows) < 2:
        raise ValueError(
            f"only {len(rows)} utterances with labels {', '.join(labels)} — nothing to cross-validate"
        )
    protocol = evaluation.make_protocol(protocol_name, rows)
    if folds is not None:
        protocol = dataclasses.replace(protocol, splitter=_SelectedFolds(protocol.splitter, folds))
        progress_log.info(
            f"{protocol_name}: running only fold(s) {', '.join(map(str, protocol.splitter.folds))} "
            f"of {protocol.splitter.splitter.get_n_splits(groups=protocol.groups)}"
        )
    y = rows["label"].astype(str).to_numpy()
    positions = rows["row"].to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    counter = {"fold": 0}

    def fit_predict(train: np.ndarray, test: np.ndarray):
        counter["fold"] += 1
        fold = counter["fold"]
        training = _training_config(recipe, seed=recipe.training.seed + fold)
        start = time.perf_counter()
        _clear_keras()
        model, history = train_model(
            recipe.model,
            RowView(spectrograms, positions[train]),
            y[train],
            labels=labels,
            config=training,
            groups=None if speakers is None else speakers[train],
            verbose=verbose,
            progress=f"{protocol_name} fold {fold}",
        )
        probabilities = predict_proba(
            model, RowView(spectrograms, positions[test]), batch_size=recipe.training.batch_size
        )
        predicted = np.asarray(labels)[probabilities.argmax(axis=1)]
        _, held_out = validation_split(
            y[train], groups=None if speakers is None else speakers[train], config=training
        )  # the split fit_model made, for the record
        info = {
            **_history_summary(history),
            "n_validation": len(held_out),
            "probabilities": probabilities,
            "seed": training.seed,
            "seconds": round(time.perf_counter() - start, 1),
            "history": history,
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
                    "test_group": protocol.test_groups(test),
                },
            )
        del model
        return predicted, info

    results = evaluation.evaluate_folds(protocol, y, fit_predict, labels, progress=progress)
    _clear_keras()
    return results


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
) -> list[dict]:
    """:func:`cross_validate_model` once per training seed: the same folds, other draws of the
    weights, dropout and batch order.

    Parameters
    ----------
    spectrograms, metadata, recipe, protocol_name
        As :func:`cross_validate_model`.
    seeds : sequence of int
        Training seeds; fold ``k`` of draw ``s`` is seeded with ``s + k``.
    out_dir : path, optional
        Save each fold's model under ``<out_dir>/seed<s>/fold<k>`` (``<out_dir>/fold<k>`` for one seed).
    **options
        Passed to :func:`cross_validate_model` (``labels``, ``folds``, ``progress``, …).

    Returns
    -------
    list of dict
        Every fold row of every draw, each with ``training_seed``;
        :func:`ser_utils.evaluation.original_table` summarises them.
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one training seed")
    rows = []
    for seed in seeds:
        draw = dataclasses.replace(recipe, training=_training_config(recipe, seed=seed))
        directory = (
            None if out_dir is None else Path(out_dir) / (f"seed{seed}" if len(seeds) > 1 else "")
        )
        for row in cross_validate_model(
            spectrograms,
            metadata,
            recipe=draw,
            protocol_name=protocol_name,
            out_dir=directory,
            **options,
        ):
            rows.append({**row, "training_seed": seed})
    return rows


# ------------------------------------------------------------------------ exploration
def _describe(value) -> str:
    """``(16, 32)`` -> ``16/32``, ``0.0005`` -> ``0.0005``, ``'max'`` -> ``max``."""
    if isinstance(value, tuple):
        return "/".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def exploration_grid(
    profile: str = "full", grid: Mapping[str, Sequence] = config.ORIGINAL_EXPLORATION_GRID
) -> dict[str, dict]:
    """The original's CNN-ConvLSTM exploration as named variants (changes from the recipe).

    Parameters
    ----------
    profile : {"full", "smoke"}
        ``"full"``: every combination of ``grid`` — pooling max/average × size 2–5 ×
        filters 16/32/64 (first block; the second twice as many) × learning rate
        1e-5/1e-4/5e-4/1e-3 × L1 1e-3/1e-2: 192 models. ``"smoke"``: two variants of
        :data:`ORIGINAL_EXPLORATION` (the final model and max pooling), to keep CI cheap.
    grid : mapping of name -> values, default :data:`config.ORIGINAL_EXPLORATION_GRID`

    Returns
    -------
    dict of name -> changes

    Examples
    --------
    >>> len(exploration_grid("full")), len(exploration_grid("smoke"))
    (192, 2)
    """
    if profile == "smoke":
        return dict(
            list(ORIGINAL_EXPLORATION.items())[:1]
            + [("max pooling", ORIGINAL_EXPLORATION["max pooling"])]
        )
    variants = {}
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values))
        if "filters" in changes:
            first = int(changes["filters"])
            changes["filters"] = (first, 2 * first)  # the original's blocks: 32 then 64
        variants[", ".join(f"{key} {_describe(value)}" for key, value in changes.items())] = changes
    return variants


def explore_hyperparameters(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    variants: Mapping[str, Mapping] | None = None,
    labels: Sequence[str] = FOUR_CLASSES,
    progress: bool = True,
    subset: str | None = None,
    epochs: int | None = None,
) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The original's hyperparameter exploration: one train/validation split, one model per
    variant, validation accuracy per variant.

    The split is the recipe's validation split (:func:`ser_utils.training.validation_split`)
    over the 4-class utterances — the original's 80/20, ``random_state`` 727. Nothing here
    feeds back into :func:`cross_validate_model`, which keeps the recipe's values.

    Parameters
    ----------
    spectrograms, metadata, recipe, labels, subset
        As in :func:`cross_validate_model`.
    variants : mapping of name -> changes, optional
        Changes from the recipe: ``learning_rate`` (Adam) and any keyword of the model
        builder. Default :func:`exploration_grid` of the recipe's profile (the whole grid in
        full, two variants in smoke).
    progress : bool, default True
    epochs : int, optional
        Epochs per variant; default the recipe's in the full profile,
        :data:`config.SMOKE_EXPLORATION_EPOCHS` in smoke.

    Returns
    -------
    table : pandas.DataFrame
        One row per variant: ``changes``, ``parameters`` (count), ``best_val_accuracy``,
        ``best_epoch``, ``final_val_accuracy``, ``final_train_accuracy``, ``seconds``.
    histories : dict of name -> Keras history
        The learning curves of each variant.
    """
    from tqdm.auto import tqdm

    from .training import train_model, validation_split

    _quiet_tensorflow()
    variants = dict(exploration_grid(recipe.profile) if variants is None else variants)
    if epochs is None:
        epochs = (
            config.SMOKE_EXPLORATION_EPOCHS if recipe.profile == "smoke" else recipe.training.epochs
        )
    rows = subset_rows(metadata, subset=subset, labels=labels)
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    train, validation = validation_split(y, groups=speakers, config=recipe.training)
    positions = rows["row"].to_numpy()
    # Rows in array order: sequential reads from the memory map.
    train, validation = (
        train[np.argsort(positions[train])],
        validation[np.argsort(positions[validation])],
    )
    x_train, x_val = (
        RowView(spectrograms, positions[train]),
        RowView(spectrograms, positions[validation]),
    )
    y_train, y_val = y[train], y[validation]
    records, histories = [], {}
    for name, changes in tqdm(
        variants.items(), desc="exploration", disable=not progress, leave=False
    ):
        changes = dict(changes)
        training = _training_config(
            recipe,
            early_stopping_patience=None,
            epochs=int(epochs),
            **(
                {"learning_rate": changes.pop("learning_rate")}
                if "learning_rate" in changes
                else {}
            ),
        )
        model_config = ModelConfig(recipe.model.name, {**recipe.model.params, **changes})
        start = time.perf_counter()
        _clear_keras()
        model, history = train_model(
            model_config,
            x_train,
            y_train,
            labels=labels,
            config=training,
            x_val=x_val,
            y_val=y_val,
            verbose=0,
            progress=name if progress else False,
        )
        histories[name] = history
        records.append(
            {
                "variant": name,
                "changes": ", ".join(f"{k}={v}" for k, v in dict(variants[name]).items()) or "—",
                "parameters": int(model.count_params()),
                **_history_summary(history),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        del model
    _clear_keras()
    table = pd.DataFrame.from_records(records).set_index("variant")
    table.attrs.update(n_train=len(train), n_validation=len(validation))
    return table, histories


# ------------------------------------------------------------------------ final model
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
) -> tuple[Path, dict]:
    """Train the recipe's model on every 4-class utterance (the recipe's validation part held
    out for the learning curves / early stopping) and save it as a bundle.

    Returns
    -------
    directory : Path
        The bundle (:func:`ser_utils.bundles.load_bundle` reads it back).
    history : dict
        Learning curves.
    """
    if recipe.fusion is not None:
        raise SerError(
            f"the {recipe.name} recipe is an ensemble of networks fused with an SVM, not one Keras model: "
            "it cross-validates (ser evaluate) but has no single bundle to save — train the improved "
            "recipe for `ser predict`"
        )
    from .bundles import save_bundle
    from .training import train_model

    subset = subset or evaluation.default_subset(recipe.corpus)
    rows = subset_rows(metadata, subset=subset, labels=labels)
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    _clear_keras()
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
        extra={"subset": subset, "n_utterances": len(rows), "sample_rate": int(rate)},
    )
    del model
    _clear_keras()
    return Path(path), history


# ---------------------------------------------------------------------- comparisons
def compare_with_original(rows: list[dict]) -> pd.DataFrame:
    """The original-4fold scores beside the original's reported accuracies (%).

    The original reported folds 1-3 (53.44, 46.23, 52.79 %) and the mean (50.29 %), which
    implies fold 4 (≈ 48.7 %), from one training run; it never reported UA or macro-F1.
    With several training seeds (:func:`cross_validate_seeds`) each fold shows the mean over
    the seeds and its standard deviation, so the original's single draw can be placed
    within the spread.

    Returns
    -------
    pandas.DataFrame
        Index fold 1-4 and ``mean``; columns ``original WA``, ``WA``, ``WA sd``, ``UA``,
        ``UA sd``, ``macro-F1`` (%) and ``seeds`` (how many draws).
    """
    reported = list(config.ORIGINAL_RESULTS["cnn_convlstm_folds_wa"])
    mean = float(config.ORIGINAL_RESULTS["cnn_convlstm_mean_wa"])
    known = [value for value in reported if value is not None]
    implied = len(reported) * mean - sum(known)  # the one fold it did not report
    original = [implied if value is None else value for value in reported]
    summary = evaluation.original_table(rows)
    table = summary[["wa", "wa_sd", "ua", "ua_sd", "macro_f1"]] * 100
    table.columns = ["WA", "WA sd", "UA", "UA sd", "macro-F1"]
    table.insert(0, "original WA", pd.Series(original + [mean], index=[1, 2, 3, 4, "mean"]) * 100)
    table["seeds"] = summary["n_seeds"]
    table.attrs["implied_fold"] = reported.index(None) + 1 if None in reported else None
    return table.astype(float).round(2)
