"""Late fusion of the end-to-end network with the RBF SVM on functionals, fold by fold.

The network (the improved recipe's model on log-mel arrays) and the SVM (utterance
functionals, :func:`ser_utils.traditional.make_model` ``("rbf_svm")``) see the same
training part of each fold and are fused by a weighted mean of their class
probabilities. Every fold row carries the UA of each member on its own as well as the
fused one, so one run gives the side-by-side comparison on the same folds and the same
utterances: network, SVM, fusion.

Examples
--------
>>> from ser_utils import config, features, fusion
>>> recipe = config.improved_recipe("msp-improv", "smoke")
>>> functionals = features.extract_features(metadata, "functionals",
...                                         recipe=config.original_recipe("msp-improv", "smoke"))  # doctest: +SKIP
>>> rows = fusion.cross_validate_fusion(spectrograms, metadata, functionals, recipe=recipe,
...                                     protocol_name="loso")  # doctest: +SKIP
>>> fusion.side_by_side(rows)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from . import evaluation
from .config import FOUR_CLASSES, Recipe

__all__ = ["FUSION_NETWORK_WEIGHT", "FUSION_FEATURES", "fuse_probabilities", "svm_probabilities",
           "cross_validate_fusion", "side_by_side"]

#: Weight of the network's probabilities in the fused mean (the SVM gets the rest).
FUSION_NETWORK_WEIGHT = 0.5
#: The feature set of the fused SVM: the strongest traditional model of this repository
#: on leave-one-session-out (benchmarks/improved_variants.py).
FUSION_FEATURES = "functionals"


def fuse_probabilities(network: np.ndarray, svm: np.ndarray, *, network_weight: float = FUSION_NETWORK_WEIGHT
                       ) -> np.ndarray:
    """Weighted mean of two ``(n, n_classes)`` probability matrices with the same column order.

    Examples
    --------
    >>> fuse_probabilities(np.array([[0.8, 0.2]]), np.array([[0.2, 0.8]]), network_weight=0.75)
    array([[0.65, 0.35]])
    """
    network, svm = np.asarray(network, dtype=np.float64), np.asarray(svm, dtype=np.float64)
    if network.shape != svm.shape:
        raise ValueError(f"the network gave probabilities of shape {network.shape} and the SVM {svm.shape} — "
                         "both must cover the same utterances and classes")
    if not 0 <= network_weight <= 1:
        raise ValueError(f"network_weight must be in [0, 1], got {network_weight}")
    return network_weight * network + (1 - network_weight) * svm


def svm_probabilities(features_train: np.ndarray, y_train: Sequence[str], features_test: np.ndarray, *,
                      labels: Sequence[str], random_state: int) -> np.ndarray:
    """Fit the RBF SVM pipeline of ``ser traditional`` (scaler + SVC C 10, gamma 'scale') on the
    training part; return a softmax over its one-vs-rest decision values on the test part,
    columns in ``labels`` order (0 for a class absent from the training part).

    The decision values (votes plus a confidence in (-0.5, 0.5)) keep the SVM's own
    prediction as the most probable class, ties between votes aside — Platt scaling
    (``probability=True``) fits another model by an internal 5-fold split and changed
    it often enough to cost 0.04 UA on the synthetic corpus.
    """
    from scipy.special import softmax

    from .traditional import make_model

    model = clone(make_model("rbf_svm", random_state=random_state))
    model.fit(np.asarray(features_train), np.asarray(y_train).astype(str))
    decision = model.decision_function(np.asarray(features_test))
    if decision.ndim == 1:  # two classes: one signed distance for classes_[1]
        decision = np.stack([-decision, decision], axis=1) / 2
    probabilities = np.zeros((len(features_test), len(labels)))
    columns = [list(labels).index(label) for label in model.classes_]
    probabilities[:, columns] = softmax(decision, axis=1)
    return probabilities


def cross_validate_fusion(spectrograms, metadata: pd.DataFrame, features: np.ndarray, *, recipe: Recipe,
                          protocol_name: str, labels: Sequence[str] = FOUR_CLASSES,
                          network_weight: float = FUSION_NETWORK_WEIGHT, subset: str | None = None,
                          progress: bool = True) -> list[dict]:
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
        raise ValueError(f"{len(features)} feature rows for {len(metadata)} metadata rows — extract the features "
                         "from the rows of the arrays' metadata")
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
        model, history = train_model(recipe.model, RowView(spectrograms, positions[train]), y[train], labels=labels,
                                     config=training, groups=None if speakers is None else speakers[train],
                                     progress=False)
        network = predict_proba(model, RowView(spectrograms, positions[test]), batch_size=training.batch_size)
        svm = svm_probabilities(features[positions[train]], y[train], features[positions[test]], labels=labels,
                                random_state=recipe.training.seed)
        fused = fuse_probabilities(network, svm, network_weight=network_weight)
        alone = {}
        for member, probabilities in (("network", network), ("svm", svm)):
            scores = evaluation.compute_metrics(y[test], np.asarray(labels)[probabilities.argmax(axis=1)], labels)
            alone.update({f"ua_{member}": scores["ua"], f"wa_{member}": scores["wa"]})
        del model
        return np.asarray(labels)[fused.argmax(axis=1)], {
            **alone, "epochs": len(history.get("loss", [])),
            "validation_split_used": history.get("validation_split_used"),
            "seconds": round(time.perf_counter() - start, 1)}

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
    table = pd.DataFrame({
        "UA network": [row["ua_network"] for row in rows], "UA SVM": [row["ua_svm"] for row in rows],
        "UA fusion": [row["ua"] for row in rows], "WA network": [row["wa_network"] for row in rows],
        "WA SVM": [row["wa_svm"] for row in rows], "WA fusion": [row["wa"] for row in rows],
    }, index=pd.Index([row["fold"] for row in rows], name="fold"))
    return pd.concat([table, table.mean().to_frame("mean").T, table.std(ddof=0).to_frame("std").T])
