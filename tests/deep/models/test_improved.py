"""The improved models (ser_utils.deep.models.improved): the CRNN and the TCN."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config

pytest.importorskip("keras")

from ser_utils.deep import (
    models,  # noqa: E402
    training,  # noqa: E402
)

keras = models.keras


IMPROVED_INPUT = (64, 601, 1)  # 64 mel bins x 6 s at 16 kHz, hop 160


# ------------------------------------------------------------------------ the model
def test_improved_tcn_is_small_and_fast_at_full_size():
    recipe = config.improved_recipe("msp-improv", "full")
    model = models.build_model(recipe.model, (64, 601, 1), 4)
    assert model.name == "improved_tcn"
    assert model.count_params() < 1_000_000
    assert model.output_shape == (None, 4)


def test_only_the_level_branch_and_corpus_norm_see_a_change_of_level():
    """Adding 6 dB to every log-mel value changes nothing after per-utterance standardisation;
    the corpus-normalised model and the level branch see it."""
    x = np.random.default_rng(0).normal(-40, 8, size=(4, 16, 40)).astype(np.float32)
    louder = x + 6.0

    def outputs(**params):
        import keras

        training.set_global_seed(0)
        model = models.improved_tcn((16, 40), channels=8, dilations=(1, 2), **params)
        # what the softmax layer sees (an untrained softmax may saturate and hide differences)
        embedding = keras.Model(model.inputs, model.get_layer("dropout").output)
        return embedding.predict(x, verbose=0), embedding.predict(louder, verbose=0)

    quiet, loud = outputs(input_normalisation="utterance", level_units=0)
    np.testing.assert_allclose(quiet, loud, atol=1e-4)
    for params in (
        {"input_normalisation": "utterance", "level_units": 8},
        {"input_normalisation": "corpus", "level_units": 0},
    ):
        quiet, loud = outputs(**params)
        assert np.abs(quiet - loud).max() > 1e-3, params


@pytest.mark.parametrize(
    "shape, options, message",
    [
        ((64, 100, 2), {}, "one channel"),
        ((64, 100), {"input_normalisation": "peak"}, "unknown input normalisation 'peak'"),
        ((64, 100), {"dilations": ()}, "at least one block"),
    ],
    ids=["two channels", "unknown normalisation", "no blocks"],
)
def test_improved_tcn_rejects_bad_shapes_and_choices(shape, options, message):
    with pytest.raises(ValueError, match=message):
        models.improved_tcn(shape, **options)


def test_improved_model_is_a_tenth_of_the_original_and_recurs_over_time():
    model = models.improved_crnn(IMPROVED_INPUT)
    assert model.count_params() <= config.ORIGINAL_MODEL_PARAMETERS / 10
    layer_types = [type(layer) for layer in model.layers]
    assert keras.layers.Flatten not in layer_types
    recurrent = model.get_layer("bigru")
    assert isinstance(recurrent, keras.layers.Bidirectional)
    assert isinstance(recurrent.forward_layer, keras.layers.GRU)
    # the recurrence runs over 150 time steps (601 frames pooled 2 x 2), not over one step
    assert recurrent.input.shape[1] == 150
    assert model.get_layer("attention_pooling").output.shape == (None, 2 * 64)
    assert model.output_shape == (None, 4)


def test_improved_model_takes_any_number_of_frames():
    model = models.improved_crnn((32, None), filters=(4, 8), recurrent_units=4, attention_units=4)
    assert model.input_shape == (None, 32, None, 1)
    for frames in (40, 97):
        assert model.predict(keras.ops.zeros((2, 32, frames, 1)), verbose=0).shape == (2, 4)


def test_improved_model_options():
    lstm = models.improved_crnn(
        (32, 40, 1), filters=(4, 8), recurrent="lstm", temporal_pooling="average_max"
    )
    assert isinstance(lstm.get_layer("bilstm").forward_layer, keras.layers.LSTM)
    assert lstm.get_layer("average_max_pooling").output.shape == (None, 2 * 2 * 64)
    with pytest.raises(ValueError, match="one \\(freq, time\\) pair per conv block"):
        models.improved_crnn((32, 40, 1), filters=(4, 8), pool_sizes=[(2, 2)])
