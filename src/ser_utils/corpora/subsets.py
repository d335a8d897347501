"""Subsets: which utterances of a corpus take part, by name, defined once.

Every command and notebook selects through :func:`select_subset`; the rows of every array
and feature matrix are :func:`select_files`, in the original's walk order.

>>> manifest = pd.DataFrame({"label": ["angry", "other", "sad"], "recording_type": ["R", "T", "P"]})
>>> select_subset(manifest, "rt")["label"].tolist()
['angry', 'other']
"""

from __future__ import annotations

import pandas as pd

from .. import config
from ..errors import CorpusError
from .walk_order import original_order

__all__ = [
    "SUBSETS",
    "ORIGINAL_SUBSETS",
    "ORIGINAL_ARRAY_SUBSET",
    "UNLABELLED_SUBSETS",
    "default_subset",
    "select_subset",
    "select_files",
]

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
#: statistics over (:mod:`ser_utils.features.speaker_norm`), so that no label decides them.
UNLABELLED_SUBSETS: dict[str, str] = {
    "rt": "rt",
    "rt-4class": "rt",
    "4class": "all",
    "emotions": "all",
    "all": "all",
}


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
    rows = select_subset(manifest, subset)
    if "path" in rows.columns:
        rows = original_order(rows)
    elif "utterance_id" in rows.columns:
        rows = rows.sort_values("utterance_id", kind="stable")
    return rows.reset_index(drop=True)
