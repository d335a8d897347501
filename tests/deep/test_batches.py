"""Batches, SpecAugment and mixup (ser_utils.deep.batches)."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config

pytest.importorskip("keras")

from ser_utils.deep import (
    training,  # noqa: E402
)

LABELS = config.FOUR_CLASSES


# ------------------------------------------------------------------ augmentation
def test_spec_augment_masks_bands_with_the_example_mean_and_leaves_the_source_alone():
    x = np.arange(2 * 20 * 30, dtype=np.float32).reshape(2, 20, 30)
    source = x.copy()
    batches = training.ArrayBatches(
        x, np.array([0, 1]), n_classes=4, seed=3, spec_augment_masks=2, spec_augment_width=0.2
    )
    inputs, _ = batches[0]
    np.testing.assert_array_equal(x, source)
    changed = inputs != source
    assert changed.any()
    for example, mask in zip(range(2), changed):
        np.testing.assert_allclose(inputs[example][mask], source[example].mean())
        # masks are whole bands: every changed value lies in a changed row (frequency) or column (time)
        rows, columns = mask.all(axis=1), mask.all(axis=0)
        assert (mask == (rows[:, None] | columns[None, :])).all()
        assert rows.sum() <= 2 * 4 and columns.sum() <= 2 * 6  # at most 2 bands of 20 % per axis
    again, _ = training.ArrayBatches(
        x, np.array([0, 1]), n_classes=4, seed=3, spec_augment_masks=2, spec_augment_width=0.2
    )[0]
    np.testing.assert_array_equal(inputs, again)  # seeded


def test_mixup_mixes_inputs_targets_and_weights_alike():
    x = np.stack([np.full((3, 4), value, np.float32) for value in (0.0, 10.0, 20.0, 30.0)])
    codes = np.array([0, 1, 2, 3])
    weights = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}
    inputs, targets, sample_weights = training.ArrayBatches(
        x, codes, n_classes=4, class_weight=weights, mixup_alpha=0.4, seed=2
    )[0]
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    own = targets[np.arange(4), codes]
    assert (own >= 0.5).all() and (own < 1).any()  # each example dominates its mix
    for example in range(4):
        # x is constant per example, so the mixed value is the targets' weighted mean of the values
        np.testing.assert_allclose(
            inputs[example], targets[example] @ np.array([0.0, 10.0, 20.0, 30.0]), rtol=1e-5
        )
        np.testing.assert_allclose(
            sample_weights[example], targets[example] @ np.array([1.0, 2.0, 3.0, 4.0]), rtol=1e-5
        )


def test_batches_carry_one_hot_targets_and_class_weights(tmp_path, data):
    x, y, _ = data
    stored = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=x.shape
    )
    stored[:] = x
    stored.flush()
    memmap = np.load(tmp_path / "x.npy", mmap_mode="r")
    codes = training.encode_labels(y, LABELS)
    batches = training.ArrayBatches(
        memmap,
        codes,
        n_classes=4,
        indices=np.array([5, 1, 2]),
        batch_size=2,
        class_weight={0: 0.5, 1: 2.0, 2: 1.0, 3: 1.0},
        add_channel_axis=True,
    )
    inputs, targets, weights = batches[0]
    assert len(batches) == 2
    assert inputs.shape == (2, 16, 24, 1) and inputs.dtype == np.float32
    np.testing.assert_array_equal(inputs[..., 0], x[[1, 5]])  # rows read in sorted order
    np.testing.assert_array_equal(targets, np.eye(4, dtype=np.float32)[[1, 1]])
    np.testing.assert_array_equal(weights, [2.0, 2.0])
