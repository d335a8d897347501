"""A small head over a frozen pretrained encoder (the ``whisper-head`` recipe).

The input is the encoder's frame sequence pooled per utterance — the mean and standard
deviation of each dimension (:func:`ser_utils.features.encoders.pool_frames`, cached as the
``whisper`` feature set). Mean + std pooling has no weights, so pooling inside the network
would give these numbers again at every epoch; the head starts from them. Attentive pooling,
which does learn weights over the frames, scored lower on every corpus it was measured on
(benchmarks/encoders.py --heads).

>>> encoder_head((768,)).count_params()
102020
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

from ..backend import keras
from .building import check_n_classes, compile_model, softmax_output

__all__ = ["encoder_head"]


def encoder_head(
    input_shape: Sequence[int],
    n_classes: int = 4,
    *,
    units: int = 128,
    dropout: float = 0.3,
    batch_norm_momentum: float = 0.9,
    learning_rate: float = 1e-3,
) -> keras.Model:
    """Pooled embedding -> corpus normalisation -> dropout -> dense (ReLU) -> dropout -> softmax.

    Parameters
    ----------
    input_shape : (width,)
        The pooled embedding's length (768 for Whisper tiny: mean and sd of 384 dimensions).
    n_classes : int
    units : int
        Width of the dense layer.
    dropout : float
        Before and after the dense layer.
    batch_norm_momentum : float
        Of the input's normalisation (training-set statistics, kept for prediction).
    learning_rate : float
        Adam's.
    """
    shape = tuple(int(size) for size in input_shape)
    if len(shape) != 1:
        raise ValueError(
            f"encoder_head: input_shape must be (width,) — a pooled embedding — got {tuple(input_shape)}"
        )
    n_classes = check_n_classes(n_classes)
    inputs = keras.Input(shape, name="pooled_embedding")
    x = layers.BatchNormalization(momentum=batch_norm_momentum, name="corpus_norm")(inputs)
    x = layers.Dropout(dropout, name="input_dropout")(x)
    x = layers.Dense(int(units), activation="relu", name="dense")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = softmax_output(x, n_classes)
    return compile_model(keras.Model(inputs, outputs, name="encoder_head"), learning_rate)
