"""The original's models (ser_utils.deep.models.original): its parameter count, layers and gates."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config

models = pytest.importorskip(
    "ser_utils.deep.models", reason="the deep models need TensorFlow and Keras"
)


keras = models.keras


ORIGINAL_INPUT = (*config.ORIGINAL_SPECTROGRAM_SHAPE, 1)


def original_parameter_count(
    freq,
    time,
    *,
    filters=(32, 64),
    pool_size=3,
    convlstm_filters=128,
    dense_units=128,
    n_classes=4,
    kernel=3,
):
    """The original model's parameters by hand: valid 3x3 convolutions, non-overlapping pooling."""
    count, channels = 0, 1
    for n_filters in filters:
        count += kernel * kernel * channels * n_filters + n_filters
        freq, time = (freq - kernel + 1) // pool_size, (time - kernel + 1) // pool_size
        channels = n_filters
    count += 4 * (
        kernel * kernel * (channels + convlstm_filters) * convlstm_filters + convlstm_filters
    )
    count += freq * time * convlstm_filters * dense_units + dense_units
    return count + dense_units * n_classes + n_classes


def test_original_model_has_the_original_parameter_count():
    model = models.original_cnn_convlstm(ORIGINAL_INPUT)
    assert model.count_params() == config.ORIGINAL_MODEL_PARAMETERS == 33_148_420
    # the ConvLSTM sees one step of the 48 x 41 x 64 map, as in the original
    assert model.get_layer("sequence_of_one").output.shape == (None, 1, 48, 41, 64)
    assert model.output_shape == (None, 4)


def test_original_model_derives_its_reshape_from_the_input():
    model = models.original_cnn_convlstm((60, 50), n_classes=3)  # channel axis added
    assert model.input_shape == (None, 60, 50, 1)
    # (60-2)//3 = 19, (19-2)//3 = 5 ; (50-2)//3 = 16, (16-2)//3 = 4
    assert model.get_layer("sequence_of_one").output.shape == (None, 1, 5, 4, 64)
    assert model.output_shape == (None, 3)
    assert model.count_params() == original_parameter_count(60, 50, n_classes=3)


def test_original_formula_matches_the_original_count():
    assert (
        original_parameter_count(*config.ORIGINAL_SPECTROGRAM_SHAPE)
        == config.ORIGINAL_MODEL_PARAMETERS
    )


@pytest.mark.parametrize(
    "options",
    [
        {"pool_size": 2},
        {"pool_size": 4},
        {"pool_size": 5},
        {"filters": (16, 32)},
        {"filters": (64, 64)},
        {"filters": (16, 32), "pool_size": 2, "convlstm_filters": 32, "dense_units": 64},
    ],
)
def test_original_options_change_the_count_as_expected(options):
    model = models.original_cnn_convlstm((120, 100, 1), **options)
    assert model.count_params() == original_parameter_count(120, 100, **options)


def test_max_and_average_pooling_have_the_same_count_and_different_layers():
    average = models.original_cnn_convlstm((120, 100, 1), pooling="average")
    maximum = models.original_cnn_convlstm((120, 100, 1), pooling="max")
    assert average.count_params() == maximum.count_params()
    assert isinstance(average.get_layer("pool1"), keras.layers.AveragePooling2D)
    assert isinstance(maximum.get_layer("pool1"), keras.layers.MaxPooling2D)
    with pytest.raises(ValueError, match="unknown pooling 'median'"):
        models.original_cnn_convlstm((120, 100, 1), pooling="median")


def test_original_model_is_compiled_like_the_original():
    model = models.original_cnn_convlstm((60, 50, 1))
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(5e-4)
    assert model.get_layer("conv1").kernel_regularizer.get_config()["l1"] == pytest.approx(1e-3)
    assert model.get_layer("dense").kernel_regularizer.get_config()["l1"] == pytest.approx(1e-3)
    assert model.get_layer("convlstm").return_sequences


def test_original_convlstm_gates_are_keras_2_hard_sigmoid():
    # Keras 2's default recurrent activation: clip(0.2 x + 0.5, 0, 1). Keras 3 defaults to sigmoid
    # and its own hard_sigmoid has slope 1/6.
    gate = models.original_cnn_convlstm((60, 50, 1)).get_layer("convlstm").cell.recurrent_activation
    x = np.array([-3.0, -2.5, -1.0, 0.0, 0.5, 1.0, 2.5, 3.0], dtype=np.float32)
    values = keras.ops.convert_to_numpy(gate(keras.ops.convert_to_tensor(x)))
    np.testing.assert_allclose(values, np.clip(0.2 * x + 0.5, 0.0, 1.0), atol=1e-6)
    keras3 = keras.ops.convert_to_numpy(
        keras.activations.hard_sigmoid(keras.ops.convert_to_tensor(x))
    )
    assert np.abs(values - keras3).max() > 0.03
    assert np.abs(values - 1 / (1 + np.exp(-x))).max() > 0.05


def test_original_model_keeps_its_gates_through_saving(tmp_path):
    model = models.original_cnn_convlstm((60, 50, 1))
    model.save(tmp_path / "seed.keras")
    loaded = keras.saving.load_model(tmp_path / "seed.keras")
    assert loaded.get_layer("convlstm").cell.recurrent_activation is models.keras2_hard_sigmoid


def test_too_small_input_names_the_shape():
    with pytest.raises(ValueError, match=r"input \(16, 24, 1\) is too small"):
        models.original_cnn_convlstm((16, 24))


def test_lstm_frame_model_pools_the_maximum_over_time():
    model = models.lstm_frame_model((50, 34), n_classes=4, units=(16, 8))
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.LSTM)] == [
        16,
        8,
    ]
    assert isinstance(model.get_layer("max_over_time"), keras.layers.GlobalMaxPooling1D)
    assert model.output_shape == (None, 4)
    with pytest.raises(ValueError, match=r"\(frames, features\)"):
        models.lstm_frame_model((50, 34, 1))


def test_cnn_spectrogram_model_is_the_original_without_convlstm():
    flat = models.cnn_spectrogram_model((60, 50, 1))
    pooled = models.cnn_spectrogram_model((60, 50, 1), global_pooling=True)
    # conv (320 + 18 496) + Dense(5 x 4 x 64 -> 128) + softmax (516)
    assert flat.count_params() == 320 + 18_496 + (5 * 4 * 64 * 128 + 128) + 516
    assert pooled.count_params() == 320 + 18_496 + (64 * 128 + 128) + 516
