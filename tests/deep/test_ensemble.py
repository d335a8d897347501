"""Ensembles over inner folds (ser_utils.deep.ensemble): splits and pooling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ser_utils import config
from ser_utils.deep import ensemble

LABELS = config.FOUR_CLASSES


# ------------------------------------------------------- inner-fold ensemble and stacking
def test_inner_splits_hold_out_each_speaker_once_or_fall_back_to_stratified_folds():
    y = np.tile(LABELS, 6)
    speakers = np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4)
    splits = ensemble.inner_splits(y, speakers, n_folds=3, seed=0)
    assert len(splits) == 3
    held = np.concatenate([held_out for _, held_out in splits])
    assert sorted(held.tolist()) == list(range(24))  # every example held out exactly once
    for train, held_out in splits:
        assert not set(speakers[train]) & set(speakers[held_out])
        assert len(set(speakers[held_out])) == 2
    # more folds than speakers: one speaker per fold
    assert len(ensemble.inner_splits(y[:8], speakers[:8], n_folds=5, seed=0)) == 2
    # a single training speaker (TESS leave-one-speaker-out): stratified folds, seeded
    single = ensemble.inner_splits(y, ["OAF"] * 24, n_folds=3, seed=4)
    for _, held_out in single:
        assert pd.Series(y[held_out]).value_counts().to_dict() == {label: 2 for label in LABELS}
    again = ensemble.inner_splits(y, ["OAF"] * 24, n_folds=3, seed=4)
    assert all((a[1] == b[1]).all() for a, b in zip(single, again))


def test_members_pool_by_their_mean_or_their_normalised_geometric_mean():
    members = [np.array([[0.98, 0.02], [0.5, 0.5]]), np.array([[0.4, 0.6], [0.2, 0.8]])]
    np.testing.assert_allclose(
        ensemble.pool_members(members, "arithmetic"), [[0.69, 0.31], [0.35, 0.65]]
    )
    geometric = ensemble.pool_members(members, "geometric")
    expected = np.sqrt(np.array(members[0]) * np.array(members[1]))
    np.testing.assert_allclose(geometric, expected / expected.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(geometric.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="pooling"):
        ensemble.pool_members(members, "median")
