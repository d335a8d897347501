"""What every model builder shares: input shapes checked and given a channel axis, the output
layer, the compilation (Adam, categorical cross-entropy, accuracy), pooling and L1 choices.
"""

from __future__ import annotations

from collections.abc import Sequence

from keras import layers

from ...config import check_choice
from ..backend import keras

__all__ = [
    "POOLINGS",
    "image_shape",
    "check_n_classes",
    "l1_regulariser",
    "pooling_layer",
    "check_fits",
    "softmax_output",
    "compile_model",
]

POOLINGS: tuple[str, ...] = ("average", "max")


def image_shape(input_shape: Sequence[int | None], builder: str) -> tuple[int | None, ...]:
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


def check_n_classes(n_classes: int) -> int:
    """``n_classes`` as an int, at least 2."""
    if int(n_classes) < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    return int(n_classes)


def l1_regulariser(strength: float | None):
    """An L1 kernel regulariser of ``strength``; None for none (or 0)."""
    return keras.regularizers.L1(strength) if strength else None


def pooling_layer(pooling: str, pool_size, name: str) -> layers.Layer:
    """2-D average or max pooling (:data:`POOLINGS`) with window and stride ``pool_size``."""
    check_choice(pooling, POOLINGS, "pooling")
    pool = layers.AveragePooling2D if pooling == "average" else layers.MaxPooling2D
    return pool(pool_size=pool_size, name=name)


def check_fits(tensor, window, input_shape: tuple, builder: str, layer: str) -> None:
    """Fail with the input shape in the message when ``window`` no longer fits the feature map."""
    window = (window, window) if isinstance(window, int) else tuple(window)
    spatial = tuple(tensor.shape[1:3])
    if any(size is not None and size < win for size, win in zip(spatial, window)):
        raise ValueError(
            f"{builder}: input {input_shape} is too small for these blocks: {layer} needs at least "
            f"{window} but the feature map is {spatial} there — use a larger input, a smaller "
            "pool_size or fewer conv blocks"
        )


def softmax_output(x, n_classes: int):
    """The output layer: a Dense softmax over ``n_classes``."""
    # float32 even under mixed_float16: probabilities and the loss need the full precision.
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)


def compile_model(model: keras.Model, learning_rate: float) -> keras.Model:
    """Compile ``model`` with Adam at ``learning_rate``, categorical cross-entropy and accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
