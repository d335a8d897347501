"""The fold loop: every kind of run — a traditional model, one network, an ensemble, the
fusion — is cross-validated by :func:`cross_validate`, and its result is one
:class:`CrossValidation`.

:func:`cross_validate` walks the folds of a :class:`~ser_utils.evaluation.protocols.Protocol`.
Each fold first passes the leakage guard; then ``fit_predict(fold, train, test)`` fits on the
training rows alone (it sees indices, never the test labels) and returns the test predictions,
as labels or as a :class:`FoldPrediction`; the loop scores them. A fold's result is a
:class:`FoldResult`; the run's is a :class:`CrossValidation`, whose summary (fold means and
standard deviations) and summed confusion matrix are computed once, when it is made, and read
by the tables (:mod:`ser_utils.evaluation.tables`), the reports, the notebooks and ``ser``.

Examples
--------
Three sessions of two speakers each, four labels per speaker; a "model" that copies the
true label except for the first test utterance of each fold:

>>> import numpy as np
>>> import pandas as pd
>>> from ser_utils import config
>>> from ser_utils.evaluation.protocols import make_protocol
>>> manifest = pd.DataFrame({
...     "label": ["angry", "happy", "neutral", "sad"] * 6, "session": np.repeat([1, 2, 3], 8),
...     "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4),
...     "utterance_id": [f"u{i:02d}" for i in range(24)]})
>>> protocol = make_protocol("loso", manifest)
>>> y = manifest["label"].to_numpy()
>>> def fit_predict(fold, train, test):
...     return np.where(np.arange(len(test)) == 0, "sad", y[test])
>>> result = cross_validate(protocol, y, fit_predict, config.FOUR_CLASSES, progress=False)
>>> len(result.folds), round(result.summary.ua, 3), round(result.summary.wa, 3)
(3, 0.875, 0.875)
>>> result.folds[0].test_group, result.folds[0].predictions.predicted[:2]
('1', ('sad', 'happy'))
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .metrics import SCORE_KEYS, compute_metrics
from .protocols import Protocol, check_no_leakage

__all__ = [
    "FoldPrediction",
    "FoldPredictions",
    "FoldResult",
    "Summary",
    "CrossValidation",
    "cross_validate",
    "MEMBER_SCORES",
]

log = logging.getLogger(__name__)

#: The scores of each member of a fused prediction, on the same test fold as the fused one.
MEMBER_SCORES: tuple[str, ...] = ("ua", "wa")
#: Decimals kept of every test probability.
PROBABILITY_DECIMALS = 6


@dataclass(frozen=True)
class FoldPrediction:
    """What a ``fit_predict`` returns for one fold (a bare array of labels also does).

    Attributes
    ----------
    predicted : sequence of str
        One label per test row.
    probabilities : np.ndarray, optional
        Test rows × classes, in the label order of the run.
    members : mapping of name -> np.ndarray
        Each member's own test probabilities (e.g. ``network`` and ``svm`` of a fusion), scored
        alone by the loop on the same test rows (:data:`MEMBER_SCORES`).
    details : mapping of str -> value
        What the model reports of its fold: epochs, chosen hyperparameters, sizes, seconds…
        (JSON values; they become the fold table's extra columns).
    history : dict, optional
        Learning curves (Keras' ``History.history``).
    """

    predicted: Sequence[str]
    probabilities: np.ndarray | None = None
    members: Mapping[str, np.ndarray] = field(default_factory=dict)
    details: Mapping[str, object] = field(default_factory=dict)
    history: dict | None = None


@dataclass(frozen=True)
class FoldPredictions:
    """Every test prediction of one fold, one entry per test utterance."""

    utterance_id: tuple[str, ...]
    true: tuple[str, ...]
    predicted: tuple[str, ...]
    #: Test rows × classes, rounded to :data:`PROBABILITY_DECIMALS`; None when the model gave none.
    probabilities: np.ndarray | None = None

    def to_dict(self) -> dict:
        record = {
            "utterance_id": list(self.utterance_id),
            "true": list(self.true),
            "predicted": list(self.predicted),
        }
        if self.probabilities is not None:
            record["probabilities"] = self.probabilities.tolist()
        return record

    @classmethod
    def from_dict(cls, data: Mapping) -> FoldPredictions:
        probabilities = data.get("probabilities")
        return cls(
            tuple(map(str, data["utterance_id"])),
            tuple(map(str, data["true"])),
            tuple(map(str, data["predicted"])),
            None if probabilities is None else np.asarray(probabilities, dtype=float),
        )


@dataclass(frozen=True)
class FoldResult:
    """One fold of a cross-validation: its scores, counts, confusion and predictions.

    Attributes
    ----------
    fold : int
        1-based, in the order of the folds run.
    wa, ua, macro_f1 : float
        Accuracy, unweighted average recall and macro-F1 of the test predictions.
    n_train, n_test : int
    test_group : str or None
        The session(s) or speaker(s) held out (grouped protocols).
    confusion : np.ndarray
        Rows true, columns predicted, in the run's label order.
    per_class : pandas.DataFrame
        Precision, recall, F1 and support per label.
    predictions : FoldPredictions
    members : mapping of name -> {"ua": …, "wa": …}
        Each member of a fused prediction scored alone.
    details : mapping of str -> value
        What the model reported (:attr:`FoldPrediction.details`).
    history : dict or None
        Learning curves.
    training_seed : int or None
        The training draw this fold belongs to, when a run repeats its folds with several seeds.
    """

    fold: int
    wa: float
    ua: float
    macro_f1: float
    n_train: int
    n_test: int
    test_group: str | None
    confusion: np.ndarray
    per_class: pd.DataFrame
    predictions: FoldPredictions
    members: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    details: Mapping[str, object] = field(default_factory=dict)
    history: dict | None = None
    training_seed: int | None = None

    @property
    def seed(self) -> int | None:
        """The seed the fold's model was trained with (networks: the run's seed + fold)."""
        return self.details.get("seed")

    @property
    def n_validation(self) -> int | None:
        """Training rows held out for validation (networks)."""
        return self.details.get("n_validation")

    def score(self, key: str) -> float:
        """``wa``, ``ua`` or ``macro_f1``; ``<key>_<member>`` for a member (e.g. ``ua_svm``)."""
        if key in SCORE_KEYS:
            return float(getattr(self, key))
        metric, _, member = key.partition("_")
        return float(self.members[member][metric])

    def to_dict(self) -> dict:
        """The fold as one flat record, as ``metrics.json`` holds it."""
        record: dict = {
            "fold": self.fold,
            "wa": self.wa,
            "ua": self.ua,
            "macro_f1": self.macro_f1,
            "n_train": self.n_train,
            "n_test": self.n_test,
        }
        if self.test_group is not None:
            record["test_group"] = self.test_group
        for member, scores in self.members.items():
            record.update({f"{metric}_{member}": value for metric, value in scores.items()})
        record.update(self.details)
        if self.history is not None:
            record["history"] = self.history
        record["confusion"] = np.asarray(self.confusion).tolist()
        record["per_class"] = self.per_class.to_dict(orient="index")
        record["predictions"] = self.predictions.to_dict()
        if self.training_seed is not None:
            record["training_seed"] = self.training_seed
        return record

    @classmethod
    def from_dict(cls, data: Mapping) -> FoldResult:
        """A fold read back from :meth:`to_dict`'s record (``metrics.json``)."""
        data = dict(data)
        core = {key: data.pop(key) for key in ("fold", "wa", "ua", "macro_f1", "n_train", "n_test")}
        members = {
            key[3:]: {"ua": data.pop(key), "wa": data.pop(f"wa_{key[3:]}")}
            for key in list(data)
            if key.startswith("ua_") and f"wa_{key[3:]}" in data
        }
        return cls(
            **core,
            test_group=data.pop("test_group", None),
            confusion=np.asarray(data.pop("confusion")),
            per_class=pd.DataFrame.from_dict(data.pop("per_class"), orient="index"),
            predictions=FoldPredictions.from_dict(data.pop("predictions")),
            members=members,
            history=data.pop("history", None),
            training_seed=data.pop("training_seed", None),
            details=data,
        )


@dataclass(frozen=True)
class Summary:
    """Fold means of the scores, their population standard deviations and the number of folds."""

    wa: float
    wa_std: float
    ua: float
    ua_std: float
    macro_f1: float
    macro_f1_std: float
    n_folds: int

    @classmethod
    def of(cls, folds: Sequence[FoldResult]) -> Summary:
        values = {}
        for key in SCORE_KEYS:
            scores = np.array([getattr(fold, key) for fold in folds], dtype=float)
            values[key], values[f"{key}_std"] = float(scores.mean()), float(scores.std())
        return cls(**values, n_folds=len(folds))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class CrossValidation:
    """The folds of one run, with their summary and summed confusion matrix (computed once).

    Attributes
    ----------
    protocol : str
    labels : tuple of str
        The class order of every confusion matrix, per-class table and probability.
    folds : tuple of FoldResult
        In the order they were run (per training seed, one seed after another).
    summary : Summary
        Fold means and standard deviations over every fold.
    confusion : np.ndarray
        The folds' confusion matrices summed.
    """

    protocol: str
    labels: tuple[str, ...]
    folds: tuple[FoldResult, ...]
    summary: Summary = field(init=False)
    confusion: np.ndarray = field(init=False)

    def __post_init__(self):
        if not self.folds:
            raise ValueError(f"a cross-validation under {self.protocol!r} needs at least one fold")
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "folds", tuple(self.folds))
        object.__setattr__(self, "summary", Summary.of(self.folds))
        object.__setattr__(
            self, "confusion", np.sum([np.asarray(fold.confusion) for fold in self.folds], axis=0)
        )

    @property
    def seeds(self) -> tuple[int | None, ...]:
        """The training seeds of the folds, each once, in the order run (None: one draw)."""
        return tuple(dict.fromkeys(fold.training_seed for fold in self.folds))

    def with_training_seed(self, seed: int) -> CrossValidation:
        """The same folds, each marked as belonging to the training draw ``seed``."""
        folds = [dataclasses.replace(fold, training_seed=int(seed)) for fold in self.folds]
        return CrossValidation(self.protocol, self.labels, tuple(folds))

    @classmethod
    def concatenate(cls, runs: Sequence[CrossValidation]) -> CrossValidation:
        """The folds of several runs of one protocol (e.g. one per training seed) as one run."""
        first = runs[0]
        return cls(first.protocol, first.labels, tuple(f for run in runs for f in run.folds))

    def to_dict(self) -> dict:
        """The summary, labels, summed confusion and every fold, as ``metrics.json`` holds them."""
        return {
            **self.summary.to_dict(),
            "labels": list(self.labels),
            "confusion": self.confusion.tolist(),
            "folds": [fold.to_dict() for fold in self.folds],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> CrossValidation:
        """A cross-validation read back from :meth:`to_dict` (a run's ``metrics.json``)."""
        return cls(
            data.get("protocol") or "",
            tuple(data["labels"]),
            tuple(FoldResult.from_dict(fold) for fold in data["folds"]),
        )


def _fold_prediction(result) -> FoldPrediction:
    return result if isinstance(result, FoldPrediction) else FoldPrediction(np.asarray(result))


def cross_validate(
    protocol: Protocol,
    y: Sequence,
    fit_predict: Callable[[int, np.ndarray, np.ndarray], FoldPrediction | Sequence[str]],
    labels: Sequence[str],
    *,
    progress: bool = True,
) -> CrossValidation:
    """Run ``fit_predict`` on every fold of ``protocol`` and score its test predictions.

    Every fold first passes :func:`~ser_utils.evaluation.protocols.check_no_leakage`. The
    callable sees the fold number and the indices only; it must fit (and make every choice:
    scaling, hyperparameters, early stopping, validation split) on ``train`` alone — the test
    labels are read here, after it returned.

    Parameters
    ----------
    protocol : Protocol
    y : sequence of str
        Labels, one per row of the subset the protocol was made from.
    fit_predict : callable
        ``fit_predict(fold, train, test)`` with the 1-based fold number and the row indices of
        the fold; returns the labels of ``test`` or a :class:`FoldPrediction`.
    labels : sequence of str
        Class order of the confusion matrices, per-class tables and probabilities.
    progress : bool, default True
        A tqdm progress bar over the folds.

    Returns
    -------
    CrossValidation
    """
    y = np.asarray(y)
    labels = tuple(labels)
    splits = protocol.split(y)
    folds = []
    for fold, (train, test) in enumerate(
        tqdm(splits, desc=protocol.name, disable=not progress, leave=False), start=1
    ):
        check_no_leakage(protocol, train, test, fold=fold)
        prediction = _fold_prediction(fit_predict(fold, train, test))
        predicted = np.asarray(prediction.predicted)
        if len(predicted) != len(test):
            raise ValueError(
                f"fold {fold}: fit_predict returned {len(predicted)} predictions for {len(test)} "
                "test utterances"
            )
        metrics = compute_metrics(y[test], predicted, labels)
        members = {}
        for member, probabilities in prediction.members.items():
            alone = compute_metrics(
                y[test], np.asarray(labels)[np.asarray(probabilities).argmax(axis=1)], labels
            )
            members[member] = {metric: alone[metric] for metric in MEMBER_SCORES}
        ids = protocol.utterance_ids[test] if protocol.utterance_ids is not None else test
        probabilities = prediction.probabilities
        folds.append(
            FoldResult(
                fold=fold,
                wa=metrics["wa"],
                ua=metrics["ua"],
                macro_f1=metrics["macro_f1"],
                n_train=len(train),
                n_test=len(test),
                test_group=protocol.test_groups(test),
                confusion=metrics["confusion"],
                per_class=metrics["per_class"],
                predictions=FoldPredictions(
                    tuple(str(v) for v in ids),
                    tuple(str(v) for v in y[test]),
                    tuple(str(v) for v in predicted),
                    None
                    if probabilities is None
                    else np.asarray(probabilities, dtype=float).round(PROBABILITY_DECIMALS),
                ),
                members=members,
                details=dict(prediction.details),
                history=prediction.history,
            )
        )
        log.info(
            "%s fold %d/%d: UA %.3f WA %.3f",
            protocol.name,
            fold,
            len(splits),
            metrics["ua"],
            metrics["wa"],
        )
    return CrossValidation(protocol.name, labels, tuple(folds))
