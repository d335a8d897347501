"""Late fusion of the end-to-end network with an RBF SVM on utterance features, fold by fold.

The ``fusion`` recipe (:func:`ser_utils.config.fusion_recipe`): in each outer fold the
training part is cut into speaker-grouped inner folds (:func:`ser_utils.ensemble.inner_splits`);
one improved network is trained per inner fold and validated on it, and their probabilities
are pooled by a normalised geometric mean. Beside them, the RBF SVM on utterance
features (eGeMAPS in the recipe, scaled on the training part) gives softmax probabilities. A logistic
regression on both members' log-probabilities, fitted on the inner out-of-fold predictions
only, combines them; the test fold is only predicted. Every fold row carries the UA of
each member on its own as well as the fused one, so one run gives the side-by-side
comparison on the same folds and the same utterances: network ensemble, SVM, fusion.
With ``speaker_norm`` (the recipe's setting) both members see speaker-normalised inputs
(:mod:`ser_utils.speaker_norm`): the network's log-mel bins minus the speaker's mean, the
SVM's features z-normalised within each speaker.

Whole runs go through :func:`ser_utils.runs.deep` with the ``fusion`` recipe (``ser evaluate
msp-improv ROOT --recipe fusion --protocol loso``); ``tests/test_improved.py`` runs it on
small arrays. Pooling the members of an ensemble:

>>> import numpy as np
>>> members = [np.array([[0.9, 0.1]]), np.array([[0.5, 0.5]])]
>>> pool_members(members, "arithmetic").round(2).tolist()
[[0.7, 0.3]]
>>> pool_members(members, "geometric").round(2).tolist()
[[0.75, 0.25]]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from . import evaluation
from .config import FOUR_CLASSES, FusionConfig, Recipe, check_choice
from .speaker_norm import SpeakerNormalised, normalise_features

__all__ = [
    "FUSION_NETWORK_WEIGHT",
    "FEATURE_RECIPES",
    "FUSION_FEATURES",
    "SVM_CALIBRATIONS",
    "COMBINERS",
    "MEMBER_SPLITS",
    "POOLINGS",
    "WEIGHT_GRID",
    "PLATT_FOLDS",
    "fuse_probabilities",
    "svm_probabilities",
    "unweighted_recall",
    "choose_network_weight",
    "pool_members",
    "fit_combiner",
    "fuse_fold",
    "PackedFeatures",
    "packed_columns",
    "array_paths",
    "recipe_features",
    "cross_validate_recipe",
    "cross_validate_fusion",
    "side_by_side",
]

#: Weight of the network's probabilities in the fused mean (the SVM gets the rest).
FUSION_NETWORK_WEIGHT = 0.5
#: ``"softmax"`` of the SVM's decision values or ``"platt"`` (``SVC(probability=True)``).
SVM_CALIBRATIONS: tuple[str, ...] = ("softmax", "platt")
#: Folds of the Platt calibration (stratified, in row order: no randomness).
PLATT_FOLDS = 5
#: How :func:`fit_combiner` fuses the network ensemble and the SVM (:class:`~ser_utils.config.FusionConfig`).
COMBINERS: tuple[str, ...] = ("stacking", "weight", "mean", "network")
#: How the ensemble's members are trained (:class:`~ser_utils.config.FusionConfig`).
MEMBER_SPLITS: tuple[str, ...] = ("inner", "seeds")
#: How the members' probabilities are pooled (:func:`pool_members`).
POOLINGS: tuple[str, ...] = ("geometric", "arithmetic")


def pool_members(members: Sequence[np.ndarray], pooling: str = "geometric") -> np.ndarray:
    """One probability matrix from the members' ``(n, n_classes)`` matrices: their mean
    (``"arithmetic"``) or their normalised geometric mean (``"geometric"``: the mean of the
    log-probabilities, floored at 1e-6, back to probabilities).

    Examples
    --------
    >>> members = [np.array([[0.98, 0.02]]), np.array([[0.4, 0.6]]), np.array([[0.4, 0.6]])]
    >>> pool_members(members, "arithmetic").round(3), pool_members(members, "geometric").round(3)
    (array([[0.593, 0.407]]), array([[0.736, 0.264]]))
    """
    check_choice(pooling, POOLINGS, "pooling")
    members = np.asarray(members, dtype=np.float64)
    if pooling == "arithmetic":
        return members.mean(axis=0)
    pooled = np.exp(_log(members).mean(axis=0))
    return pooled / pooled.sum(axis=1, keepdims=True)


#: Network weights tried on the inner out-of-fold predictions (:func:`choose_network_weight`).
WEIGHT_GRID: tuple[float, ...] = tuple(np.round(np.linspace(0, 1, 21), 2))
#: The feature set of :func:`cross_validate_fusion`'s SVM (an earlier fusion, kept for the
#: benchmark's rows); the fusion recipe's is ``FusionConfig.features``.
FUSION_FEATURES = "functionals"
#: Recipes whose audio chain the fusion recipe's SVM features may be made from.
FEATURE_RECIPES: tuple[str, ...] = ("original", "improved")


def fuse_probabilities(
    network: np.ndarray, svm: np.ndarray, *, network_weight: float = FUSION_NETWORK_WEIGHT
) -> np.ndarray:
    """Weighted mean of two ``(n, n_classes)`` probability matrices with the same column order.

    Examples
    --------
    >>> fuse_probabilities(np.array([[0.8, 0.2]]), np.array([[0.2, 0.8]]), network_weight=0.75)
    array([[0.65, 0.35]])
    """
    network, svm = np.asarray(network, dtype=np.float64), np.asarray(svm, dtype=np.float64)
    if network.shape != svm.shape:
        raise ValueError(
            f"the network gave probabilities of shape {network.shape} and the SVM {svm.shape} — "
            "both must cover the same utterances and classes"
        )
    if not 0 <= network_weight <= 1:
        raise ValueError(f"network_weight must be in [0, 1], got {network_weight}")
    return network_weight * network + (1 - network_weight) * svm


def svm_probabilities(
    features_train: np.ndarray,
    y_train: Sequence[str],
    features_test: np.ndarray,
    *,
    labels: Sequence[str],
    random_state: int,
    calibration: str = "softmax",
) -> np.ndarray:
    """Fit the RBF SVM on utterance features (``StandardScaler`` fitted on the training part, SVC
    C 10, gamma 'scale': :func:`ser_utils.traditional.make_model` ``("rbf_svm", scaler=True)``)
    and return class probabilities on the test part, columns in ``labels`` order (0 for a
    class absent from the training part).

    ``calibration``: ``"softmax"``, a softmax over the one-vs-rest decision values (votes
    plus a confidence in (-0.5, 0.5)), which keeps the SVM's own prediction as the most
    probable class, ties between votes aside; ``"platt"``, Platt scaling: one SVM fitted on
    the whole training part, one sigmoid per class fitted on the decision values of
    :data:`PLATT_FOLDS` stratified folds (no randomness), normalised to sum to 1 —
    :class:`~sklearn.calibration.CalibratedClassifierCV` with ``ensemble=False``, which
    scikit-learn 1.9 recommends in place of ``SVC(probability=True)``. It may change the
    predicted class.
    """
    from scipy.special import softmax

    from .traditional import make_model

    check_choice(calibration, SVM_CALIBRATIONS, "SVM calibration")
    model = clone(make_model("rbf_svm", random_state=random_state, scaler=True))
    _, counts = np.unique(np.asarray(y_train).astype(str), return_counts=True)
    if calibration == "platt" and counts.min() >= 2:  # (a class seen once keeps the softmax)
        from sklearn.calibration import CalibratedClassifierCV

        # one SVM on the whole training part, its sigmoids fitted on the decision values of
        # stratified folds (fewer than PLATT_FOLDS when a class has fewer examples)
        model = CalibratedClassifierCV(
            model, method="sigmoid", cv=min(PLATT_FOLDS, int(counts.min())), ensemble=False
        )
    else:
        calibration = "softmax"
    model.fit(np.asarray(features_train), np.asarray(y_train).astype(str))
    probabilities = np.zeros((len(features_test), len(labels)))
    columns = [list(labels).index(label) for label in model.classes_]
    if calibration == "platt":
        probabilities[:, columns] = model.predict_proba(np.asarray(features_test))
        return probabilities
    decision = model.decision_function(np.asarray(features_test))
    if decision.ndim == 1:  # two classes: one signed distance for classes_[1]
        decision = np.stack([-decision, decision], axis=1) / 2
    probabilities[:, columns] = softmax(decision, axis=1)
    return probabilities


def unweighted_recall(
    y_true: Sequence[str], probabilities: np.ndarray, labels: Sequence[str]
) -> float:
    """UA of the most probable class of each row."""
    y_true = np.asarray(y_true).astype(str)
    predicted = np.asarray(labels)[np.asarray(probabilities).argmax(axis=1)]
    return float(
        np.mean(
            [
                np.mean(predicted[y_true == label] == label)
                for label in labels
                if np.any(y_true == label)
            ]
        )
    )


def choose_network_weight(
    network: np.ndarray,
    svm: np.ndarray,
    y: Sequence[str],
    *,
    labels: Sequence[str],
    grid: Sequence[float] = WEIGHT_GRID,
) -> float:
    """The weight of ``grid`` whose fused probabilities have the highest UA on ``y`` — to be
    given **out-of-fold** predictions of the training part, never the test fold's. Ties go
    to the weight nearest 0.5 (then the smaller).

    Examples
    --------
    >>> network = np.array([[0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    >>> svm = np.array([[0.4, 0.6], [0.1, 0.9], [0.8, 0.2]])
    >>> choose_network_weight(network, svm, ["a", "b", "a"], labels=["a", "b"], grid=[0.0, 0.5, 1.0])
    0.5
    """
    grid = np.asarray(grid, dtype=np.float64)
    scores = np.array(
        [
            unweighted_recall(y, fuse_probabilities(network, svm, network_weight=w), labels)
            for w in grid
        ]
    )
    best = grid[np.isclose(scores, scores.max())]
    return float(best[np.lexsort((best, np.abs(best - 0.5)))][0])


def cross_validate_fusion(
    spectrograms,
    metadata: pd.DataFrame,
    features: np.ndarray,
    *,
    recipe: Recipe,
    protocol_name: str,
    labels: Sequence[str] = FOUR_CLASSES,
    network_weight: float = FUSION_NETWORK_WEIGHT,
    subset: str | None = None,
    progress: bool = True,
) -> list[dict]:
    """Network, SVM and their late fusion on every fold of a protocol.

    The folds, the network's seeds and its validation split are those of
    :func:`ser_utils.end_to_end.cross_validate_model` (seed ``recipe.training.seed + fold``);
    the SVM is fitted on the same training part (its validation part included: it has no
    early stopping to feed). The test fold is only predicted.

    Parameters
    ----------
    spectrograms : array or memmap, shape (N, F, T)
        The arrays of ``recipe`` (:func:`ser_utils.arrays.load_arrays`).
    metadata : pandas.DataFrame
        N rows, row-aligned with ``spectrograms``.
    features : np.ndarray, shape (N, D)
        Utterance features row-aligned with ``metadata``, e.g. functionals
        (:data:`FUSION_FEATURES`) of ``metadata``'s files.
    recipe : Recipe
        The network's model and training.
    protocol_name : str
        A name of :data:`ser_utils.evaluation.PROTOCOLS`.
    labels : sequence of str, default FOUR_CLASSES
    network_weight : float, default :data:`FUSION_NETWORK_WEIGHT`
    subset : str, optional (default: the corpus's original set)
    progress : bool, default True

    Returns
    -------
    list of dict
        :func:`ser_utils.evaluation.evaluate_folds` rows scored on the **fused** prediction,
        plus ``ua_network``, ``ua_svm``, ``wa_network``, ``wa_svm`` (each member alone on
        the same test fold), ``validation_split_used`` and ``seconds``.
    """
    from .end_to_end import RowView, _clear_keras, _quiet_tensorflow, subset_rows
    from .training import predict_proba, train_model

    features = np.asarray(features)
    if len(features) != len(metadata):
        raise ValueError(
            f"{len(features)} feature rows for {len(metadata)} metadata rows — extract the features "
            "from the rows of the arrays' metadata"
        )
    _quiet_tensorflow()
    labels = list(labels)
    rows = subset_rows(metadata, subset=subset, labels=labels)
    protocol = evaluation.make_protocol(protocol_name, rows)
    y = rows["label"].astype(str).to_numpy()
    positions = rows["row"].to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    fold_number = iter(range(1, protocol.n_splits + 1))

    def fit_predict(train: np.ndarray, test: np.ndarray):
        fold = next(fold_number)
        training = dataclasses.replace(recipe.training, seed=recipe.training.seed + fold)
        start = time.perf_counter()
        _clear_keras()
        model, history = train_model(
            recipe.model,
            RowView(spectrograms, positions[train]),
            y[train],
            labels=labels,
            config=training,
            groups=None if speakers is None else speakers[train],
            progress=False,
        )
        network = predict_proba(
            model, RowView(spectrograms, positions[test]), batch_size=training.batch_size
        )
        svm = svm_probabilities(
            features[positions[train]],
            y[train],
            features[positions[test]],
            labels=labels,
            random_state=recipe.training.seed,
        )
        fused = fuse_probabilities(network, svm, network_weight=network_weight)
        alone = {}
        for member, probabilities in (("network", network), ("svm", svm)):
            scores = evaluation.compute_metrics(
                y[test], np.asarray(labels)[probabilities.argmax(axis=1)], labels
            )
            alone.update({f"ua_{member}": scores["ua"], f"wa_{member}": scores["wa"]})
        del model
        return np.asarray(labels)[fused.argmax(axis=1)], {
            **alone,
            "epochs": len(history.get("loss", [])),
            "validation_split_used": history.get("validation_split_used"),
            "seconds": round(time.perf_counter() - start, 1),
        }

    results = evaluation.evaluate_folds(protocol, y, fit_predict, labels, progress=progress)
    _clear_keras()
    return results


def side_by_side(rows: list[dict]) -> pd.DataFrame:
    """UA and WA per fold of the network, the SVM and the fusion, plus their mean and sd.

    Parameters
    ----------
    rows : list of dict
        :func:`cross_validate_fusion` rows.

    Returns
    -------
    pandas.DataFrame
        Index: fold numbers, ``mean``, ``std``; columns ``UA network``, ``UA SVM``,
        ``UA fusion``, ``WA network``, ``WA SVM``, ``WA fusion``.
    """
    table = pd.DataFrame(
        {
            "UA network": [row["ua_network"] for row in rows],
            "UA SVM": [row["ua_svm"] for row in rows],
            "UA fusion": [row["ua"] for row in rows],
            "WA network": [row["wa_network"] for row in rows],
            "WA SVM": [row["wa_svm"] for row in rows],
            "WA fusion": [row["wa"] for row in rows],
        },
        index=pd.Index([row["fold"] for row in rows], name="fold"),
    )
    return pd.concat([table, table.mean().to_frame("mean").T, table.std(ddof=0).to_frame("std").T])


# ------------------------------------------------------------- the fusion recipe
def packed_columns(n_features: int, n_mels: int) -> int:
    """Frames needed to pack ``n_features`` values under ``n_mels`` rows (:func:`pack_features`)."""
    return -(-int(n_features) // int(n_mels))


class PackedFeatures:
    """Spectrograms ``(N, n_mels, frames)`` with each row's utterance features packed into
    :func:`packed_columns` extra frames at the end, column after column (zero-padded): the
    second input of :func:`ser_utils.models.improved_tcn` ``(packed_columns=…)``, read batch
    by batch like the spectrograms themselves (an array-like: ``len``, ``shape``, ``dtype``,
    integer indexing).

    Examples
    --------
    >>> packed = PackedFeatures(np.zeros((2, 3, 4), np.float32), np.arange(10.0).reshape(2, 5))
    >>> packed.shape
    (2, 3, 6)
    >>> packed[np.array([1])][0, :, 4:].T.ravel()
    array([5., 6., 7., 8., 9., 0.], dtype=float32)
    """

    def __init__(self, spectrograms, features: np.ndarray):
        features = np.asarray(features, dtype=np.float32)
        if len(features) != len(spectrograms):
            raise ValueError(f"{len(features)} feature rows for {len(spectrograms)} spectrograms")
        self.spectrograms = spectrograms
        n_mels = spectrograms.shape[1]
        columns = packed_columns(features.shape[1], n_mels)
        padded = np.zeros((len(features), columns * n_mels), np.float32)
        padded[:, : features.shape[1]] = np.nan_to_num(features)
        self.packed = padded.reshape(len(features), columns, n_mels).transpose(0, 2, 1)
        self.columns = columns
        self.shape = (len(features), n_mels, spectrograms.shape[2] + columns)
        self.dtype = np.dtype(np.float32)
        self.ndim = 3

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        return np.concatenate(
            [np.asarray(self.spectrograms[index], dtype=np.float32), self.packed[index]], axis=-1
        )


def _log(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-6, 1.0))


def fit_combiner(
    network: np.ndarray,
    svm: np.ndarray,
    y: Sequence[str],
    *,
    labels: Sequence[str],
    settings: FusionConfig,
):
    """Fit ``settings.combiner`` on **out-of-fold** probabilities of the training part (never
    the test fold's); return ``combine(network, svm) -> probabilities`` (columns ``labels``)
    and what was fitted (``network_weight`` or the stacking coefficients' shape).

    Examples
    --------
    >>> from ser_utils.config import FusionConfig
    >>> combine, fitted = fit_combiner(np.eye(2)[[0, 1, 0, 1]], np.full((4, 2), 0.5), list("abab"),
    ...                                labels=["a", "b"], settings=FusionConfig(combiner="weight"))
    >>> fitted, combine(np.array([[0.2, 0.8]]), np.array([[0.5, 0.5]])).argmax(axis=1)
    ({'network_weight': 0.5}, array([1]))
    """
    from sklearn.linear_model import LogisticRegression

    check_choice(settings.combiner, COMBINERS, "combiner")
    labels = list(labels)
    y = np.asarray(y).astype(str)
    if settings.combiner == "network":
        return (lambda net, svm_: np.asarray(net, dtype=np.float64)), {}
    if settings.combiner == "mean":
        return (lambda net, svm_: fuse_probabilities(net, svm_, network_weight=0.5)), {
            "network_weight": 0.5
        }
    if network is None:
        raise ValueError(
            f"the {settings.combiner!r} combiner is fitted on out-of-fold predictions: train the "
            "members on inner folds (member_split='inner') or use combiner 'network' or 'mean'"
        )
    if settings.combiner == "weight":
        weight = choose_network_weight(network, svm, y, labels=labels)
        return (lambda net, svm_: fuse_probabilities(net, svm_, network_weight=weight)), {
            "network_weight": weight
        }
    stack = LogisticRegression(
        C=settings.stacking_c,
        max_iter=5000,
        class_weight="balanced" if settings.stacking_class_weight else None,
    )
    stack.fit(np.hstack([_log(network), _log(svm)]), y)
    columns = [labels.index(label) for label in stack.classes_]

    def combine(net: np.ndarray, svm_: np.ndarray) -> np.ndarray:
        probabilities = np.zeros((len(net), len(labels)))
        probabilities[:, columns] = stack.predict_proba(np.hstack([_log(net), _log(svm_)]))
        return probabilities

    return combine, {"stacking_classes": len(stack.classes_)}


def fuse_fold(
    x_train,
    y_train: Sequence[str],
    groups: Sequence | None,
    features_train: np.ndarray,
    x_test,
    features_test: np.ndarray,
    *,
    recipe: Recipe,
    labels: Sequence[str] = FOUR_CLASSES,
    progress: bool | str = False,
) -> tuple[np.ndarray, dict]:
    """One fold of the fusion recipe: train on the training part only, predict the test part.

    1. ``recipe.fusion.members`` inner folds of the training part
       (:func:`ser_utils.ensemble.inner_splits`, by speaker); one network per inner fold,
       validated on it; their probabilities on the test part pooled
       (:func:`pool_members`, ``recipe.fusion.pooling``).
    2. The SVM on its features (``recipe.fusion.svm_calibration``) fitted on each inner
       fold's training part (its out-of-fold probabilities) and on the whole training part
       (the test part's).
    3. The combiner fitted on the out-of-fold probabilities of both, applied to the test
       part's.

    Returns
    -------
    probabilities : np.ndarray, shape (n_test, len(labels))
    info : dict
        ``network`` and ``svm`` (each member's test probabilities alone), the fitted
        combiner, ``ua_network_oof`` / ``ua_svm_oof`` / ``ua_fused_oof`` (inner
        out-of-fold UA of the training part) and the members' learning curves.
    """
    from .ensemble import train_inner_ensemble, train_seed_ensemble

    settings = recipe.fusion or FusionConfig()
    check_choice(settings.member_split, MEMBER_SPLITS, "member split")
    labels = list(labels)
    y_train = np.asarray(y_train).astype(str)
    features_train, features_test = np.asarray(features_train), np.asarray(features_test)
    train_members = (
        train_inner_ensemble if settings.member_split == "inner" else train_seed_ensemble
    )
    result = train_members(
        recipe.model,
        x_train,
        y_train,
        labels=labels,
        config=recipe.training,
        groups=groups,
        n_members=settings.members,
        x_test=x_test,
        progress=progress,
    )
    svm_test = svm_probabilities(
        features_train,
        y_train,
        features_test,
        labels=labels,
        random_state=recipe.training.seed,
        calibration=settings.svm_calibration,
    )
    info = {"members": len(result.members_test)}
    svm_oof = None
    if result.out_of_fold is not None:
        svm_oof = np.zeros((len(y_train), len(labels)))
        for train, held_out in result.splits:
            svm_oof[held_out] = svm_probabilities(
                features_train[train],
                y_train[train],
                features_train[held_out],
                labels=labels,
                random_state=recipe.training.seed,
                calibration=settings.svm_calibration,
            )
    combine, fitted = fit_combiner(
        result.out_of_fold, svm_oof, y_train, labels=labels, settings=settings
    )
    if result.out_of_fold is not None:
        info.update(
            ua_network_oof=unweighted_recall(y_train, result.out_of_fold, labels),
            ua_svm_oof=unweighted_recall(y_train, svm_oof, labels),
            ua_fused_oof=unweighted_recall(y_train, combine(result.out_of_fold, svm_oof), labels),
        )
    network = pool_members(result.members_test, settings.pooling)
    return combine(network, svm_test), {
        "network": network,
        "svm": svm_test,
        **fitted,
        **info,
        "histories": result.histories,
    }


def array_paths(directory: str | Path) -> list[str]:
    """The audio files of an arrays folder (:func:`ser_utils.arrays.generate_arrays`), in row order."""
    from .arrays import INFO_FILE
    from .storage import read_json

    info = read_json(Path(directory) / INFO_FILE)
    return [str(entry[0]) for entry in info["files"]]


def recipe_features(
    paths: Sequence[str],
    recipe: Recipe,
    *,
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> np.ndarray:
    """The SVM's features (``recipe.fusion.features``) of ``paths``, made with the audio chain
    of ``recipe.fusion.features_recipe`` for the same corpus and profile (as ``ser traditional
    --recipe … --features …``)."""
    from .config import get_recipe
    from .features import extract_features

    settings = recipe.fusion or FusionConfig()
    check_choice(settings.features_recipe, FEATURE_RECIPES, "features recipe")
    return extract_features(
        list(paths),
        settings.features,
        n_jobs=n_jobs,
        progress=progress,
        recipe=get_recipe(settings.features_recipe, recipe.corpus, recipe.profile),
        cache_dir=cache_dir,
    )


def cross_validate_recipe(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    protocol_name: str,
    labels: Sequence[str] = FOUR_CLASSES,
    features: np.ndarray | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
    folds: Sequence[int] | None = None,
    subset: str | None = None,
    verbose: int = 0,
    n_jobs: int = 1,
) -> list[dict]:
    """:func:`ser_utils.end_to_end.cross_validate_model` for the fusion recipe: the same folds,
    seeds (``recipe.training.seed + fold``), rows and fold records, each fold run by
    :func:`fuse_fold`.

    Parameters
    ----------
    spectrograms, metadata, recipe, protocol_name, labels, progress, folds, subset
        As :func:`ser_utils.end_to_end.cross_validate_model`.
    features : np.ndarray, shape (N, D), optional
        The SVM's features, row-aligned with ``metadata``. Default: made from the files of
        the arrays folder ``spectrograms`` was memory-mapped from (:func:`array_paths`,
        :func:`recipe_features`, cached under ``outputs/features``).
    out_dir : None
        Saving an ensemble's fold models is not supported.
    verbose : int
        Unused (Keras prints nothing).
    n_jobs : int, default 1
        Workers for the features.

    Returns
    -------
    list of dict
        :func:`ser_utils.evaluation.evaluate_folds` rows of the fused prediction, plus
        ``ua_network`` and ``ua_svm`` (the network ensemble and the SVM alone on the same
        test fold), the combiner's inner out-of-fold scores, ``members``, ``seed``,
        ``seconds`` and ``history`` (the first member's curves).
    """
    from .end_to_end import (
        RowView,
        _clear_keras,
        _history_summary,
        _quiet_tensorflow,
        _SelectedFolds,
        subset_rows,
    )
    from .paths import features_dir

    if out_dir is not None:
        raise ValueError(
            "the fusion recipe's fold models (an ensemble and an SVM) are not saved as bundles — "
            "run it without saving models"
        )
    if recipe.fusion is None:
        raise ValueError(
            f"recipe {recipe.name!r} has no fusion settings — use end_to_end.cross_validate_model"
        )
    if features is None:
        filename = getattr(spectrograms, "filename", None)
        if filename is None:
            raise ValueError(
                "pass features= (the SVM's features of the arrays' rows), or the memory-mapped "
                "spectrograms of an arrays folder to make them from"
            )
        features = recipe_features(
            array_paths(Path(filename).parent),
            recipe,
            n_jobs=n_jobs,
            cache_dir=features_dir(),
        )
    features = np.asarray(features)
    if len(features) != len(metadata):
        raise ValueError(
            f"{len(features)} feature rows for {len(metadata)} metadata rows — extract the features "
            "from the rows of the arrays' metadata"
        )
    _quiet_tensorflow()
    source = spectrograms
    if recipe.fusion.speaker_norm:
        if "speaker" not in metadata.columns:
            raise ValueError("speaker normalisation needs the arrays' speaker column")
        # statistics over every arrays row of each speaker, whatever its label
        features = normalise_features(features, metadata["speaker"])
        source = SpeakerNormalised(spectrograms, metadata["speaker"])
    if (
        recipe.fusion.network_features
    ):  # the features packed after the frames, a second input of the network
        source = PackedFeatures(spectrograms, features)
        recipe = dataclasses.replace(
            recipe,
            model=dataclasses.replace(
                recipe.model, params={**recipe.model.params, "packed_columns": source.columns}
            ),
        )
    labels = list(labels)
    rows = subset_rows(metadata, subset=subset, labels=labels)
    protocol = evaluation.make_protocol(protocol_name, rows)
    if folds is not None:
        protocol = dataclasses.replace(protocol, splitter=_SelectedFolds(protocol.splitter, folds))
    y = rows["label"].astype(str).to_numpy()
    positions = rows["row"].to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    fold_number = iter(range(1, 10_000))

    def fit_predict(train: np.ndarray, test: np.ndarray):
        fold = next(fold_number)
        fold_recipe = dataclasses.replace(
            recipe, training=dataclasses.replace(recipe.training, seed=recipe.training.seed + fold)
        )
        start = time.perf_counter()
        _clear_keras()
        fused, info = fuse_fold(
            RowView(source, positions[train]),
            y[train],
            None if speakers is None else speakers[train],
            features[positions[train]],
            RowView(source, positions[test]),
            features[positions[test]],
            recipe=fold_recipe,
            labels=labels,
            progress=f"{protocol_name} fold {fold}" if progress else False,
        )
        alone = {}
        for member in ("network", "svm"):
            scores = evaluation.compute_metrics(
                y[test], np.asarray(labels)[info.pop(member).argmax(axis=1)], labels
            )
            alone.update({f"ua_{member}": scores["ua"], f"wa_{member}": scores["wa"]})
        histories = info.pop("histories")
        # the members' validation parts are their inner folds: grouped by speaker, or stratified
        # when a single training speaker is left (ensemble.inner_splits)
        grouped = speakers is not None and len(set(speakers[train])) >= 2
        used = "speaker" if grouped else "stratified"
        return np.asarray(labels)[fused.argmax(axis=1)], {
            **alone,
            **info,
            **_history_summary(histories[0]),
            "probabilities": fused,
            "seed": fold_recipe.training.seed,
            "validation_split_used": used,
            "seconds": round(time.perf_counter() - start, 1),
            "history": {**histories[0], "validation_split_used": used},
        }

    results = evaluation.evaluate_folds(protocol, y, fit_predict, labels, progress=progress)
    _clear_keras()
    return results
