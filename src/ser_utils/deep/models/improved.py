"""The improved models: a convolutional-recurrent network (:func:`improved_crnn`) and the
temporal convolution network of the improved recipe (:func:`improved_tcn`), both on log-mel.

>>> improved_tcn((64, 601)).count_params() < 1_000_000
True
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

from ...config import check_choice
from ..backend import keras
from .building import (
    check_fits,
    check_n_classes,
    compile_model,
    image_shape,
    softmax_output,
)

__all__ = [
    "improved_crnn",
    "improved_tcn",
    "TEMPORAL_POOLINGS",
    "RECURRENT_CELLS",
    "INPUT_NORMALISATIONS",
]

TEMPORAL_POOLINGS: tuple[str, ...] = ("attention", "average_max")
RECURRENT_CELLS: tuple[str, ...] = ("gru", "lstm")
INPUT_NORMALISATIONS: tuple[str, ...] = ("utterance", "corpus")


def _attention_pooling(sequence, *, units: int, name: str):
    """Softmax-weighted mean over time, score_t = v · tanh(W h_t + b) (built-in layers only,
    so saved models load without custom objects)."""
    hidden = layers.Dense(units, activation="tanh", name=f"{name}_hidden")(sequence)
    scores = layers.Dense(1, use_bias=False, name=f"{name}_score")(hidden)  # (batch, time, 1)
    # float32 softmax: under mixed precision, exp over hundreds of frames overflows float16.
    weights = layers.Softmax(axis=1, dtype="float32", name=f"{name}_weights")(scores)
    pooled = layers.Dot(axes=1, name=f"{name}_sum")([weights, sequence])  # (batch, 1, features)
    return layers.Reshape((sequence.shape[-1],), name=name)(pooled)


def _default_crnn_pooling(n_blocks: int) -> list[tuple[int, int]]:
    """(4, 2) after the first block, (2, 2) after the middle ones, (2, 1) after the last."""
    if n_blocks == 1:
        return [(4, 2)]
    return [(4, 2)] + [(2, 2)] * (n_blocks - 2) + [(2, 1)]


def improved_crnn(
    input_shape: Sequence[int | None],
    n_classes: int = 4,
    *,
    filters: Sequence[int] = (32, 64, 96),
    kernel_size: int = 3,
    pool_sizes: Sequence[Sequence[int]] | None = None,
    recurrent_units: int = 64,
    recurrent: str = "gru",
    temporal_pooling: str = "attention",
    attention_units: int = 64,
    dropout: float = 0.3,
    learning_rate: float = 1e-3,
) -> keras.Model:
    """Convolutional-recurrent network on log-mel spectrograms, fixing the original model's flaws.

    Conv2D (same padding, no bias) -> MaxPooling -> BatchNormalization -> ReLU, per entry of
    ``filters``, pooling mostly along frequency; frequency and channels are then collapsed
    into one feature vector per frame, a bidirectional GRU (or LSTM) runs over **time**
    (``return_sequences``), and attention pooling (or global average + max pooling) turns
    the sequence into one vector -> Dropout -> Dense softmax. No Flatten -> Dense: the
    parameter count does not grow with the clip length, and any number of frames works.

    Parameters
    ----------
    input_shape : (n_mels, frames) or (n_mels, frames, channels)
        ``(64, 601, 1)`` for 6 s of 16 kHz audio at hop 160; ``frames`` may be None.
    n_classes : int, default 4
    filters : sequence of int, default (32, 64, 96)
        One conv block per entry.
    kernel_size : int, default 3
    pool_sizes : sequence of (freq, time) pairs, optional
        Max pooling in each block. Default: ``(4, 2)`` in the first, ``(2, 2)`` in the
        middle ones and ``(2, 1)`` (frequency only) in the last — for three blocks
        64 mel bins -> 4 and 601 frames -> 150 steps of 40 ms.
    recurrent_units : int, default 64
        Units per direction of the bidirectional recurrent layer.
    recurrent : {"gru", "lstm"}, default "gru"
    temporal_pooling : {"attention", "average_max"}, default "attention"
        How the recurrent outputs are pooled over time: learned attention weights, or the
        concatenation of their mean and maximum.
    attention_units : int, default 64
        Width of the attention scorer.
    dropout : float, default 0.3
        Dropout before the recurrent layer and before the softmax.
    learning_rate : float, default 1e-3

    Returns
    -------
    keras.Model
        Compiled. Class imbalance is handled in training (class weights), not here.

    Examples
    --------
    >>> model = improved_crnn((64, 601, 1))
    >>> model.count_params() < 33_148_420 / 10
    True
    """
    input_shape = image_shape(input_shape, "improved_crnn")
    n_classes = check_n_classes(n_classes)
    check_choice(recurrent, RECURRENT_CELLS, "recurrent cell")
    check_choice(temporal_pooling, TEMPORAL_POOLINGS, "temporal pooling")
    if not filters:
        raise ValueError(
            "improved_crnn: filters must name at least one conv block, got an empty sequence"
        )
    if pool_sizes is None:
        pool_sizes = _default_crnn_pooling(len(filters))
    pool_sizes = [tuple(int(size) for size in pair) for pair in pool_sizes]
    if len(pool_sizes) != len(filters):
        raise ValueError(
            f"improved_crnn: pool_sizes needs one (freq, time) pair per conv block: "
            f"{len(filters)} blocks, got {len(pool_sizes)} pairs"
        )

    inputs = keras.Input(shape=input_shape, name="log_mel")
    # Standardise each spectrogram over frequency and time: log-mel values sit near -50 dB,
    # far from where the BatchNorm statistics start, and loudness differs between speakers.
    x = layers.LayerNormalization(axis=(1, 2), center=False, scale=False, name="utterance_norm")(
        inputs
    )
    for block, (n_filters, pool_size) in enumerate(zip(filters, pool_sizes), start=1):
        x = layers.Conv2D(
            int(n_filters), kernel_size, padding="same", use_bias=False, name=f"conv{block}"
        )(x)
        check_fits(x, pool_size, input_shape, "improved_crnn", f"pool{block}")
        # Pool before normalising: BatchNorm and ReLU then touch 4-8x fewer values (CPU time).
        x = layers.MaxPooling2D(pool_size=pool_size, name=f"pool{block}")(x)
        x = layers.BatchNormalization(name=f"norm{block}")(x)
        x = layers.Activation("relu", name=f"relu{block}")(x)

    # (freq, time, channels) -> (time, freq * channels): one feature vector per frame.
    freq_bins, channels = x.shape[1], x.shape[3]
    x = layers.Permute((2, 1, 3), name="time_first")(x)
    x = layers.Reshape((-1, freq_bins * channels), name="frames")(x)
    x = layers.Dropout(dropout, name="frame_dropout")(x)
    cell = layers.GRU if recurrent == "gru" else layers.LSTM
    x = layers.Bidirectional(
        cell(int(recurrent_units), return_sequences=True), name=f"bi{recurrent}"
    )(x)
    if temporal_pooling == "attention":
        x = _attention_pooling(x, units=int(attention_units), name="attention_pooling")
    else:
        x = layers.Concatenate(name="average_max_pooling")(
            [
                layers.GlobalAveragePooling1D(name="mean_over_time")(x),
                layers.GlobalMaxPooling1D(name="max_over_time")(x),
            ]
        )
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = softmax_output(x, n_classes)
    return compile_model(keras.Model(inputs, outputs, name="improved_crnn"), learning_rate)


def improved_tcn(
    input_shape: Sequence[int | None],
    n_classes: int = 4,
    *,
    channels: int = 64,
    kernel_size: int = 3,
    dilations: Sequence[int] = (1, 2, 4, 8),
    time_pool: int = 2,
    input_normalisation: str = "utterance",
    level_units: int = 16,
    level_spread: bool = False,
    dropout: float = 0.3,
    batch_norm_momentum: float = 0.9,
    learning_rate: float = 1e-3,
    packed_columns: int = 0,
    functional_units: int = 32,
) -> keras.Model:
    """Temporal convolution network over log-mel frames: fast on a CPU, and it keeps level.

    Each frame's mel vector is projected to ``channels`` (a 1 × 1 convolution), the frame
    rate is divided by ``time_pool``, and residual blocks of dilated 1-D convolutions
    (Conv1D -> BatchNormalization -> ReLU, one block per entry of ``dilations``) see a
    growing context — with dilations 1, 2, 4, 8 and kernel 3, 31 pooled frames (0.6 s at
    the improved recipe's 10 ms hop and ``time_pool`` 2). The sequence is pooled over time by
    its mean and maximum -> Dropout -> Dense softmax. Every operation is a convolution or an
    element-wise one, so an epoch costs a fraction of a recurrent layer's over hundreds of
    steps, and the parameter count does not depend on the clip length.

    Level: standardising each utterance (``input_normalisation="utterance"``) removes its
    loudness, one of the cues that separate angry from happy. With ``level_units`` > 0 the
    utterance's mean log-mel spectrum (level and spectral tilt, in dB) is standardised with
    **corpus** statistics (a BatchNormalization: its moving averages over the training
    set), passed through a small Dense layer and joined to the pooled sequence.

    Parameters
    ----------
    input_shape : (n_mels, frames) or (n_mels, frames, 1)
        The improved recipe's log-mel arrays, e.g. ``(64, 601)``; ``frames`` may be None.
    n_classes : int, default 4
    channels : int, default 64
        Width of every convolution.
    kernel_size : int, default 3
    dilations : sequence of int, default (1, 2, 4, 8)
        One residual block per entry.
    time_pool : int, default 2
        Average-pool the projected frames by this factor before the blocks (1: none).
    input_normalisation : {"utterance", "corpus"}, default "utterance"
        ``"utterance"``: each spectrogram standardised over frequency and time (level
        removed); ``"corpus"``: each mel bin standardised with training-set statistics
        (a BatchNormalization; level kept).
    level_units : int, default 16
        Width of the level branch; 0 leaves it out.
    level_spread : bool, default False
        Also give the level branch each mel bin's variance over time (how much the level
        moves within the utterance).
    dropout : float, default 0.3
        Dropout before the softmax.
    batch_norm_momentum : float, default 0.9
        Of every BatchNormalization. Keras' 0.99 needs hundreds of steps before the
        moving statistics used at prediction time leave their start (mean 0, variance 1),
        far from dB values near -50: a training part of a few hundred utterances gives a
        few steps per epoch.
    learning_rate : float, default 1e-3
    packed_columns : int, default 0
        A second input, packed into the last ``packed_columns`` frames of each example
        (:class:`ser_utils.deep.views.PackedFeatures`): utterance features (e.g. the functionals
        of the SVM), column after column. They are standardised with training-set
        statistics (a BatchNormalization), passed through a Dense layer of
        ``functional_units`` and joined to the pooled sequence; the convolutions see only
        the log-mel frames before them. 0: none.
    functional_units : int, default 32
        Width of the features branch.

    Returns
    -------
    keras.Model
        Compiled (Adam, categorical cross-entropy, accuracy).

    Examples
    --------
    >>> improved_tcn((64, 601)).count_params() < 1_000_000
    True
    """
    input_shape = image_shape(input_shape, "improved_tcn")
    if input_shape[2] != 1:
        raise ValueError(
            f"improved_tcn: expected one channel (n_mels, frames, 1), got {input_shape}"
        )
    n_classes = check_n_classes(n_classes)
    check_choice(input_normalisation, INPUT_NORMALISATIONS, "input normalisation")
    if not dilations:
        raise ValueError(
            "improved_tcn: dilations must name at least one block, got an empty sequence"
        )
    if int(time_pool) < 1:
        raise ValueError(f"improved_tcn: time_pool must be at least 1, got {time_pool}")
    n_mels = input_shape[0]

    inputs = keras.Input(shape=input_shape, name="log_mel")
    frames = layers.Reshape((n_mels, -1), name="drop_channel")(inputs)
    frames = layers.Permute((2, 1), name="time_first")(frames)  # (frames, n_mels)
    packed = None
    if int(packed_columns) > 0:
        if input_shape[1] is None or input_shape[1] <= int(packed_columns):
            raise ValueError(
                f"improved_tcn: {packed_columns} packed columns need a known number of frames beyond "
                f"them, got input shape {input_shape}"
            )
        packed = layers.Cropping1D(
            (input_shape[1] - int(packed_columns), 0), name="packed_columns"
        )(frames)
        frames = layers.Cropping1D((0, int(packed_columns)), name="log_mel_frames")(frames)
    if input_normalisation == "utterance":
        x = layers.LayerNormalization(
            axis=(1, 2), center=False, scale=False, name="utterance_norm"
        )(frames)
    else:
        x = layers.BatchNormalization(momentum=batch_norm_momentum, name="corpus_norm")(frames)
    x = layers.Conv1D(int(channels), 1, use_bias=False, name="projection")(x)
    if int(time_pool) > 1:
        x = layers.AveragePooling1D(int(time_pool), name="time_pool")(x)
    x = layers.BatchNormalization(momentum=batch_norm_momentum, name="projection_norm")(x)
    x = layers.Activation("relu", name="projection_relu")(x)
    for block, rate in enumerate(dilations, start=1):
        y = layers.Conv1D(
            int(channels),
            kernel_size,
            dilation_rate=int(rate),
            padding="same",
            use_bias=False,
            name=f"conv{block}",
        )(x)
        y = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"norm{block}")(y)
        y = layers.Activation("relu", name=f"relu{block}")(y)
        x = layers.Add(name=f"residual{block}")([x, y])
    x = layers.Concatenate(name="average_max_pooling")(
        [
            layers.GlobalAveragePooling1D(name="mean_over_time")(x),
            layers.GlobalMaxPooling1D(name="max_over_time")(x),
        ]
    )
    if int(level_units) > 0:
        level = layers.GlobalAveragePooling1D(name="mean_spectrum")(frames)  # dB per mel bin
        if level_spread:  # variance = mean of squares - square of mean, built-in layers only
            squares = layers.GlobalAveragePooling1D(name="mean_square_spectrum")(
                layers.Multiply(name="squares")([frames, frames])
            )
            variance = layers.Subtract(name="variance_spectrum")(
                [squares, layers.Multiply(name="squared_mean")([level, level])]
            )
            level = layers.Concatenate(name="mean_variance_spectrum")([level, variance])
        level = layers.BatchNormalization(momentum=batch_norm_momentum, name="level_corpus_norm")(
            level
        )
        level = layers.Dense(int(level_units), activation="relu", name="level")(level)
        x = layers.Concatenate(name="with_level")([x, level])
    if packed is not None:
        features = layers.Flatten(name="packed_features")(packed)
        features = layers.BatchNormalization(
            momentum=batch_norm_momentum, name="features_corpus_norm"
        )(features)
        features = layers.Dense(int(functional_units), activation="relu", name="features")(features)
        x = layers.Concatenate(name="with_features")([x, features])
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = softmax_output(x, n_classes)
    return compile_model(keras.Model(inputs, outputs, name="improved_tcn"), learning_rate)
