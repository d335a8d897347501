"""Batches of arrays for Keras, read by index so a memory-mapped ``.npy`` is never loaded whole,
with SpecAugment and mixup on training batches.
"""

from __future__ import annotations

import numpy as np

from .backend import keras

__all__ = ["ArrayBatches"]


class ArrayBatches(keras.utils.PyDataset):
    """Batches sliced from an array (or a ``np.load(..., mmap_mode="r")`` memmap) by index.

    Only one batch is in memory at a time: rows are read in sorted order (sequential reads
    on a memmap), cast to float32 and given a trailing channel axis when asked.

    Parameters
    ----------
    x : array, shape (n, ...)
    codes : array of int, shape (n,), optional
        Class codes; batches are ``(x, one_hot)`` (or ``(x,)`` without codes).
    n_classes : int
        Width of the one-hot targets.
    indices : array of int, optional
        Rows of ``x`` to use (default all).
    batch_size : int, default 32
    shuffle : bool, default False
        Reshuffle ``indices`` every epoch, from a generator seeded with ``seed``.
    seed : int, default 0
    class_weight : dict, optional
        code -> weight; batches then carry per-example weights as a third element.
    add_channel_axis : bool, default False
    spec_augment_masks : int, default 0
        SpecAugment (Park et al. 2019): per example, this many masks along axis 1
        (frequency) and as many along axis 2 (time), each a random band of at most
        ``spec_augment_width`` of the axis, set to the example's mean. 0: off.
    spec_augment_width : float, default 0.1
    mixup_alpha : float, default 0.0
        mixup (Zhang et al. 2018): each example is mixed with another of the batch,
        ``w x_i + (1 - w) x_j`` and the same for the one-hot targets and the weights,
        ``w = max(b, 1 - b)`` with ``b ~ Beta(alpha, alpha)`` (the example itself dominates).
        0: off.

    Augmentation draws from a generator seeded with ``(seed, epoch, batch)``, so a run is
    reproducible; use it on training batches only.
    """

    def __init__(
        self,
        x,
        codes: np.ndarray | None = None,
        *,
        n_classes: int | None = None,
        indices: np.ndarray | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int = 0,
        class_weight: dict[int, float] | None = None,
        add_channel_axis: bool = False,
        spec_augment_masks: int = 0,
        spec_augment_width: float = 0.1,
        mixup_alpha: float = 0.0,
    ):
        super().__init__(workers=1, use_multiprocessing=False)
        self.x = x
        self.codes = None if codes is None else np.asarray(codes)
        if self.codes is not None and n_classes is None:
            raise ValueError("ArrayBatches: n_classes is required with codes")
        self.n_classes = n_classes
        self.indices = np.arange(len(x)) if indices is None else np.asarray(indices, dtype=np.int64)
        if self.indices.size == 0:
            raise ValueError("ArrayBatches: no examples to batch (empty indices)")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.class_weight = class_weight
        self.add_channel_axis = add_channel_axis
        if spec_augment_masks < 0 or not 0 < spec_augment_width <= 1 or mixup_alpha < 0:
            raise ValueError(
                f"ArrayBatches: spec_augment_masks must be >= 0 (got {spec_augment_masks}), "
                f"spec_augment_width in (0, 1] (got {spec_augment_width}) and mixup_alpha >= 0 "
                f"(got {mixup_alpha})"
            )
        self.spec_augment_masks = int(spec_augment_masks)
        self.spec_augment_width = float(spec_augment_width)
        self.mixup_alpha = float(mixup_alpha)
        self.epoch = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        if not self.shuffle:
            return self.indices
        return np.random.default_rng([self.seed, self.epoch]).permutation(self.indices)

    def __len__(self) -> int:
        return -(-len(self.indices) // self.batch_size)

    def __getitem__(self, batch: int):
        rows = np.sort(self._order[batch * self.batch_size : (batch + 1) * self.batch_size])
        inputs = np.asarray(self.x[rows], dtype=np.float32)
        rng = np.random.default_rng([self.seed, self.epoch, batch])
        if self.spec_augment_masks:
            inputs = inputs.copy()  # never write into the caller's array
            _spec_augment(inputs, rng, masks=self.spec_augment_masks, width=self.spec_augment_width)
        if self.add_channel_axis:
            inputs = inputs[..., np.newaxis]
        if self.codes is None:
            return (inputs,)
        codes = self.codes[rows]
        targets = np.eye(self.n_classes, dtype=np.float32)[codes]
        weights = (
            None
            if self.class_weight is None
            else np.array([self.class_weight[int(code)] for code in codes], dtype=np.float32)
        )
        if self.mixup_alpha and len(rows) > 1:
            partner = rng.permutation(len(rows))
            mix = rng.beta(self.mixup_alpha, self.mixup_alpha, size=len(rows)).astype(np.float32)
            mix = np.maximum(mix, 1 - mix)
            inputs = _mix(inputs, partner, mix)
            targets = _mix(targets, partner, mix)
            weights = None if weights is None else _mix(weights, partner, mix)
        return (inputs, targets) if weights is None else (inputs, targets, weights)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._epoch_order()


def _spec_augment(batch: np.ndarray, rng: np.random.Generator, *, masks: int, width: float) -> None:
    """Mask ``masks`` random bands along axis 1 and along axis 2 of every example, in place,
    with the example's mean (a log spectrogram's zero is a loud value, not silence)."""
    for example in batch:
        fill = example.mean()
        for axis in (0, 1):
            size = example.shape[axis]
            for _ in range(masks):
                band = int(rng.integers(0, max(1, int(width * size)) + 1))
                start = int(rng.integers(0, size - band + 1))
                index = [slice(None)] * example.ndim
                index[axis] = slice(start, start + band)
                example[tuple(index)] = fill


def _mix(values: np.ndarray, partner: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """``mix * values + (1 - mix) * values[partner]``, ``mix`` broadcast over the example axes."""
    weight = mix.reshape((-1,) + (1,) * (values.ndim - 1))
    return (weight * values + (1 - weight) * values[partner]).astype(np.float32)
