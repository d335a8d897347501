"""Evaluation protocols: which rows of a subset train and which test, fold by fold.

Protocols *are* scikit-learn splitters plus their groups, so ``cross_validate(estimator, X,
y, cv=protocol.splitter, groups=protocol.groups)`` and ``GridSearchCV`` take them as they are.

``original-random``  the original's single random 75/25 split (``random_state=1``), speaker-dependent;
``original-4fold``   the original's ``StratifiedKFold(4)`` without shuffling, in manifest order — the
                 original's Windows walk order (:mod:`ser_utils.corpora.walk_order`), which
                 decides the folds; :func:`~ser_utils.evaluation.tables.fold_assignments` lists
                 them (``ser folds``) and :func:`~ser_utils.evaluation.tables.fold_composition`
                 shows what each tests;
``loso``         leave one MSP-IMPROV session out (6 folds): no actor in train and test;
``speaker``      leave one speaker out (TESS: 2 folds; MSP-IMPROV: 12).

Every fold passes :func:`check_no_leakage` before anything is fitted: no utterance on both
sides, and for ``loso`` / ``speaker`` no session or speaker on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import LeaveOneGroupOut, ShuffleSplit, StratifiedKFold

from .. import config
from ..errors import CorpusError, SerError

__all__ = [
    "PROTOCOLS",
    "SPEAKER_INDEPENDENT",
    "Protocol",
    "SelectedFolds",
    "LeakageError",
    "make_protocol",
    "check_no_leakage",
    "manifest_column",
]

PROTOCOLS: tuple[str, ...] = ("original-random", "original-4fold", "loso", "speaker")
#: Protocols whose folds must not share a speaker between training and test.
SPEAKER_INDEPENDENT: tuple[str, ...] = ("loso", "speaker")


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


class SelectedFolds:
    """A scikit-learn splitter that yields only the folds ``folds`` (1-based) of ``splitter``.

    >>> splitter = SelectedFolds(StratifiedKFold(4), [2, 4])
    >>> splitter.get_n_splits(), [len(test) for _, test in splitter.split(np.zeros(8), [0, 1] * 4)]
    (2, [2, 2])
    """

    def __init__(self, splitter, folds: Sequence[int]):
        self.splitter = splitter
        self.folds = sorted({int(fold) for fold in folds})

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return len(self.folds)

    def split(self, X, y=None, groups=None):
        for number, split in enumerate(self.splitter.split(X, y, groups=groups), start=1):
            if number in self.folds:
                yield split


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
        key: manifest_column(manifest, column)
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


def manifest_column(manifest: pd.DataFrame | None, column: str) -> np.ndarray | None:
    """``manifest[column]`` as strings, one per row; None when the column is absent or has gaps."""
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
    ser_utils.evaluation.protocols.LeakageError: protocol 'speaker' fold ?: speaker F01 in training and test — ...
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
