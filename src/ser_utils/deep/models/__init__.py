"""Keras model builders: the original CNN-ConvLSTM, its side experiments, the CRNN and the TCN.

Every builder is a plain function in the Keras-examples style: ``keras.Input`` first, every
later shape derived from the layer before it, hyperparameters as keyword-only arguments with
the original study's values as defaults, and a compiled model returned (Adam, categorical
cross-entropy, accuracy). The last layer is a float32 softmax, so a model built under the
``mixed_float16`` policy still outputs float32 probabilities.

=====================  ==================================  =================================
name                   input                               what it is
=====================  ==================================  =================================
``original_cnn_convlstm``  original log-power spectrogram      the original final model
                       (442 freq, 382 frames, 1)           (33 148 420 parameters)
``cnn_spectrogram``    spectrogram (freq, time, 1)         the original's CNN-only trials
``lstm_frame``         frame features (frames, features)   the original's LSTM-only trials
``improved_crnn``      log-mel (64 mel, 601 frames, 1)     conv blocks -> BiGRU over time ->
                                                           attention pooling
``improved_tcn``       log-mel (64 mel, 601 frames, 1)     dilated 1-D convolutions over
                                                           frames + level branch (the
                                                           improved recipe's model)
``encoder_head``       pooled encoder embedding (768,)     normalisation -> dense -> softmax
                                                           (the whisper-head recipe)
=====================  ==================================  =================================

Importing this package imports TensorFlow (a few seconds); the data modules of ``ser_utils``
do not.

Modules: :mod:`~ser_utils.deep.models.original` (the original's models),
:mod:`~ser_utils.deep.models.improved` (the improved ones),
:mod:`~ser_utils.deep.models.heads` (the head over a pretrained encoder) and
:mod:`~ser_utils.deep.models.building` (what the builders share).

Examples
--------
>>> from ser_utils import config
>>> from ser_utils.deep import models
>>> model = models.original_cnn_convlstm(config.ORIGINAL_SPECTROGRAM_SHAPE + (1,))
>>> model.count_params() == config.ORIGINAL_MODEL_PARAMETERS
True
>>> models.build_model(config.improved_recipe().model, (64, 601), 4).count_params()
56660
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from ...config import ModelConfig, check_choice
from ..backend import keras
from .building import POOLINGS
from .heads import encoder_head
from .improved import improved_crnn, improved_tcn
from .original import (
    cnn_spectrogram_model,
    keras2_hard_sigmoid,
    lstm_frame_model,
    original_cnn_convlstm,
)

__all__ = [
    "original_cnn_convlstm",
    "cnn_spectrogram_model",
    "lstm_frame_model",
    "improved_crnn",
    "improved_tcn",
    "encoder_head",
    "build_model",
    "keras2_hard_sigmoid",
    "MODEL_BUILDERS",
    "POOLINGS",
]


#: Builder name (``ModelConfig.name``) -> builder.
MODEL_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "original_cnn_convlstm": original_cnn_convlstm,
    "improved_crnn": improved_crnn,
    "lstm_frame": lstm_frame_model,
    "cnn_spectrogram": cnn_spectrogram_model,
    "improved_tcn": improved_tcn,
    "encoder_head": encoder_head,
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
