"""The fusion recipe: an ensemble of improved networks fused with an RBF SVM on utterance
features, fold by fold, every choice made on the training part.

The ``fusion`` recipe (:func:`ser_utils.config.fusion_recipe`): in each outer fold the
training part is cut into speaker-grouped inner folds (:func:`ser_utils.deep.ensemble.inner_splits`);
one improved network is trained per inner fold and validated on it, and their probabilities
are pooled by a normalised geometric mean. Beside them, the RBF SVM on utterance features
(eGeMAPS in the recipe, scaled on the training part) gives softmax probabilities. A logistic
regression on both members' log-probabilities, fitted on the inner out-of-fold predictions
only, combines them; the test fold is only predicted. Every fold also scores each member on
its own, so one run gives the side-by-side comparison on the same folds and the same
utterances: network ensemble, SVM, fusion (:func:`side_by_side`). With ``speaker_norm`` (the
recipe's setting) both members see speaker-normalised inputs (:mod:`ser_utils.features.speaker_norm`):
the network's log-mel bins minus the speaker's mean, the SVM's features z-normalised within
each speaker.

Whole runs go through :func:`ser_utils.experiments.run_deep` with the ``fusion`` recipe
(``ser evaluate msp-improv ROOT --recipe fusion --protocol loso``), whose folds
:func:`ser_utils.experiments.network.cross_validate_recipe` hands to :func:`fusion_inputs` and
:func:`fusion_fold`. Fusing two members' probabilities:

>>> import numpy as np
>>> fuse_probabilities(np.array([[0.9, 0.1]]), np.array([[0.5, 0.5]])).round(2).tolist()
[[0.7, 0.3]]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from ..config import FOUR_CLASSES, FusionConfig, Recipe, check_choice, get_recipe
from ..deep.arrays import array_paths
from ..deep.ensemble import (
    log_probabilities,
    pool_members,
    train_inner_ensemble,
    train_seed_ensemble,
)
from ..deep.views import PackedFeatures, RowView, SpeakerNormalised
from ..evaluation import CrossValidation, FoldPrediction
from ..features import extract_features
from ..features.speaker_norm import normalise_features
from ..paths import features_dir
from ..traditional.probabilities import svm_probabilities

__all__ = [
    "FUSION_NETWORK_WEIGHT",
    "FEATURE_RECIPES",
    "COMBINERS",
    "MEMBER_SPLITS",
    "WEIGHT_GRID",
    "fuse_probabilities",
    "unweighted_recall",
    "choose_network_weight",
    "fit_combiner",
    "fuse_fold",
    "recipe_features",
    "fusion_inputs",
    "fusion_fold",
    "side_by_side",
]

#: Weight of the network's probabilities in the fused mean (the SVM gets the rest).
FUSION_NETWORK_WEIGHT = 0.5
#: How :func:`fit_combiner` fuses the network ensemble and the SVM (:class:`~ser_utils.config.FusionConfig`).
COMBINERS: tuple[str, ...] = ("stacking", "weight", "mean", "network")
#: How the ensemble's members are trained (:class:`~ser_utils.config.FusionConfig`).
MEMBER_SPLITS: tuple[str, ...] = ("inner", "seeds")
#: Network weights tried on the inner out-of-fold predictions (:func:`choose_network_weight`).
WEIGHT_GRID: tuple[float, ...] = tuple(np.round(np.linspace(0, 1, 21), 2))
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


def side_by_side(result: CrossValidation) -> pd.DataFrame:
    """UA and WA per fold of the network, the SVM and the fusion, plus their mean and sd.

    Parameters
    ----------
    result : CrossValidation
        Of the fusion recipe (:func:`ser_utils.experiments.network.cross_validate_recipe`):
        each fold holds its members' scores.

    Returns
    -------
    pandas.DataFrame
        Index: fold numbers, ``mean``, ``std``; columns ``UA network``, ``UA SVM``,
        ``UA fusion``, ``WA network``, ``WA SVM``, ``WA fusion``.
    """
    folds = result.folds
    table = pd.DataFrame(
        {
            "UA network": [fold.members["network"]["ua"] for fold in folds],
            "UA SVM": [fold.members["svm"]["ua"] for fold in folds],
            "UA fusion": [fold.ua for fold in folds],
            "WA network": [fold.members["network"]["wa"] for fold in folds],
            "WA SVM": [fold.members["svm"]["wa"] for fold in folds],
            "WA fusion": [fold.wa for fold in folds],
        },
        index=pd.Index([fold.fold for fold in folds], name="fold"),
    )
    return pd.concat([table, table.mean().to_frame("mean").T, table.std(ddof=0).to_frame("std").T])


# ------------------------------------------------------------- the fusion recipe
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
    stack.fit(np.hstack([log_probabilities(network), log_probabilities(svm)]), y)
    columns = [labels.index(label) for label in stack.classes_]

    def combine(net: np.ndarray, svm_: np.ndarray) -> np.ndarray:
        probabilities = np.zeros((len(net), len(labels)))
        probabilities[:, columns] = stack.predict_proba(
            np.hstack([log_probabilities(net), log_probabilities(svm_)])
        )
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
       (:func:`ser_utils.deep.ensemble.inner_splits`, by speaker); one network per inner fold,
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
    settings = recipe.fusion or FusionConfig()
    check_choice(settings.features_recipe, FEATURE_RECIPES, "features recipe")
    return extract_features(
        list(paths),
        settings.features,
        n_jobs=n_jobs,
        progress=progress,
        recipe=dataclasses.replace(
            get_recipe(settings.features_recipe, recipe.corpus, recipe.profile),
            encoder=recipe.encoder,
        ),
        cache_dir=cache_dir,
    )


def fusion_inputs(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    features: np.ndarray | None = None,
    out_dir: str | Path | None = None,
    n_jobs: int = 1,
) -> tuple[object, np.ndarray, Recipe]:
    """What the fusion recipe's folds read: the network's input, the SVM's features and the
    recipe the networks are built from.

    Parameters
    ----------
    spectrograms : array or memmap, shape (N, F, T)
    metadata : pandas.DataFrame
        N rows, row-aligned with ``spectrograms``.
    recipe : Recipe
        With ``recipe.fusion``.
    features : np.ndarray, shape (N, D), optional
        The SVM's features, row-aligned with ``metadata``. Default: made from the files of the
        arrays folder ``spectrograms`` was memory-mapped from (:func:`ser_utils.deep.arrays.array_paths`,
        :func:`recipe_features`, cached under ``outputs/features``).
    out_dir : None
        Saving an ensemble's fold models is not supported.
    n_jobs : int, default 1
        Workers for the features.

    Returns
    -------
    source : array-like
        The spectrograms, speaker-normalised (:class:`ser_utils.deep.views.SpeakerNormalised`)
        and with the features packed after the frames (:class:`ser_utils.deep.views.PackedFeatures`)
        when the recipe asks for them.
    features : np.ndarray
        Speaker-normalised when the recipe asks for it.
    recipe : Recipe
        ``recipe``, its model told the packed columns when the network takes the features too.
    """
    if out_dir is not None:
        raise ValueError(
            "the fusion recipe's fold models (an ensemble and an SVM) are not saved as bundles — "
            "run it without saving models"
        )
    settings = recipe.fusion or FusionConfig()
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
    source = spectrograms
    if settings.speaker_norm:
        if "speaker" not in metadata.columns:
            raise ValueError("speaker normalisation needs the arrays' speaker column")
        # statistics over every arrays row of each speaker, whatever its label
        features = normalise_features(features, metadata["speaker"])
        source = SpeakerNormalised(spectrograms, metadata["speaker"])
    if settings.network_features:  # the features packed after the frames, a second input
        source = PackedFeatures(spectrograms, features)
        recipe = dataclasses.replace(
            recipe,
            model=dataclasses.replace(
                recipe.model, params={**recipe.model.params, "packed_columns": source.columns}
            ),
        )
    return source, features, recipe


def fusion_fold(
    source,
    features: np.ndarray,
    y: np.ndarray,
    positions: np.ndarray,
    speakers: np.ndarray | None,
    *,
    recipe: Recipe,
    labels: Sequence[str],
    protocol_name: str,
    progress: bool = True,
):
    """``fit_predict(fold, train, test)`` of the fusion recipe over the evaluated rows (``y``,
    their ``positions`` in the arrays and ``speakers``): :func:`fuse_fold` seeded
    ``recipe.training.seed + fold``, its members (``network``: the ensemble; ``svm``) scored
    alone beside the fused prediction."""
    labels = list(labels)

    def fit_predict(fold: int, train: np.ndarray, test: np.ndarray) -> FoldPrediction:
        # TensorFlow: loaded when the first member trains
        from ..deep.training import history_summary, release_models

        fold_recipe = dataclasses.replace(
            recipe, training=dataclasses.replace(recipe.training, seed=recipe.training.seed + fold)
        )
        start = time.perf_counter()
        release_models()
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
        members = {member: info.pop(member) for member in ("network", "svm")}
        histories = info.pop("histories")
        # the members' validation parts are their inner folds: grouped by speaker, or stratified
        # when a single training speaker is left (deep.ensemble.inner_splits)
        grouped = speakers is not None and len(set(speakers[train])) >= 2
        used = "speaker" if grouped else "stratified"
        return FoldPrediction(
            np.asarray(labels)[fused.argmax(axis=1)],
            fused,
            members=members,
            details={
                **info,
                **history_summary(histories[0]),
                "seed": fold_recipe.training.seed,
                "validation_split_used": used,
                "seconds": round(time.perf_counter() - start, 1),
            },
            history={**histories[0], "validation_split_used": used},
        )

    return fit_predict
