"""Seeded training of the Keras models (ser_utils.deep.training) and its traced twins."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ser_utils import config

pytest.importorskip("keras")

from ser_utils.deep import (
    models,  # noqa: E402
    training,  # noqa: E402
    twins,  # noqa: E402
)
from tests.helpers import TINY_CRNN, TINY_TRAINING

LABELS = config.FOUR_CLASSES


keras = training.keras


def softmax_regression():
    model = keras.Sequential(
        [keras.Input((16, 24)), keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def test_the_history_records_the_validation_split_used():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 8, 10)).astype(np.float32)
    y = np.tile(LABELS, 6)
    config_ = training.TrainingConfig(epochs=1, batch_size=8, validation_split="speaker")
    model = models.improved_tcn((8, 10), channels=4, dilations=(1,), level_units=2)
    history = training.fit_model(
        model, x, y, labels=LABELS, groups=["OAF"] * 24, config=config_, progress=False
    )
    assert history["validation_split_used"] == "stratified" and len(history["val_loss"]) == 1
    model = models.improved_tcn((8, 10), channels=4, dilations=(1,), level_units=2)
    history = training.fit_model(
        model,
        x,
        y,
        labels=LABELS,
        groups=np.tile(["a", "b", "c"], 8),
        config=config_,
        progress=False,
    )
    assert history["validation_split_used"] == "speaker"


def test_cosine_schedule_sets_the_learning_rate_of_every_epoch():
    rates = []
    import keras

    probe = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rates.append(
            float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        )
    )
    x = np.random.default_rng(0).normal(size=(16, 8, 10)).astype(np.float32)
    model = models.improved_tcn(
        (8, 10), channels=4, dilations=(1,), level_units=0, learning_rate=0.01
    )
    config_ = training.TrainingConfig(
        epochs=4, batch_size=8, validation_size=0.25, learning_rate_schedule="cosine"
    )
    training.fit_model(
        model,
        x,
        np.tile(LABELS, 4),
        labels=LABELS,
        config=config_,
        callbacks=[probe],
        progress=False,
    )
    np.testing.assert_allclose(rates, [0.01, 0.0085355, 0.005, 0.0014645], rtol=1e-4)


# ---------------------------------------------------------------------------- labels
def test_labels_are_encoded_in_the_given_class_order():
    codes = training.encode_labels(["sad", "angry", "neutral", "sad"], LABELS)
    np.testing.assert_array_equal(codes, [3, 0, 2, 3])
    with pytest.raises(ValueError, match="other.*not among the classes"):
        training.encode_labels(["sad", "other"], LABELS)


def test_balanced_class_weights_follow_sklearn():
    codes = np.array([2] * 6 + [0] * 2)  # neutral 6, angry 2, happy and sad absent
    weights = training.balanced_class_weights(codes, 4)
    assert weights == {0: pytest.approx(8 / (2 * 2)), 1: 1.0, 2: pytest.approx(8 / (2 * 6)), 3: 1.0}


# --------------------------------------------------------------------------- fitting
def test_training_learns_a_tiny_problem(trained, data):
    model, history = trained
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "validation_split_used"}
    assert history["validation_split_used"] == TINY_TRAINING.validation_split
    assert len(history["loss"]) == TINY_TRAINING.epochs
    assert history["loss"][-1] < history["loss"][0]
    assert history["accuracy"][-1] > 0.5  # chance is 0.25
    x, y, _ = data
    predicted = training.predict_proba(model, x).argmax(axis=1)
    assert (predicted == training.encode_labels(y, LABELS)).mean() > 0.5


def test_training_logs_one_line_per_epoch_and_nothing_per_batch(data, capsys):
    from ser_utils.progress import hide_progress, show_progress

    show_progress()  # the library logs its progress lines; ser and the notebooks show them
    x, y, speakers = data
    history = training.fit_model(
        softmax_regression(),
        x,
        y,
        labels=LABELS,
        groups=speakers,
        config=replace(TINY_TRAINING, epochs=2),
        progress="fold 3",
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(" · ")[:2] for line in lines] == [
        ["fold 3", "epoch 1/2"],
        ["fold 3", "epoch 2/2"],
    ]
    assert f"val_accuracy {history['val_accuracy'][1]:.3f}" in lines[1]
    training.fit_model(
        softmax_regression(),
        x,
        y,
        labels=LABELS,
        groups=speakers,
        config=replace(TINY_TRAINING, epochs=1),
        progress=False,
    )
    assert capsys.readouterr().out == ""
    hide_progress()


def test_class_weights_come_from_the_training_part(monkeypatch, data):
    x, y, speakers = data
    imbalanced = y.copy()
    imbalanced[:40] = "neutral"
    seen = []

    def spy(codes, n_classes):
        seen.append(np.asarray(codes))
        return original(codes, n_classes)

    original = training.balanced_class_weights
    monkeypatch.setattr(training, "balanced_class_weights", spy)
    training.fit_model(
        softmax_regression(),
        x,
        imbalanced,
        labels=LABELS,
        groups=speakers,
        config=replace(TINY_TRAINING, epochs=1),
        verbose=0,
    )
    train_idx, _ = training.validation_split(imbalanced, groups=speakers, config=TINY_TRAINING)
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], training.encode_labels(imbalanced[train_idx], LABELS))


def test_same_seed_gives_identical_weights(trained, data):
    x, y, speakers = data
    first, _ = trained
    second, _ = training.train_model(
        TINY_CRNN, x, y, labels=LABELS, groups=speakers, config=TINY_TRAINING, verbose=0
    )
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_reused_traced_model_trains_exactly_like_a_fresh_one(data, monkeypatch):
    """train_model fits a traced twin of the architecture instead of tracing every new model;
    the result must be the model a fresh, seeded build and fit gives, dropout included, and a
    model handed out earlier must not change when the twin trains again. The fresh model is
    seeded with TensorFlow's global seed too, which train_model leaves out for a model of
    ser_utils.deep.models; predictions go through the twin, with the model's own weights."""
    from ser_utils.deep.models import build_model

    x, y, speakers = data
    with_dropout = replace(TINY_CRNN, params={**TINY_CRNN.params, "dropout": 0.3})
    run = replace(TINY_TRAINING, epochs=2)
    twins.TWINS.clear()
    first, _ = training.train_model(
        with_dropout, x, y, labels=LABELS, groups=speakers, config=replace(run, seed=11)
    )  # builds and traces the twin
    first_weights = [w.copy() for w in first.get_weights()]
    reused, reused_history = training.train_model(
        with_dropout, x, y, labels=LABELS, groups=speakers, config=run
    )
    assert len(twins.TWINS) == 1  # the same twin trained both

    training.set_global_seed(run.seed, deterministic_ops=True)
    fresh = build_model(with_dropout, x.shape[1:], len(LABELS), learning_rate=run.learning_rate)
    fresh_history = training.fit_model(fresh, x, y, labels=LABELS, groups=speakers, config=run)
    assert reused_history["loss"] == fresh_history["loss"]
    for a, b in zip(reused.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert twins.TWIN_OF[reused] in twins.TWINS and fresh not in twins.TWIN_OF
    np.testing.assert_array_equal(
        training.predict_proba(reused, x[:8]), training.predict_proba(fresh, x[:8])
    )
    for before, after in zip(first_weights, first.get_weights()):
        np.testing.assert_array_equal(before, after)
    # the earlier model predicts with its own weights, though the twin last held another's
    np.testing.assert_array_equal(
        training.predict_proba(first, x[:8]), first.predict(x[:8, ..., None], verbose=0)
    )
    assert not np.array_equal(first_weights[0], reused.get_weights()[0])  # another seed

    # a model above the size limit is fitted directly, with the same result
    monkeypatch.setattr(twins, "TWIN_MAX_PARAMETERS", 0)
    monkeypatch.setattr(twins, "UNTWINNED", set())
    twins.TWINS.clear()
    direct, _ = training.train_model(with_dropout, x, y, labels=LABELS, groups=speakers, config=run)
    assert not twins.TWINS and len(twins.UNTWINNED) == 1
    for a, b in zip(direct.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_needs_validation_data(data):
    x, y, _ = data
    tiny = softmax_regression()
    no_validation = config.TrainingConfig(validation_size=0.0, early_stopping_patience=2)
    with pytest.raises(ValueError, match="no validation data"):
        training.fit_model(tiny, x, y, labels=LABELS, config=no_validation, verbose=0)


def test_mixed_precision_and_a_strategy(data):
    import tensorflow as tf

    x, y, _ = data
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    mixed = replace(
        TINY_TRAINING, epochs=1, validation_split="random", mixed_precision=True, class_weight=False
    )
    model, history = training.train_model(
        TINY_CRNN, x, y, labels=LABELS, config=mixed, strategy=strategy, verbose=0
    )
    assert model.get_layer("conv1").dtype_policy.name == "mixed_float16"
    assert model.outputs[0].dtype == "float32"  # the softmax stays float32
    assert model.distribute_strategy is strategy
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after building
    assert np.isfinite(history["loss"][0])
    assert training.predict_proba(model, x[:5]).dtype == np.float32


def test_the_config_names_the_distribution_strategy(data):
    import tensorflow as tf

    x, y, _ = data
    assert training.make_strategy("default") is None
    with pytest.raises(ValueError, match="unknown distribution 'tpu'"):
        training.make_strategy("tpu")
    mirrored = replace(
        TINY_TRAINING,
        epochs=1,
        validation_split="random",
        class_weight=False,
        distribution="mirrored",
    )
    model, history = training.train_model(
        TINY_CRNN, x, y, labels=LABELS, config=mirrored, verbose=0
    )
    assert isinstance(model.distribute_strategy, tf.distribute.MirroredStrategy)
    assert np.isfinite(history["loss"][0])
