"""Building a model from its config (ser_utils.deep.models.build_model)."""

from __future__ import annotations

import pytest

from ser_utils import config

models = pytest.importorskip(
    "ser_utils.deep.models", reason="the deep models need TensorFlow and Keras"
)


IMPROVED_INPUT = (64, 601, 1)  # 64 mel bins x 6 s at 16 kHz, hop 160


def test_build_model_dispatches_the_recipe_config():
    recipe = config.original_recipe(profile="smoke")
    model = models.build_model(recipe.model, (442, 99, 1), len(config.FOUR_CLASSES))
    expected = models.original_cnn_convlstm((442, 99, 1), 4, **recipe.model.params)
    assert model.name == "original_cnn_convlstm"
    assert model.count_params() == expected.count_params()
    assert (
        models.build_model("improved_crnn", IMPROVED_INPUT, 4).count_params()
        == models.improved_crnn(IMPROVED_INPUT).count_params()
    )
    overridden = models.build_model(recipe.model, (442, 99, 1), 4, learning_rate=1e-3)
    assert float(overridden.optimizer.learning_rate) == pytest.approx(1e-3)


@pytest.mark.parametrize(
    "model, message",
    [
        ("resnet", "unknown model 'resnet'"),
        (
            config.ModelConfig("improved_crnn", {"units_per_layer": 3}),
            "unknown hyperparameter.*units_per_layer",
        ),
    ],
    ids=["unknown model", "unknown hyperparameter"],
)
def test_build_model_rejects_unknown_names_and_hyperparameters(model, message):
    with pytest.raises(ValueError, match=message):
        models.build_model(model, IMPROVED_INPUT, 4)
