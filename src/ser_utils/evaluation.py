"""Evaluation protocols, metrics and fold reports, shared by the traditional and deep branches.

A **subset** says which utterances take part (:func:`select_subset`); a **protocol** says
which of them train and which test in each fold (:func:`make_protocol`). Protocols *are*
scikit-learn splitters plus their groups, so ``cross_validate(estimator, X, y,
cv=protocol.splitter, groups=protocol.groups)`` and ``GridSearchCV`` take them as they are.

Protocols
---------
``original-random``  the original's single random 75/25 split (``random_state=1``), speaker-dependent;
``original-4fold``   the original's ``StratifiedKFold(4)`` without shuffling, in manifest order — the
                 original's Windows walk order (:mod:`ser_utils.corpora.walk_order`), which
                 decides the folds; :func:`fold_assignments` lists them (``ser folds``) and
                 :func:`fold_composition` shows what each tests;
``loso``         leave one MSP-IMPROV session out (6 folds): no actor in train and test;
``speaker``      leave one speaker out (TESS: 2 folds; MSP-IMPROV: 12).

Metrics: **UA** (unweighted average recall = balanced accuracy) first, **WA** (accuracy)
second, macro-F1, per-class precision/recall/F1 and the confusion matrix; every test
prediction is kept per utterance (:func:`prediction_table`).

Every fold passes :func:`check_no_leakage` before anything is fitted: no utterance on both
sides, and for ``loso`` / ``speaker`` no session or speaker on both sides.

Examples
--------
Three sessions of two speakers each, four labels per speaker; a "model" that copies the
true label except for the first test utterance of each fold:

>>> import numpy as np
>>> manifest = pd.DataFrame({
...     "label": ["angry", "happy", "neutral", "sad"] * 6, "session": np.repeat([1, 2, 3], 8),
...     "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4),
...     "utterance_id": [f"u{i:02d}" for i in range(24)]})
>>> protocol = make_protocol("loso", manifest)
>>> protocol.n_splits
3
>>> y = manifest["label"].to_numpy()
>>> def fit_predict(train, test):
...     return np.where(np.arange(len(test)) == 0, "sad", y[test])
>>> rows = evaluate_folds(protocol, y, fit_predict, config.FOUR_CLASSES, progress=False)
>>> fold_table(rows).loc["mean", ["ua", "wa"]].round(3).tolist()
[0.875, 0.875]
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import LeaveOneGroupOut, ShuffleSplit, StratifiedKFold

from . import config
from .errors import CorpusError, SerError
from .storage import write_csv, write_json

__all__ = [
    "SUBSETS",
    "ORIGINAL_SUBSETS",
    "ORIGINAL_ARRAY_SUBSET",
    "UNLABELLED_SUBSETS",
    "default_subset",
    "select_files",
    "PROTOCOLS",
    "SPEAKER_INDEPENDENT",
    "SCORE_KEYS",
    "METRICS",
    "Protocol",
    "LeakageError",
    "select_subset",
    "make_protocol",
    "check_no_leakage",
    "compute_metrics",
    "class_report",
    "evaluate_folds",
    "fold_table",
    "fold_assignments",
    "fold_composition",
    "prediction_table",
    "original_table",
    "summarise_folds",
    "total_confusion",
    "save_results",
]

log = logging.getLogger(__name__)

#: Which utterances take part, by name; every command and notebook selects through
#: :func:`select_subset`. "R+T" applies to corpora with recording types (MSP-IMPROV: read
#: and target improvised); on a corpus without them (TESS) it keeps every file.
SUBSETS: dict[str, str] = {
    "rt": "R+T, every label (MSP-IMPROV: 1272, the original's arrays and features; TESS: every file)",
    "rt-4class": "R+T, the four classes (MSP-IMPROV: 1218, the original's evaluation)",
    "4class": "every recording type, the four classes (MSP-IMPROV: 7798)",
    "emotions": "every utterance labelled with an emotion (drops 'other' and 'no_agreement'; TESS: 2800)",
    "all": "every utterance, whatever its label",
}
#: The original study's evaluation set per corpus: the default subset of every evaluation.
ORIGINAL_SUBSETS: dict[str, str] = {"tess": "emotions", "msp-improv": "rt-4class"}
#: The original's arrays and feature matrices: R+T whatever the label.
ORIGINAL_ARRAY_SUBSET = "rt"
#: Each subset's recordings whatever their label: what speaker normalisation takes its
#: statistics over (:mod:`ser_utils.speaker_norm`), so that no label decides them.
UNLABELLED_SUBSETS: dict[str, str] = {
    "rt": "rt",
    "rt-4class": "rt",
    "4class": "all",
    "emotions": "all",
    "all": "all",
}
PROTOCOLS: tuple[str, ...] = ("original-random", "original-4fold", "loso", "speaker")
#: Protocols whose folds must not share a speaker between training and test.
SPEAKER_INDEPENDENT: tuple[str, ...] = ("loso", "speaker")
#: The headline metrics of every fold row, in report order after ``fold``.
SCORE_KEYS: tuple[str, ...] = ("wa", "ua", "macro_f1")

#: name -> ``metric(y_true, y_pred)``; ``ua`` is the unweighted average recall.
METRICS: dict[str, Callable] = {
    "wa": accuracy_score,
    "ua": balanced_accuracy_score,
    "macro_f1": partial(f1_score, average="macro", zero_division=0),
}


# ------------------------------------------------------------------------ subsets
def default_subset(corpus: str) -> str:
    """The subset the original study evaluated on ``corpus`` (:data:`ORIGINAL_SUBSETS`).

    >>> default_subset("msp-improv"), default_subset("tess")
    ('rt-4class', 'emotions')
    """
    return ORIGINAL_SUBSETS[config.check_choice(corpus, tuple(ORIGINAL_SUBSETS), "corpus")]


def select_subset(manifest: pd.DataFrame, name: str) -> pd.DataFrame:
    """The utterances of subset ``name``, in manifest order, index reset.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A corpus manifest (:func:`ser_utils.corpora.load_corpus`), with a ``label`` column
        and, for MSP-IMPROV, ``recording_type``.
    name : str
        A key of :data:`SUBSETS`: ``"rt"``, ``"rt-4class"``, ``"4class"``, ``"emotions"``
        or ``"all"``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ChoiceError
        ``name`` is not one of :data:`SUBSETS`.
    CorpusError
        The subset is empty.

    Examples
    --------
    >>> manifest = pd.DataFrame({"label": ["angry", "other", "sad", "happy"],
    ...                          "recording_type": ["R", "T", "P", "T"]})
    >>> select_subset(manifest, "rt")["label"].tolist()
    ['angry', 'other', 'happy']
    >>> select_subset(manifest, "rt-4class")["label"].tolist()
    ['angry', 'happy']
    >>> select_subset(manifest, "4class")["label"].tolist()
    ['angry', 'sad', 'happy']
    """
    config.check_choice(name, tuple(SUBSETS), "subset")
    if "label" not in manifest.columns:
        raise CorpusError(
            "the manifest has no 'label' column — build it with ser_utils.corpora.load_corpus "
            "or `ser data manifest`"
        )
    labels = manifest["label"].astype(str)
    keep = pd.Series(True, index=manifest.index)
    if (
        name in ("rt", "rt-4class")
        and "recording_type" in manifest.columns
        and manifest["recording_type"].notna().any()
    ):
        keep &= manifest["recording_type"].isin(config.ORIGINAL_RECORDING_TYPES)
    if name in ("rt-4class", "4class"):
        keep &= labels.isin(config.FOUR_CLASSES)
    elif name == "emotions":
        keep &= labels.isin(config.EMOTIONS)
    subset = manifest.loc[keep.to_numpy()].reset_index(drop=True)
    if subset.empty:
        corpus = (
            manifest["corpus"].iloc[0]
            if "corpus" in manifest.columns and len(manifest)
            else "the corpus"
        )
        raise CorpusError(
            f"subset {name!r} of {corpus} is empty ({len(manifest)} utterances, labels: "
            f"{', '.join(sorted(labels.unique())) or 'none'}) — check the corpus and its label file "
            "with `ser data check`"
        )
    return subset


def select_files(manifest: pd.DataFrame, subset: str = ORIGINAL_ARRAY_SUBSET) -> pd.DataFrame:
    """The rows of ``subset`` in the original's walk order of their paths, index reset: the
    rows (and row order) of every array and feature matrix.

    The order decides the original's folds (its 4-fold split is unshuffled), so it is the
    original's Windows directory walk (:func:`ser_utils.corpora.walk_order.original_order`),
    the same on every platform; rows without paths are ordered by ``utterance_id``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        A corpus manifest (:func:`ser_utils.corpora.load_corpus`).
    subset : str, default "rt"
        A name of :data:`SUBSETS`; ``"rt"`` gives the original's 1272 MSP-IMPROV files.

    Examples
    --------
    >>> manifest = pd.DataFrame({"path": ["b/x.wav", "a/y.wav", "a/Z.wav"], "label": ["sad"] * 3})
    >>> select_files(manifest, "all")["path"].tolist()
    ['a/y.wav', 'a/Z.wav', 'b/x.wav']
    """
    from .corpora.walk_order import original_order

    rows = select_subset(manifest, subset)
    if "path" in rows.columns:
        rows = original_order(rows)
    elif "utterance_id" in rows.columns:
        rows = rows.sort_values("utterance_id", kind="stable")
    return rows.reset_index(drop=True)


# ----------------------------------------------------------------------- protocols
@dataclass(frozen=True)
class Protocol:
    """A named evaluation protocol: a scikit-learn splitter and the groups it needs.

    Attributes
    ----------
    name : str
        One of :data:`PROTOCOLS`.
    splitter : sklearn cross-validator
        ``ShuffleSplit``, ``StratifiedKFold`` or ``LeaveOneGroupOut``.
    groups : numpy.ndarray or None
        One group per utterance (session or speaker) for the grouped protocols.
    group_column : str or None
        The manifest column the groups come from.
    speakers, utterance_ids : numpy.ndarray or None
        One per utterance, from the manifest; :func:`check_no_leakage` reads them.
    """

    name: str
    splitter: object
    groups: np.ndarray | None = None
    group_column: str | None = None
    #: One speaker / utterance id per row, when the manifest has them: for the leakage guard.
    speakers: np.ndarray | None = None
    utterance_ids: np.ndarray | None = None

    @property
    def speaker_independent(self) -> bool:
        """True for the protocols that promise no speaker in training and test (``loso``, ``speaker``)."""
        return self.name in SPEAKER_INDEPENDENT

    @property
    def n_splits(self) -> int:
        """Number of folds."""
        return int(self.splitter.get_n_splits(groups=self.groups))

    def split(self, y: Sequence) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[(train_indices, test_indices), …]`` for labels ``y`` (one per manifest row)."""
        y = np.asarray(y)
        if self.groups is not None and len(self.groups) != len(y):
            raise ValueError(
                f"protocol {self.name!r} was made for {len(self.groups)} utterances but got "
                f"{len(y)} labels — make the protocol from the same subset as the labels"
            )
        placeholder = np.zeros((len(y), 1))
        return [
            (np.asarray(train), np.asarray(test))
            for train, test in self.splitter.split(placeholder, y, groups=self.groups)
        ]

    def test_groups(self, test: np.ndarray) -> str | None:
        """The group value(s) held out in a test fold, e.g. ``'3'`` (session 3); None if ungrouped."""
        if self.groups is None:
            return None
        return ",".join(str(v) for v in pd.unique(self.groups[test]))


def _group_column(manifest: pd.DataFrame, column: str, protocol: str) -> np.ndarray:
    if column not in manifest.columns or manifest[column].isna().all():
        corpus = (
            manifest["corpus"].iloc[0]
            if "corpus" in manifest.columns and len(manifest)
            else "this corpus"
        )
        hint = " (TESS has no sessions: use --protocol speaker)" if column == "session" else ""
        raise CorpusError(
            f"protocol {protocol!r} needs a {column!r} column but the manifest of {corpus} has "
            f"none{hint}"
        )
    groups = manifest[column].to_numpy()
    if pd.isna(groups).any():
        raise CorpusError(
            f"protocol {protocol!r}: {int(pd.isna(groups).sum())} utterances have no {column} — "
            "rebuild the manifest with `ser data manifest`"
        )
    if len(pd.unique(groups)) < 2:
        raise CorpusError(
            f"protocol {protocol!r} needs at least 2 values of {column!r}, found "
            f"{len(pd.unique(groups))} — the corpus copy is incomplete"
        )
    return groups


def make_protocol(
    name: str,
    manifest: pd.DataFrame,
    *,
    random_state: int = config.ORIGINAL_SPLIT_RANDOM_STATE,
    test_size: float = config.ORIGINAL_SPLIT_TEST_SIZE,
) -> Protocol:
    """The protocol ``name`` over the rows of ``manifest`` (a subset, in the order of ``y``).

    Parameters
    ----------
    name : str
        One of :data:`PROTOCOLS`.
    manifest : pandas.DataFrame
        The utterances that will be split, one row per label, e.g. ``select_subset(…)``.
    random_state : int, default :data:`config.ORIGINAL_SPLIT_RANDOM_STATE` (1)
        ``original-random`` only: the split equals ``train_test_split(…, random_state=random_state)``.
    test_size : float, default :data:`config.ORIGINAL_SPLIT_TEST_SIZE` (0.25)
        ``original-random`` only.

    Returns
    -------
    Protocol

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.model_selection import cross_validate
    >>> manifest = pd.DataFrame({"label": ["angry", "sad"] * 6, "session": np.repeat([1, 2, 3], 4),
    ...                          "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 2)})
    >>> p = make_protocol("loso", manifest)
    >>> scores = cross_validate(DummyClassifier(), np.zeros((12, 1)), manifest["label"], cv=p.splitter,
    ...                         groups=p.groups)
    >>> scores["test_score"].tolist()
    [0.5, 0.5, 0.5]
    """
    config.check_choice(name, PROTOCOLS, "protocol")
    identity = {
        key: _optional_column(manifest, column)
        for key, column in (("speakers", "speaker"), ("utterance_ids", "utterance_id"))
    }
    if name == "original-random":
        # train_test_split without stratify draws exactly this ShuffleSplit's first split.
        return Protocol(
            name,
            ShuffleSplit(n_splits=1, test_size=test_size, random_state=random_state),
            **identity,
        )
    if name == "original-4fold":
        return Protocol(
            name, StratifiedKFold(n_splits=config.ORIGINAL_N_FOLDS, shuffle=False), **identity
        )
    column = "session" if name == "loso" else "speaker"
    return Protocol(
        name, LeaveOneGroupOut(), _group_column(manifest, column, name), column, **identity
    )


def _optional_column(manifest: pd.DataFrame | None, column: str) -> np.ndarray | None:
    if manifest is None or column not in manifest.columns or manifest[column].isna().any():
        return None
    return manifest[column].astype(str).to_numpy()


class LeakageError(SerError, ValueError):
    """A fold's test part shares utterances (or, where the protocol promises it, speakers) with training."""


def check_no_leakage(
    protocol: Protocol, train: np.ndarray, test: np.ndarray, *, fold: int | None = None
) -> None:
    """Raise :class:`LeakageError` when a fold's training and test parts overlap.

    Every protocol: no row, and no utterance id, on both sides. Grouped protocols: no group
    (session or speaker) on both sides. :data:`SPEAKER_INDEPENDENT` protocols (``loso``,
    ``speaker``): no speaker on both sides. The original protocols put the same speakers on both
    sides by design, so only their utterances are checked.

    Parameters
    ----------
    protocol : Protocol
    train, test : array of int
        Row indices of the fold.
    fold : int, optional
        1-based fold number, for the message.

    Examples
    --------
    >>> p = Protocol("speaker", None, np.array(["F01", "F01", "M01"]), "speaker", np.array(["F01", "F01", "M01"]))
    >>> check_no_leakage(p, np.array([0]), np.array([1, 2]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ser_utils.evaluation.LeakageError: protocol 'speaker' fold ?: speaker F01 in training and test — ...
    """
    where = f"protocol {protocol.name!r} fold {fold or '?'}"
    shared_rows = np.intersect1d(train, test)
    if len(shared_rows):
        raise LeakageError(
            f"{where}: {len(shared_rows)} rows in training and test (e.g. row {shared_rows[0]}) — "
            "the splitter leaks; fix the protocol before trusting its scores"
        )
    checks = [("utterance", protocol.utterance_ids)]
    if protocol.groups is not None:
        checks.append((protocol.group_column or "group", protocol.groups))
    if protocol.speaker_independent:
        checks.append(("speaker", protocol.speakers))
    for what, values in checks:
        if values is None:
            continue
        shared = sorted(set(map(str, values[train])) & set(map(str, values[test])))
        if shared:
            raise LeakageError(
                f"{where}: {what} {', '.join(shared[:3])}{' …' if len(shared) > 3 else ''} in "
                "training and test — the splitter leaks; fix the protocol before trusting its scores"
            )


# ------------------------------------------------------------------------- metrics
def class_report(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per label (in ``labels`` order), plus
    ``macro avg`` and ``weighted avg`` rows — sklearn's classification report as a DataFrame."""
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    report = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels, name="label"),
    )
    total = support.sum()
    weights = support / total if total else np.zeros(len(labels))
    report.loc["macro avg"] = [precision.mean(), recall.mean(), f1.mean(), total]
    report.loc["weighted avg"] = [precision @ weights, recall @ weights, f1 @ weights, total]
    report["support"] = report["support"].astype(int)
    return report


def compute_metrics(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> dict:
    """WA, UA, macro-F1, the per-class table and the confusion matrix of one test set.

    Parameters
    ----------
    y_true, y_pred : sequence of str
        True and predicted labels.
    labels : sequence of str
        The class order of the per-class table and the confusion matrix.

    Returns
    -------
    dict
        ``wa`` accuracy; ``ua`` unweighted average recall (the mean recall over the labels
        present in ``y_true``, = ``balanced_accuracy_score``); ``macro_f1`` (mean F1 over the
        labels present in ``y_true`` or ``y_pred``, as ``f1_score(average='macro')``);
        ``per_class`` DataFrame (precision, recall, f1, support indexed by label);
        ``confusion`` (rows true, columns predicted, in ``labels`` order).

    Examples
    --------
    >>> m = compute_metrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> round(m["wa"], 3), m["ua"], m["confusion"].tolist()
    (0.667, 0.75, [[1, 1], [0, 1]])
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred) or not len(y_true):
        raise ValueError(
            f"y_true and y_pred must be non-empty and of equal length, got {len(y_true)} and "
            f"{len(y_pred)}"
        )
    labels = list(labels)
    unknown = sorted(
        set(map(str, np.unique(np.concatenate([y_true, y_pred])))) - set(map(str, labels))
    )
    if unknown:
        raise ValueError(
            f"labels {unknown} are not in the label order {labels} — pass every class in `labels`"
        )
    confusion = confusion_matrix(y_true, y_pred, labels=labels)
    per_class = class_report(y_true, y_pred, labels).loc[labels]
    present = confusion.sum(axis=1) > 0
    used = present | (confusion.sum(axis=0) > 0)
    recall = np.diag(confusion)[present] / confusion.sum(axis=1)[present]
    return {
        "wa": float(np.trace(confusion) / confusion.sum()),
        "ua": float(recall.mean()),
        "macro_f1": float(per_class["f1"].to_numpy()[used].mean()),
        "per_class": per_class,
        "confusion": confusion,
    }


# --------------------------------------------------------------------------- folds
def _predictions(
    protocol: Protocol, y: np.ndarray, test: np.ndarray, y_pred: np.ndarray, info: dict
) -> dict:
    """One fold's test predictions, per utterance (ids from the protocol, else row numbers)."""
    ids = protocol.utterance_ids[test] if protocol.utterance_ids is not None else test
    record = {
        "utterance_id": [str(v) for v in ids],
        "true": [str(v) for v in y[test]],
        "predicted": [str(v) for v in y_pred],
    }
    probabilities = info.pop("probabilities", None)
    if probabilities is not None:
        record["probabilities"] = np.asarray(probabilities, dtype=float).round(6).tolist()
    return record


def prediction_table(rows: list[dict], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Every test prediction of every fold, one row per utterance and fold.

    Parameters
    ----------
    rows : list of dict
        Fold rows of :func:`evaluate_folds` (each holds its ``predictions``).
    labels : sequence of str, optional
        Class order of the probabilities; default the fold rows' ``per_class`` order.

    Returns
    -------
    pandas.DataFrame
        Columns ``utterance_id``, ``fold``, ``split`` ('test'), ``true``, ``predicted`` and,
        when the model gave probabilities, ``p_<class>`` per class.
    """
    labels = list(labels) if labels is not None else list(rows[0].get("per_class", {}))
    frames = []
    for row in rows:
        predictions = row.get("predictions")
        if not predictions:
            raise ValueError(
                f"fold {row.get('fold')} holds no predictions — run it with evaluate_folds"
            )
        frame = pd.DataFrame(
            {
                "utterance_id": predictions["utterance_id"],
                "fold": row["fold"],
                "split": "test",
                "true": predictions["true"],
                "predicted": predictions["predicted"],
            }
        )
        if "probabilities" in predictions:
            frame = frame.join(
                pd.DataFrame(predictions["probabilities"], columns=[f"p_{c}" for c in labels])
            )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def fold_composition(
    subset: pd.DataFrame, protocol: Protocol, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """What each fold of ``protocol`` tests: class counts, sessions, speakers, and how many of
    its test speakers the training part also holds.

    Parameters
    ----------
    subset : pandas.DataFrame
        The rows ``protocol`` was made from, in the same order (``label``, and ``speaker`` /
        ``session`` when the corpus has them).
    protocol : Protocol
    labels : sequence of str, optional
        Class order of the count columns; default the labels present, in vocabulary order.

    Returns
    -------
    pandas.DataFrame
        Index ``fold`` (1-based); columns ``n_train``, ``n_test``, one test count per class,
        ``test_sessions``, ``test_speakers`` (comma-separated), ``n_test_speakers``,
        ``test_speakers_in_training`` (how many of them the training part holds) and
        ``test_utterances_seen_speaker`` (share of test utterances whose speaker is in training).

    Examples
    --------
    The original's unshuffled 4 folds over rows in session order: the middle folds test
    speakers the training part also holds.

    >>> import numpy as np
    >>> subset = pd.DataFrame({"label": ["angry", "happy", "neutral", "sad"] * 6,
    ...                        "session": np.repeat([1, 2, 3], 8),
    ...                        "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4)})
    >>> table = fold_composition(subset, make_protocol("original-4fold", subset))
    >>> table["test_speakers_in_training"].tolist()
    [1, 3, 3, 1]
    """
    y = subset["label"].astype(str).to_numpy()
    if labels is None:
        present = set(y)
        labels = [
            label
            for label in (*config.EMOTIONS, config.OTHER_LABEL, config.NO_AGREEMENT_LABEL)
            if label in present
        ]
    speakers = _optional_column(subset, "speaker")
    sessions = _optional_column(subset, "session")
    records = []
    for fold, (train, test) in enumerate(protocol.split(y), start=1):
        counts = pd.Series(y[test]).value_counts()
        record = {
            "fold": fold,
            "n_train": len(train),
            "n_test": len(test),
            **{label: int(counts.get(label, 0)) for label in labels},
        }
        if sessions is not None:
            record["test_sessions"] = ",".join(sorted(set(sessions[test]), key=_natural))
        if speakers is not None:
            tested, trained = set(speakers[test]), set(speakers[train])
            record.update(
                test_speakers=",".join(sorted(tested)),
                n_test_speakers=len(tested),
                test_speakers_in_training=len(tested & trained),
                test_utterances_seen_speaker=float(np.isin(speakers[test], list(trained)).mean()),
            )
        records.append(record)
    return pd.DataFrame.from_records(records).set_index("fold")


def _natural(value: str):
    return (0, int(value)) if value.isdigit() else (1, value)


def fold_assignments(
    subset: pd.DataFrame,
    protocol: Protocol,
    validation: Callable[[np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray]]
    | None = None,
) -> pd.DataFrame:
    """Which utterance is in which part of which fold: one row per utterance and fold.

    Parameters
    ----------
    subset : pandas.DataFrame
        The rows ``protocol`` was made from, in the same order (``utterance_id``, ``label``).
    protocol : Protocol
    validation : callable, optional
        ``validation(labels, speakers) -> (fit_positions, validation_positions)`` over one
        training part, as the recipe's training holds it out (e.g.
        :func:`ser_utils.training.validation_split` with the recipe's training config: for
        the original, ``train_test_split(train, test_size=0.2, random_state=727)``, not
        stratified). None: every training row is ``train``.

    Returns
    -------
    pandas.DataFrame
        Columns ``utterance_id``, ``fold`` (1-based), ``split`` ('train', 'validation' or
        'test'), fold by fold, rows in subset order within each fold.
    """
    y = subset["label"].astype(str).to_numpy()
    ids = subset["utterance_id"].astype(str).to_numpy()
    speakers = subset["speaker"].astype(str).to_numpy() if "speaker" in subset.columns else None
    frames = []
    for fold, (train, test) in enumerate(protocol.split(y), start=1):
        check_no_leakage(protocol, train, test, fold=fold)
        split = np.full(len(y), "", dtype=object)
        split[train] = "train"
        if validation is not None:
            _, held_out = validation(y[train], None if speakers is None else speakers[train])
            split[train[np.asarray(held_out)]] = "validation"
        split[test] = "test"
        used = np.sort(np.concatenate([train, test]))
        frames.append(pd.DataFrame({"utterance_id": ids[used], "fold": fold, "split": split[used]}))
    return pd.concat(frames, ignore_index=True)


def _fit_predict_result(result) -> tuple[np.ndarray, dict]:
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict):
        return np.asarray(result[0]), dict(result[1])
    return np.asarray(result), {}


def evaluate_folds(
    protocol: Protocol,
    y: Sequence,
    fit_predict: Callable,
    labels: Sequence[str],
    *,
    progress: bool = True,
) -> list[dict]:
    """Run ``fit_predict`` on every fold of ``protocol`` and score its test predictions.

    Every fold first passes :func:`check_no_leakage`. The callable sees the indices only; it
    must fit (and make every choice: scaling, hyperparameters, early stopping, validation
    split) on ``train_idx`` alone — the test labels are read here, after it returned.

    Parameters
    ----------
    protocol : Protocol
    y : sequence of str
        Labels, one per row of the subset the protocol was made from.
    fit_predict : callable
        ``fit_predict(train_idx, test_idx) -> y_pred`` (labels for ``test_idx``), or
        ``-> (y_pred, info)`` where ``info`` is a dict added to the fold's row (e.g. the
        chosen hyperparameters, the number of epochs); an ``info["probabilities"]`` array
        (test rows × ``labels``) goes into the fold's ``predictions``.
    labels : sequence of str
        Class order of the confusion matrices and per-class tables.
    progress : bool, default True
        Show a tqdm progress bar over the folds.

    Returns
    -------
    list of dict
        One row per fold: ``fold`` (1-based), ``wa``, ``ua``, ``macro_f1``, ``n_train``,
        ``n_test``, ``test_group`` (grouped protocols), ``confusion`` (nested list),
        ``per_class`` ({label: {precision, recall, f1, support}}), ``predictions``
        (``utterance_id``, ``true``, ``predicted`` and maybe ``probabilities`` per test
        utterance; :func:`prediction_table`) and the ``info`` keys.
    """
    from tqdm.auto import tqdm

    y = np.asarray(y)
    labels = list(labels)
    splits = protocol.split(y)
    rows = []
    for fold, (train, test) in enumerate(
        tqdm(splits, desc=protocol.name, disable=not progress, leave=False), start=1
    ):
        check_no_leakage(protocol, train, test, fold=fold)
        y_pred, info = _fit_predict_result(fit_predict(train, test))
        if len(y_pred) != len(test):
            raise ValueError(
                f"fold {fold}: fit_predict returned {len(y_pred)} predictions for {len(test)} "
                "test utterances"
            )
        metrics = compute_metrics(y[test], y_pred, labels)
        row = {
            "fold": fold,
            **{k: metrics[k] for k in SCORE_KEYS},
            "n_train": len(train),
            "n_test": len(test),
        }
        if protocol.groups is not None:
            row["test_group"] = protocol.test_groups(test)
        predictions = _predictions(protocol, y, test, y_pred, info)
        row.update(info)
        row["confusion"] = metrics["confusion"].tolist()
        row["per_class"] = metrics["per_class"].to_dict(orient="index")
        row["predictions"] = predictions
        log.info(
            "%s fold %d/%d: UA %.3f WA %.3f", protocol.name, fold, len(splits), row["ua"], row["wa"]
        )
        rows.append(row)
    return rows


def _table_value(value):
    if isinstance(value, dict) and all(
        isinstance(v, (str, numbers.Number)) or v is None for v in value.values()
    ):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value


def fold_table(rows: list[dict]) -> pd.DataFrame:
    """One row per fold (``wa``, ``ua``, ``macro_f1``, ``n_test`` and every other scalar key),
    then ``mean`` and ``std`` rows over the numeric columns.

    The index is named ``fold`` (1, 2, …, 'mean', 'std'). ``std`` is the population
    standard deviation (``ddof=0``, as scikit-learn's ``std_test_score``); flat dicts
    such as chosen hyperparameters are shown as ``key=value`` text.
    """
    if not rows:
        raise ValueError("no fold rows to tabulate")
    records = []
    for number, row in enumerate(rows, start=1):
        record = {"fold": row.get("fold", number)}
        for key, value in row.items():
            value = _table_value(value)
            if key != "fold" and (isinstance(value, (str, numbers.Number)) or value is None):
                record[key] = value
        records.append(record)
    table = pd.DataFrame.from_records(records).set_index("fold")
    first = [k for k in (*SCORE_KEYS, "n_train", "n_test") if k in table.columns]
    table = table[first + [c for c in table.columns if c not in first]]
    numeric = [
        c
        for c in table.columns
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
    ]
    mean = table[numeric].mean()
    std = table[numeric].std(ddof=0)
    table.index = table.index.astype(object)
    table.loc["mean"] = mean.reindex(table.columns)
    table.loc["std"] = std.reindex(table.columns)
    return table


def original_table(rows: list[dict], keys: Sequence[str] = SCORE_KEYS) -> pd.DataFrame:
    """Each fold's scores over the training seeds: mean and standard deviation, and the same
    for the fold means of the draws (row ``mean``).

    Parameters
    ----------
    rows : list of dict
        From :func:`ser_utils.end_to_end.cross_validate_seeds` (rows without ``training_seed`` count as one draw).
    keys : sequence of str
        Scores to summarise.

    Returns
    -------
    pandas.DataFrame
        Index fold 1..k and ``mean``; columns ``<key>`` (mean over seeds) and ``<key>_sd``
        (population standard deviation over seeds, 0 for one seed), and ``n_seeds``. The
        ``mean`` row is the mean over seeds of each draw's fold mean, its ``_sd`` the spread
        of those draw means.
    """
    frame = pd.DataFrame(
        [
            {
                "fold": row["fold"],
                "training_seed": row.get("training_seed", 0),
                **{key: row[key] for key in keys},
            }
            for row in rows
        ]
    )
    by_fold = frame.groupby("fold")[list(keys)]
    draws = frame.groupby("training_seed")[list(keys)].mean()
    table = pd.concat([by_fold.mean(), by_fold.std(ddof=0).add_suffix("_sd")], axis=1)
    table.index = table.index.astype(object)
    table.loc["mean"] = pd.concat([draws.mean(), draws.std(ddof=0).add_suffix("_sd")])
    table = table[[column for key in keys for column in (key, f"{key}_sd")]]
    table["n_seeds"] = len(draws)
    return table


def summarise_folds(rows: list[dict]) -> dict:
    """``{"wa": mean, "wa_std": std, "ua": …, "macro_f1": …, "n_folds": k}`` over the folds."""
    summary: dict = {}
    for key in SCORE_KEYS:
        values = np.array([row[key] for row in rows], dtype=float)
        summary[key] = float(values.mean())
        summary[f"{key}_std"] = float(values.std())
    summary["n_folds"] = len(rows)
    return summary


def total_confusion(rows: list[dict]) -> tuple[np.ndarray, list[str]]:
    """The confusion matrices of all folds summed, and their label order (from ``per_class``)."""
    labels = list(rows[0]["per_class"])
    return np.sum([np.asarray(row["confusion"]) for row in rows], axis=0), labels


def save_results(
    name: str, rows: list[dict], *, out_dir: str | Path, extra: dict | None = None
) -> dict[str, Path]:
    """Write ``<name>.json`` and ``<name>.csv`` (the :func:`fold_table`) atomically.

    Parameters
    ----------
    name : str
        File stem, e.g. ``"msp-improv_seed_loso_rbf_svm"``.
    rows : list of dict
        Fold rows from :func:`evaluate_folds`.
    out_dir : path
        The folder, e.g. a run directory (:mod:`ser_utils.runs`).
    extra : dict, optional
        Merged into the JSON (e.g. corpus, subset, protocol, model, recipe).

    Returns
    -------
    dict
        ``{"json": path, "csv": path}``. The JSON holds ``name``, the fold means ``wa``,
        ``ua``, ``macro_f1``, their ``*_std``, ``n_folds``, ``labels``, the summed
        ``confusion``, ``folds`` (every fold row with its confusion matrix and per-class
        dict) and the ``extra`` keys.
    """
    if not rows:
        raise ValueError(f"no fold rows to save for {name!r}")
    out_dir = Path(out_dir)
    data = {"name": name, **summarise_folds(rows)}
    if all("confusion" in row and "per_class" in row for row in rows):
        confusion, labels = total_confusion(rows)
        data.update(labels=labels, confusion=confusion)
    data["folds"] = rows
    data.update(extra or {})
    paths = {
        "json": write_json(data, out_dir / f"{name}.json"),
        "csv": write_csv(fold_table(rows), out_dir / f"{name}.csv", index=True),
    }
    log.info("results of %s -> %s", name, paths["json"])
    return paths
