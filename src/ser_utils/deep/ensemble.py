"""An ensemble of networks over speaker-grouped inner folds of one training part.

Instead of a single validation part of one or two speakers, the training part is cut into
``n_members`` speaker-grouped inner folds (:func:`inner_splits`); member ``k`` is trained on
every inner fold but ``k`` and validated on fold ``k`` (its learning curves; early stopping
when the recipe asks for it). The members' probabilities are averaged on new utterances,
and each member's probabilities on its own held-out inner fold make **out-of-fold**
predictions for the whole training part: what the fusion recipe
(:mod:`ser_utils.experiments.fusion`) fits its combiner on, without ever looking at the test
fold. :func:`pool_members` pools the members' probabilities on new utterances.

Examples
--------
Training the members takes a while (the tests do it on small arrays); the inner folds hold
out whole speakers, or fall back to stratified folds when a single
training speaker is left:

>>> import numpy as np
>>> y = np.tile(["angry", "happy", "neutral", "sad"], 6)
>>> speakers = np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4)
>>> [sorted(map(str, set(speakers[held_out]))) for _, held_out in inner_splits(y, speakers, n_folds=3, seed=0)]
[['F03', 'M03'], ['F02', 'M02'], ['F01', 'M01']]
>>> len(inner_splits(y, np.repeat("F01", 24), n_folds=3, seed=0))
3
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import GroupKFold, StratifiedKFold

from ..config import ModelConfig, TrainingConfig, check_choice
from .views import RowView

__all__ = [
    "MEMBER_SEED_STRIDE",
    "POOLINGS",
    "inner_splits",
    "pool_members",
    "log_probabilities",
    "EnsembleResult",
    "train_inner_ensemble",
    "train_seed_ensemble",
]

#: Member ``k`` of a run seeded ``s`` is seeded ``s + k * MEMBER_SEED_STRIDE``: far from the
#: seeds of the other folds (``seed + fold``), so no two trainings share a seed.
MEMBER_SEED_STRIDE = 1000
#: How the members' probabilities are pooled (:func:`pool_members`).
POOLINGS: tuple[str, ...] = ("geometric", "arithmetic")
#: Probabilities are floored here before their logarithm is taken.
PROBABILITY_FLOOR = 1e-6


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """The logarithm of probabilities floored at :data:`PROBABILITY_FLOOR`, as float64."""
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), PROBABILITY_FLOOR, 1.0))


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
    pooled = np.exp(log_probabilities(members).mean(axis=0))
    return pooled / pooled.sum(axis=1, keepdims=True)


def inner_splits(
    y: Sequence, groups: Sequence | None, *, n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inner folds of a training part: ``(train_idx, held_out_idx)`` pairs covering every
    example exactly once as held out.

    With two groups or more, speaker-grouped (:class:`~sklearn.model_selection.GroupKFold`,
    ``min(n_folds, n_groups)`` folds: no speaker on both sides). With a single group (TESS
    leave-one-speaker-out leaves one training speaker) or none, stratified by label
    (:class:`~sklearn.model_selection.StratifiedKFold`, shuffled with ``seed``), as
    :func:`ser_utils.deep.training.validation_split` falls back.

    Examples
    --------
    >>> y, speakers = ["a", "b"] * 6, np.array(list("xxyyzz" * 2))
    >>> sorted("".join(sorted(set(speakers[held]))) for _, held in inner_splits(y, speakers, n_folds=3, seed=0))
    ['x', 'y', 'z']
    >>> len(inner_splits(y, ["one"] * 12, n_folds=3, seed=0))
    3
    """
    y = np.asarray(y)
    n_folds = int(n_folds)
    if n_folds < 2:
        raise ValueError(f"an inner ensemble needs at least 2 inner folds, got {n_folds}")
    indices = np.arange(len(y))
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(y):
            raise ValueError(f"groups has {len(groups)} entries for {len(y)} examples")
        n_groups = len(np.unique(groups))
        if n_groups >= 2:
            splitter = GroupKFold(n_splits=min(n_folds, n_groups))
            return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(indices, y, groups)]
    _, counts = np.unique(y, return_counts=True)
    k = max(2, min(n_folds, int(counts.min())))
    if counts.min() < 2:
        raise ValueError("a stratified inner split needs at least 2 examples of every class")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seed))
    return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(indices, y)]


@dataclass
class EnsembleResult:
    """What :func:`train_inner_ensemble` returns.

    Attributes
    ----------
    out_of_fold : np.ndarray or None, shape (n_train, n_classes)
        Each training example's probabilities from the member that did not train on it
        (None for :func:`train_seed_ensemble`).
    test : np.ndarray or None, shape (n_test, n_classes)
        Mean of the members' probabilities on ``x_test``.
    members_test : list of np.ndarray
        Each member's probabilities on ``x_test``.
    splits : list of (train_idx, held_out_idx)
    histories : list of dict
        Each member's learning curves (validation = its held-out inner fold).
    models : list of keras.Model
        The members, when ``keep_models``.
    """

    out_of_fold: np.ndarray | None
    test: np.ndarray | None
    members_test: list[np.ndarray]
    splits: list[tuple[np.ndarray, np.ndarray]]
    histories: list[dict]
    models: list = field(default_factory=list)


def train_inner_ensemble(
    model: ModelConfig,
    x,
    y: Sequence,
    *,
    labels: Sequence[str],
    config: TrainingConfig,
    groups: Sequence | None,
    n_members: int,
    x_test=None,
    keep_models: bool = False,
    progress: bool | str = False,
) -> EnsembleResult:
    """Train one member per inner fold (:func:`inner_splits` of ``n_members``, seeded with
    ``config.seed``); member ``k`` is seeded ``config.seed + k * MEMBER_SEED_STRIDE``.

    Parameters
    ----------
    model : ModelConfig
    x : array-like, shape (n, ...)
        The training part (a memmap or :class:`ser_utils.deep.views.RowView` is read batch by batch).
    y : sequence of str, length n
    labels : sequence of str
    config : TrainingConfig
        Every member's training; its validation split is replaced by the member's held-out
        inner fold.
    groups : sequence, optional
        Speaker of each training example.
    n_members : int
        Inner folds (fewer when there are fewer speakers).
    x_test : array-like, optional
        Utterances to predict with every member.
    keep_models : bool, default False
        Keep the trained members (for a saved ensemble); otherwise each is released after
        predicting.
    progress : bool or str
        As :func:`ser_utils.deep.training.fit_model`; the member number is appended.

    Returns
    -------
    EnsembleResult
    """

    # TensorFlow: loaded when the first member trains
    from .training import predict_proba, release_models, train_model

    y = np.asarray(y).astype(str)
    labels = list(labels)
    splits = inner_splits(y, groups, n_folds=n_members, seed=config.seed)
    out_of_fold = np.full((len(y), len(labels)), np.nan, dtype=np.float32)
    members_test, histories, models = [], [], []
    for member, (train, held_out) in enumerate(splits):
        training = dataclasses.replace(config, seed=config.seed + member * MEMBER_SEED_STRIDE)
        label = f"{progress} member {member + 1}" if isinstance(progress, str) else progress
        trained, history = train_model(
            model,
            RowView(x, train),
            y[train],
            labels=labels,
            config=training,
            x_val=RowView(x, held_out),
            y_val=y[held_out],
            progress=label,
        )
        out_of_fold[held_out] = predict_proba(
            trained, RowView(x, held_out), batch_size=config.batch_size
        )
        if x_test is not None:
            members_test.append(predict_proba(trained, x_test, batch_size=config.batch_size))
        histories.append(history)
        if keep_models:
            models.append(trained)
        del trained
        if not keep_models:
            release_models()
    test = np.mean(members_test, axis=0) if members_test else None
    return EnsembleResult(out_of_fold, test, members_test, splits, histories, models)


def train_seed_ensemble(
    model: ModelConfig,
    x,
    y: Sequence,
    *,
    labels: Sequence[str],
    config: TrainingConfig,
    groups: Sequence | None,
    n_members: int,
    x_test=None,
    progress: bool | str = False,
) -> EnsembleResult:
    """``n_members`` networks trained on the whole training part (each with ``config``'s own
    validation split), seeded ``config.seed + k * MEMBER_SEED_STRIDE``: an ensemble of
    seeds, without out-of-fold predictions (``out_of_fold`` None, ``splits`` empty)."""

    # TensorFlow: loaded when the first member trains
    from .training import predict_proba, release_models, train_model

    y = np.asarray(y).astype(str)
    members_test, histories = [], []
    for member in range(int(n_members)):
        training = dataclasses.replace(config, seed=config.seed + member * MEMBER_SEED_STRIDE)
        label = f"{progress} member {member + 1}" if isinstance(progress, str) else progress
        trained, history = train_model(
            model, x, y, labels=list(labels), config=training, groups=groups, progress=label
        )
        if x_test is not None:
            members_test.append(predict_proba(trained, x_test, batch_size=config.batch_size))
        histories.append(history)
        del trained
        release_models()
    test = np.mean(members_test, axis=0) if members_test else None
    return EnsembleResult(None, test, members_test, [], histories)
