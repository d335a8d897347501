"""Validation splits of a training part (ser_utils.deep.validation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from ser_utils import config
from ser_utils.deep import validation

LABELS = config.FOUR_CLASSES


# ------------------------------------------------------------------ validation split
def test_a_single_training_speaker_falls_back_to_a_stratified_split():
    labels = np.repeat(LABELS, 10)
    speaker = config.TrainingConfig(validation_split="speaker")
    # TESS leave-one-speaker-out: one speaker left to train on (this raised ValueError before).
    train, val = validation.validation_split(labels, groups=["OAF"] * 40, config=speaker)
    assert validation.validation_split_used(["OAF"] * 40, config=speaker) == "stratified"
    assert len(val) == 8 and sorted(np.concatenate([train, val]).tolist()) == list(range(40))
    assert pd.Series(labels[val]).value_counts().to_dict() == {
        label: 2 for label in LABELS
    }  # stratified
    # two speakers: the grouped split, as before
    groups = np.tile(["OAF", "YAF"], 20)
    train, val = validation.validation_split(labels, groups=groups, config=speaker)
    assert validation.validation_split_used(groups, config=speaker) == "speaker"
    assert not set(groups[train]) & set(groups[val])


# ---------------------------------------------------------------------------- splits
def test_random_validation_split_is_the_originals():
    labels = np.asarray(LABELS)[np.arange(50) % 4]
    train_idx, val_idx = validation.validation_split(labels, config=config.TrainingConfig())
    expected_train, expected_val = train_test_split(np.arange(50), test_size=0.2, random_state=727)
    np.testing.assert_array_equal(train_idx, expected_train)
    np.testing.assert_array_equal(val_idx, expected_val)


def test_speaker_validation_split_shares_no_speaker(data):
    _, y, speakers = data
    split = config.TrainingConfig(validation_split="speaker")
    train_idx, val_idx = validation.validation_split(y, groups=speakers, config=split)
    assert set(speakers[train_idx]).isdisjoint(speakers[val_idx])
    assert sorted(np.concatenate([train_idx, val_idx])) == list(range(len(y)))
    again = validation.validation_split(y, groups=speakers, config=split)
    np.testing.assert_array_equal(again[1], val_idx)  # seeded from the config


def test_speaker_validation_split_needs_groups(data):
    _, y, _ = data
    with pytest.raises(ValueError, match="needs groups"):
        validation.validation_split(y, config=config.TrainingConfig(validation_split="speaker"))
