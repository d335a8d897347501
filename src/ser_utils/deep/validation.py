"""The validation part of a training part: the original's random 20 % split, or a split grouped
by speaker (stratified when a single training speaker is left).

>>> from ser_utils.config import TrainingConfig
>>> validation_split(["a", "a", "b", "b", "a", "b"], groups=["s1", "s1", "s2", "s2", "s3", "s3"],
...                  config=TrainingConfig(validation_split="speaker", validation_size=0.3))[1].size > 0
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from ..config import TrainingConfig, check_choice

__all__ = ["VALIDATION_SPLITS", "validation_split", "validation_split_used"]

VALIDATION_SPLITS: tuple[str, ...] = ("random", "speaker")


def validation_split(
    labels: Sequence, *, groups: Sequence | None = None, config: TrainingConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation parts of one training set.

    Parameters
    ----------
    labels : sequence, length n
        One label per example (only the length is used by the random split).
    groups : sequence, length n, optional
        Speaker (or session) of each example; required by the ``"speaker"`` split.
    config : TrainingConfig
        ``validation_split`` picks the split, ``validation_size`` the fraction held out,
        ``validation_random_state`` the seed.

    Returns
    -------
    train_idx, val_idx : np.ndarray of int
        ``"random"``: exactly the original's
        ``train_test_split(np.arange(n), test_size=0.2, random_state=727)`` (shuffled order,
        no stratification). ``"speaker"``: :class:`~sklearn.model_selection.GroupShuffleSplit`,
        so no group is in both parts (about ``validation_size`` of the groups held out).
        When the training part holds a single group (TESS leave-one-speaker-out leaves one
        speaker to train on), a speaker-independent split is impossible: the split falls
        back to a random one stratified by label, and :func:`validation_split_used` says so.

    Examples
    --------
    >>> from ser_utils.config import TrainingConfig
    >>> train, val = validation_split(["a"] * 10, config=TrainingConfig())
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(labels)
    mode = config.validation_split
    check_choice(mode, VALIDATION_SPLITS, "validation_split")
    if not 0 < config.validation_size < 1:
        raise ValueError(
            f"validation_size must be a fraction in (0, 1), got {config.validation_size}"
        )
    indices = np.arange(n)
    if mode == "random":
        train_idx, val_idx = train_test_split(
            indices, test_size=config.validation_size, random_state=config.validation_random_state
        )
        return np.asarray(train_idx), np.asarray(val_idx)
    if groups is None:
        raise ValueError(
            "the 'speaker' validation split needs groups (one speaker per example) — "
            "pass groups=manifest['speaker'] or use validation_split='random'"
        )
    groups = np.asarray(groups)
    if len(groups) != n:
        raise ValueError(
            f"groups has {len(groups)} entries for {n} examples — pass one group per example"
        )
    if validation_split_used(groups, config=config) == "stratified":
        labels = np.asarray(labels)
        # Stratify only when every class can give one example to each part.
        _, counts = np.unique(labels, return_counts=True)
        n_val = int(np.ceil(config.validation_size * n))
        stratify = labels if counts.min() >= 2 and min(n_val, n - n_val) >= len(counts) else None
        train_idx, val_idx = train_test_split(
            indices,
            test_size=config.validation_size,
            stratify=stratify,
            random_state=config.validation_random_state,
        )
        return np.asarray(train_idx), np.asarray(val_idx)
    splitter = GroupShuffleSplit(
        n_splits=1, test_size=config.validation_size, random_state=config.validation_random_state
    )
    train_idx, val_idx = next(splitter.split(indices, groups=groups))
    return train_idx, val_idx


def validation_split_used(groups: Sequence | None, *, config: TrainingConfig) -> str:
    """The validation split :func:`validation_split` actually makes: ``"random"``, ``"speaker"``
    or ``"stratified"`` (the ``"speaker"`` split when ``groups`` holds a single group).

    Examples
    --------
    >>> from ser_utils.config import TrainingConfig
    >>> validation_split_used(["OAF"] * 6, config=TrainingConfig(validation_split="speaker"))
    'stratified'
    >>> validation_split_used(["OAF", "YAF"] * 3, config=TrainingConfig(validation_split="speaker"))
    'speaker'
    """
    if config.validation_split != "speaker" or groups is None:
        return config.validation_split
    return "speaker" if len(np.unique(np.asarray(groups))) >= 2 else "stratified"
