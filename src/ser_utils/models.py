"""Keras model builders: the original CNN-ConvLSTM, its side experiments, the CRNN and the TCN.

Every builder is a plain function in the Keras-examples style: ``keras.Input`` first, every
later shape derived from the layer before it, hyperparameters as keyword-only arguments with
the original study's values as defaults, and a compiled model returned (Adam, categorical
cross-entropy, accuracy). The last layer is a float32 softmax, so a model built under the
``mixed_float16`` policy still outputs float32 probabilities.

=====================  ==================================  =================================
name                   input                               what it is
=====================  ==================================  =================================
``original_cnn_convlstm``  seed log-power spectrogram          the original final model
                       (442 freq, 382 frames, 1)           (33 148 420 parameters)
``cnn_spectrogram``    spectrogram (freq, time, 1)         the original's CNN-only trials
``lstm_frame``         frame features (frames, features)   the original's LSTM-only trials
``improved_crnn``      log-mel (64 mel, 601 frames, 1)     conv blocks -> BiGRU over time ->
                                                           attention pooling
``improved_tcn``       log-mel (64 mel, 601 frames, 1)     dilated 1-D convolutions over
                                                           frames + level branch (the
                                                           improved recipe's model)
=====================  ==================================  =================================

Importing this module imports TensorFlow (a few seconds); the rest of ``ser_utils`` does not.

Examples
--------
>>> from ser_utils import config, models
>>> model = models.original_cnn_convlstm(config.ORIGINAL_SPECTROGRAM_SHAPE + (1,))
>>> model.count_params() == config.ORIGINAL_MODEL_PARAMETERS
True
>>> models.build_model(config.improved_recipe().model, (64, 601), 4).count_params()
56660
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from keras import layers  # noqa: E402

from ._tensorflow import keras  # noqa: E402
from .config import ModelConfig, check_choice

__all__ = [
    "original_cnn_convlstm",
    "cnn_spectrogram_model",
    "lstm_frame_model",
    "improved_crnn",
    "improved_tcn",
    "build_model",
    "keras2_hard_sigmoid",
    "MODEL_BUILDERS",
    "POOLINGS",
]

POOLINGS: tuple[str, ...] = ("average", "max")
TEMPORAL_POOLINGS: tuple[str, ...] = ("attention", "average_max")
RECURRENT_CELLS: tuple[str, ...] = ("gru", "lstm")


# ----------------------------------------------------------------------------- helpers
def _image_shape(input_shape: Sequence[int | None], builder: str) -> tuple[int | None, ...]:
    """``(freq, time)`` or ``(freq, time, channels)`` -> ``(freq, time, channels)``."""
    shape = tuple(None if size is None else int(size) for size in input_shape)
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3:
        raise ValueError(
            f"{builder}: input_shape must be (freq, time) or (freq, time, channels), "
            f"got {tuple(input_shape)}"
        )
    return shape


def _check_n_classes(n_classes: int) -> int:
    if int(n_classes) < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    return int(n_classes)


def _l1(strength: float | None):
    return keras.regularizers.L1(strength) if strength else None


def _pooling_layer(pooling: str, pool_size, name: str) -> layers.Layer:
    check_choice(pooling, POOLINGS, "pooling")
    pool = layers.AveragePooling2D if pooling == "average" else layers.MaxPooling2D
    return pool(pool_size=pool_size, name=name)


def _check_fits(tensor, window, input_shape: tuple, builder: str, layer: str) -> None:
    """Fail with the input shape in the message when ``window`` no longer fits the feature map."""
    window = (window, window) if isinstance(window, int) else tuple(window)
    spatial = tuple(tensor.shape[1:3])
    if any(size is not None and size < win for size, win in zip(spatial, window)):
        raise ValueError(
            f"{builder}: input {input_shape} is too small for these blocks: {layer} needs at least "
            f"{window} but the feature map is {spatial} there — use a larger input, a smaller "
            "pool_size or fewer conv blocks"
        )


def _original_conv_blocks(
    inputs,
    *,
    filters: Sequence[int],
    kernel_size: int,
    pooling: str,
    pool_size: int,
    l1: float | None,
    builder: str,
):
    """The original's blocks: Conv2D (valid, ReLU, L1 kernel) -> pooling, once per filter count."""
    x = inputs
    for block, n_filters in enumerate(filters, start=1):
        _check_fits(x, kernel_size, tuple(inputs.shape[1:]), builder, f"conv{block}")
        x = layers.Conv2D(
            int(n_filters),
            kernel_size,
            activation="relu",
            kernel_regularizer=_l1(l1),
            name=f"conv{block}",
        )(x)
        _check_fits(x, pool_size, tuple(inputs.shape[1:]), builder, f"pool{block}")
        x = _pooling_layer(pooling, pool_size, name=f"pool{block}")(x)
    return x


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


def _softmax_output(x, n_classes: int):
    # float32 even under mixed_float16: probabilities and the loss need the full precision.
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)


def _compile(model: keras.Model, learning_rate: float) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


# ------------------------------------------------------------------------ the original
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
    purpose; :func:`improved_crnn` fixes them).

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
    input_shape = _image_shape(input_shape, "original_cnn_convlstm")
    n_classes = _check_n_classes(n_classes)
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = _original_conv_blocks(
        inputs,
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
    x = layers.Dense(int(dense_units), activation="relu", kernel_regularizer=_l1(l1), name="dense")(
        x
    )
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = _softmax_output(x, n_classes)
    return _compile(keras.Model(inputs, outputs, name="original_cnn_convlstm"), learning_rate)


# ------------------------------------------------------------------ side experiments
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
    input_shape = _image_shape(input_shape, "cnn_spectrogram")
    n_classes = _check_n_classes(n_classes)
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = _original_conv_blocks(
        inputs,
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
    x = layers.Dense(int(dense_units), activation="relu", kernel_regularizer=_l1(l1), name="dense")(
        x
    )
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = _softmax_output(x, n_classes)
    return _compile(keras.Model(inputs, outputs, name="cnn_spectrogram"), learning_rate)


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
    n_classes = _check_n_classes(n_classes)
    inputs = keras.Input(shape=shape, name="frame_features")
    x = inputs
    for layer, n_units in enumerate(units, start=1):
        x = layers.LSTM(int(n_units), return_sequences=True, name=f"lstm{layer}")(x)
    x = layers.GlobalMaxPooling1D(name="max_over_time")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = _softmax_output(x, n_classes)
    return _compile(keras.Model(inputs, outputs, name="lstm_frame"), learning_rate)


# ------------------------------------------------------------------------ the improvement
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
    input_shape = _image_shape(input_shape, "improved_crnn")
    n_classes = _check_n_classes(n_classes)
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
        _check_fits(x, pool_size, input_shape, "improved_crnn", f"pool{block}")
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
    outputs = _softmax_output(x, n_classes)
    return _compile(keras.Model(inputs, outputs, name="improved_crnn"), learning_rate)


# --------------------------------------------------------------------------- dispatch
#: Builder name (``ModelConfig.name``) -> builder.
MODEL_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "original_cnn_convlstm": original_cnn_convlstm,
    "improved_crnn": improved_crnn,
    "lstm_frame": lstm_frame_model,
    "cnn_spectrogram": cnn_spectrogram_model,
}


def build_model(
    config: ModelConfig | str, input_shape: Sequence[int | None], n_classes: int, **overrides
) -> keras.Model:
    """Build the model a :class:`~ser_utils.config.ModelConfig` (or a builder name) describes.

    Parameters
    ----------
    config : ModelConfig or str
        ``config.name`` picks the builder from :data:`MODEL_BUILDERS`; ``config.params``
        are its keyword arguments. A bare name uses the builder's defaults.
    input_shape : tuple
        Shape of one example, without the batch axis.
    n_classes : int
    **overrides
        Keyword arguments that take precedence over ``config.params`` (e.g. the training
        config's ``learning_rate``).

    Returns
    -------
    keras.Model
        Compiled.

    Raises
    ------
    ValueError
        Unknown builder name or hyperparameter.

    Examples
    --------
    >>> from ser_utils.config import original_recipe
    >>> model = build_model(original_recipe(profile="smoke").model, (442, 99, 1), 4)
    >>> model.output_shape
    (None, 4)
    """
    if isinstance(config, str):
        config = ModelConfig(name=config)
    name = config.name
    check_choice(name, tuple(MODEL_BUILDERS), "model")
    builder = MODEL_BUILDERS[name]
    params = {**dict(config.params), **overrides}
    accepted = [
        parameter.name
        for parameter in inspect.signature(builder).parameters.values()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) {', '.join(unknown)} for model {name!r}: "
            f"expected some of {', '.join(accepted)}"
        )
    return builder(input_shape, n_classes, **params)


# ------------------------------------------------------------- the fast temporal model
INPUT_NORMALISATIONS: tuple[str, ...] = ("utterance", "corpus")


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
        (:class:`ser_utils.fusion.PackedFeatures`): utterance features (e.g. the functionals
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
    input_shape = _image_shape(input_shape, "improved_tcn")
    if input_shape[2] != 1:
        raise ValueError(
            f"improved_tcn: expected one channel (n_mels, frames, 1), got {input_shape}"
        )
    n_classes = _check_n_classes(n_classes)
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
    outputs = _softmax_output(x, n_classes)
    return _compile(keras.Model(inputs, outputs, name="improved_tcn"), learning_rate)


MODEL_BUILDERS["improved_tcn"] = improved_tcn
