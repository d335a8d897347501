"""The original study's models: its final CNN-ConvLSTM, layer for layer, and the builders of its
side experiments (CNN-only on spectrograms, LSTM-only on frame features).

>>> original_cnn_convlstm((442, 382, 1)).count_params()
33148420
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

from ..backend import keras
from .building import (
    check_fits,
    check_n_classes,
    compile_model,
    image_shape,
    l1_regulariser,
    pooling_layer,
    softmax_output,
)

__all__ = [
    "keras2_hard_sigmoid",
    "original_cnn_convlstm",
    "cnn_spectrogram_model",
    "lstm_frame_model",
]


@keras.saving.register_keras_serializable(package="ser_utils")
def keras2_hard_sigmoid(x):
    """Keras 2's ``hard_sigmoid``: ``clip(0.2 * x + 0.5, 0, 1)``.

    The original ran Keras 2, where ``ConvLSTM2D``'s ``recurrent_activation`` defaulted to
    this gate; Keras 3 defaults to ``sigmoid`` and its own ``hard_sigmoid`` has slope 1/6
    (``relu6(x + 3) / 6``). Registered, so saved models load it back.

    Examples
    --------
    >>> [float(v) for v in keras2_hard_sigmoid(keras.ops.convert_to_tensor([-3.0, 0.0, 1.0, 3.0]))]
    [0.0, 0.5, 0.699999988079071, 1.0]
    """
    return keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)


def _original_conv_blocks(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int],
    kernel_size: int,
    pooling: str,
    pool_size: int,
    l1: float | None,
    builder: str,
):
    """The spectrogram input and the original's blocks: Conv2D (valid, ReLU, L1 kernel) ->
    pooling, once per filter count. Returns the input, the last feature map, the class count."""
    input_shape = image_shape(input_shape, builder)
    n_classes = check_n_classes(n_classes)
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = inputs
    for block, n_filters in enumerate(filters, start=1):
        check_fits(x, kernel_size, tuple(inputs.shape[1:]), builder, f"conv{block}")
        x = layers.Conv2D(
            int(n_filters),
            kernel_size,
            activation="relu",
            kernel_regularizer=l1_regulariser(l1),
            name=f"conv{block}",
        )(x)
        check_fits(x, pool_size, tuple(inputs.shape[1:]), builder, f"pool{block}")
        x = pooling_layer(pooling, pool_size, name=f"pool{block}")(x)
    return inputs, x, n_classes


def _dense_softmax_head(
    inputs,
    x,
    *,
    dense_units: int,
    dropout: float,
    l1: float | None,
    n_classes: int,
    learning_rate: float,
    name: str,
) -> keras.Model:
    """Dense (ReLU, L1) -> Dropout -> Dense softmax on ``x``, compiled as the model ``name``."""
    x = layers.Dense(
        int(dense_units), activation="relu", kernel_regularizer=l1_regulariser(l1), name="dense"
    )(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = softmax_output(x, n_classes)
    return compile_model(keras.Model(inputs, outputs, name=name), learning_rate)


def original_cnn_convlstm(
    input_shape: Sequence[int],
    n_classes: int = 4,
    *,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    pooling: str = "average",
    pool_size: int = 3,
    convlstm_filters: int = 128,
    convlstm_kernel: int = 3,
    dense_units: int = 128,
    dropout: float = 0.5,
    l1: float | None = 1e-3,
    learning_rate: float = 5e-4,
) -> keras.Model:
    """The original study's final CNN-ConvLSTM, layer for layer.

    Conv2D (ReLU, L1 kernel regulariser) -> pooling, per entry of ``filters``; a Reshape to
    a sequence of **length 1** of the last feature map; ConvLSTM2D (tanh, Keras 2's
    :func:`keras2_hard_sigmoid` gates, padding same, return_sequences); Flatten;
    Dense (ReLU, L1); Dropout; Dense softmax. Compiled with Adam, categorical
    cross-entropy and accuracy.

    The ConvLSTM therefore sees a single time step — no recurrence over time — and the
    Dense after Flatten holds 97 % of the parameters (both are known flaws, kept here on
    purpose; :func:`~ser_utils.deep.models.improved.improved_crnn` fixes them).

    Parameters
    ----------
    input_shape : (freq, time) or (freq, time, channels)
        ``(442, 382, 1)`` for the original spectrogram; a missing channel axis is added.
    n_classes : int, default 4
    filters : sequence of int, default (32, 64)
        One conv/pool block per entry (the original explored 16–64).
    kernel_size : int, default 3
    pooling : {"average", "max"}, default "average"
    pool_size : int, default 3
        Pooling window and stride (the original explored 2–5).
    convlstm_filters, convlstm_kernel : int, default 128, 3
    dense_units : int, default 128
    dropout : float, default 0.5
    l1 : float or None, default 1e-3
        L1 kernel regularisation of the convolutions and the hidden Dense; None or 0 for none.
    learning_rate : float, default 5e-4
        Adam's learning rate.

    Returns
    -------
    keras.Model
        Compiled; output ``(batch, n_classes)`` float32 probabilities.

    Examples
    --------
    >>> original_cnn_convlstm((442, 382, 1)).count_params()
    33148420
    """
    inputs, x, n_classes = _original_conv_blocks(
        input_shape,
        n_classes,
        filters=filters,
        kernel_size=kernel_size,
        pooling=pooling,
        pool_size=pool_size,
        l1=l1,
        builder="original_cnn_convlstm",
    )
    # The original fed the feature map to the ConvLSTM as a sequence of one step.
    x = layers.Reshape((1, *x.shape[1:]), name="sequence_of_one")(x)
    # Keras 2's default gate (the original's), stated: Keras 3 would use sigmoid.
    x = layers.ConvLSTM2D(
        int(convlstm_filters),
        convlstm_kernel,
        activation="tanh",
        recurrent_activation=keras2_hard_sigmoid,
        padding="same",
        return_sequences=True,
        name="convlstm",
    )(x)
    x = layers.Flatten(name="flatten")(x)
    return _dense_softmax_head(
        inputs,
        x,
        dense_units=dense_units,
        dropout=dropout,
        l1=l1,
        n_classes=n_classes,
        learning_rate=learning_rate,
        name="original_cnn_convlstm",
    )


def cnn_spectrogram_model(
    input_shape: Sequence[int],
    n_classes: int = 4,
    *,
    filters: Sequence[int] = (32, 64),
    kernel_size: int = 3,
    pooling: str = "average",
    pool_size: int = 3,
    dense_units: int = 128,
    dropout: float = 0.5,
    l1: float | None = 1e-3,
    global_pooling: bool = False,
    learning_rate: float = 5e-4,
) -> keras.Model:
    """CNN-only model on a spectrogram: the original model without its ConvLSTM.

    The original's "misc" trials on full and reduced spectrograms: conv/pool blocks as in
    :func:`original_cnn_convlstm`, then Flatten (or global average pooling when
    ``global_pooling``) -> Dense (ReLU, L1) -> Dropout -> Dense softmax.

    Parameters
    ----------
    input_shape : (freq, time) or (freq, time, channels)
    n_classes : int, default 4
    filters, kernel_size, pooling, pool_size, dense_units, dropout, l1, learning_rate
        As in :func:`original_cnn_convlstm`.
    global_pooling : bool, default False
        Average the last feature map over frequency and time instead of flattening it
        (far fewer parameters).

    Returns
    -------
    keras.Model
        Compiled.
    """
    inputs, x, n_classes = _original_conv_blocks(
        input_shape,
        n_classes,
        filters=filters,
        kernel_size=kernel_size,
        pooling=pooling,
        pool_size=pool_size,
        l1=l1,
        builder="cnn_spectrogram",
    )
    x = (
        layers.GlobalAveragePooling2D(name="global_average")(x)
        if global_pooling
        else layers.Flatten(name="flatten")(x)
    )
    return _dense_softmax_head(
        inputs,
        x,
        dense_units=dense_units,
        dropout=dropout,
        l1=l1,
        n_classes=n_classes,
        learning_rate=learning_rate,
        name="cnn_spectrogram",
    )


def lstm_frame_model(
    input_shape: Sequence[int],
    n_classes: int = 4,
    *,
    units: Sequence[int] = (512, 256, 128),
    dropout: float = 0.2,
    learning_rate: float = 5e-4,
) -> keras.Model:
    """LSTM-only model on frame features: the original's "misc" trials.

    Stacked LSTMs (``return_sequences``) -> GlobalMaxPooling1D over time -> Dropout ->
    Dense softmax. The original tried 1–3 layers of 512/256/128 units.

    Parameters
    ----------
    input_shape : (frames, features)
        Time first, e.g. ``(623, 34)`` for the 34 frame features of MSP-IMPROV
        (transpose the ``(34, 623)`` feature matrices).
    n_classes : int, default 4
    units : sequence of int, default (512, 256, 128)
        One LSTM layer per entry.
    dropout : float, default 0.2
        Dropout before the softmax.
    learning_rate : float, default 5e-4

    Returns
    -------
    keras.Model
        Compiled.
    """
    shape = tuple(None if size is None else int(size) for size in input_shape)
    if len(shape) != 2:
        raise ValueError(
            f"lstm_frame: input_shape must be (frames, features), got {tuple(input_shape)}"
        )
    if not units:
        raise ValueError(
            "lstm_frame: units must name at least one LSTM layer, got an empty sequence"
        )
    n_classes = check_n_classes(n_classes)
    inputs = keras.Input(shape=shape, name="frame_features")
    x = inputs
    for layer, n_units in enumerate(units, start=1):
        x = layers.LSTM(int(n_units), return_sequences=True, name=f"lstm{layer}")(x)
    x = layers.GlobalMaxPooling1D(name="max_over_time")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = softmax_output(x, n_classes)
    return compile_model(keras.Model(inputs, outputs, name="lstm_frame"), learning_rate)
