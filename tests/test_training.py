"""Seeded training, the validation split, class weights and the saved model bundle."""

import json
from dataclasses import replace

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from ser_utils import config
from ser_utils.deep import bundles

training = pytest.importorskip(
    "ser_utils.deep.training", reason="training needs TensorFlow and Keras"
)
keras = training.keras
from ser_utils.deep import twins  # noqa: E402

LABELS = config.FOUR_CLASSES
#: A CRNN small enough to train in a second on (16 freq, 24 frames) inputs.
TINY_CRNN = config.ModelConfig(
    "improved_crnn", {"filters": (4, 8), "recurrent_units": 8, "attention_units": 8, "dropout": 0.0}
)
TINY_TRAINING = config.TrainingConfig(
    epochs=3,
    batch_size=16,
    learning_rate=1e-2,
    validation_split="speaker",
    class_weight=True,
    seed=3,
    deterministic_ops=True,
)


def learnable_spectrograms(n=64, seed=0):
    """(n, 16, 24) noise; class k raises the mean of frequency rows 4k..4k+3. 8 speakers."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % len(LABELS)
    x = rng.normal(size=(n, 16, 24)).astype(np.float32)
    for code in range(len(LABELS)):
        x[codes == code, 4 * code : 4 * code + 4, :] += 1.5
    speakers = np.repeat([f"spk{i}" for i in range(8)], n // 8)
    return x, np.asarray(LABELS)[codes], speakers


def softmax_regression():
    model = keras.Sequential(
        [keras.Input((16, 24)), keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def data():
    return learnable_spectrograms()


@pytest.fixture(scope="module")
def trained(data):
    x, y, speakers = data
    return training.train_model(
        TINY_CRNN, x, y, labels=LABELS, groups=speakers, config=TINY_TRAINING, verbose=0
    )


# ---------------------------------------------------------------------------- splits
def test_random_validation_split_is_the_originals():
    labels = np.asarray(LABELS)[np.arange(50) % 4]
    train_idx, val_idx = training.validation_split(labels, config=config.TrainingConfig())
    expected_train, expected_val = train_test_split(np.arange(50), test_size=0.2, random_state=727)
    np.testing.assert_array_equal(train_idx, expected_train)
    np.testing.assert_array_equal(val_idx, expected_val)


def test_speaker_validation_split_shares_no_speaker(data):
    _, y, speakers = data
    split = config.TrainingConfig(validation_split="speaker")
    train_idx, val_idx = training.validation_split(y, groups=speakers, config=split)
    assert set(speakers[train_idx]).isdisjoint(speakers[val_idx])
    assert sorted(np.concatenate([train_idx, val_idx])) == list(range(len(y)))
    again = training.validation_split(y, groups=speakers, config=split)
    np.testing.assert_array_equal(again[1], val_idx)  # seeded from the config


def test_speaker_validation_split_needs_groups(data):
    _, y, _ = data
    with pytest.raises(ValueError, match="needs groups"):
        training.validation_split(y, config=config.TrainingConfig(validation_split="speaker"))


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


def test_batches_carry_one_hot_targets_and_class_weights(tmp_path, data):
    x, y, _ = data
    stored = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=x.shape
    )
    stored[:] = x
    stored.flush()
    memmap = np.load(tmp_path / "x.npy", mmap_mode="r")
    codes = training.encode_labels(y, LABELS)
    batches = training.ArrayBatches(
        memmap,
        codes,
        n_classes=4,
        indices=np.array([5, 1, 2]),
        batch_size=2,
        class_weight={0: 0.5, 1: 2.0, 2: 1.0, 3: 1.0},
        add_channel_axis=True,
    )
    inputs, targets, weights = batches[0]
    assert len(batches) == 2
    assert inputs.shape == (2, 16, 24, 1) and inputs.dtype == np.float32
    np.testing.assert_array_equal(inputs[..., 0], x[[1, 5]])  # rows read in sorted order
    np.testing.assert_array_equal(targets, np.eye(4, dtype=np.float32)[[1, 1]])
    np.testing.assert_array_equal(weights, [2.0, 2.0])


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


# ---------------------------------------------------------------------------- bundles
def test_bundle_round_trip(tmp_path, trained, data):
    model, history = trained
    x, _, _ = data
    recipe = config.improved_recipe(profile="smoke")
    directory = bundles.save_bundle(
        tmp_path / "improved",
        model,
        labels=LABELS,
        recipe=recipe,
        history=history,
        extra={"fold": 1},
    )
    assert sorted(p.name for p in directory.iterdir()) == [
        "bundle.json",
        "history.json",
        "labels.json",
        "model.keras",
        "recipe.json",
    ]
    bundle = bundles.load_bundle(directory)
    assert bundle.labels == LABELS
    assert bundle.recipe == recipe
    assert bundle.history == history
    assert bundle.extra == {"fold": 1}
    np.testing.assert_allclose(bundle.predict_proba(x), training.predict_proba(model, x), atol=1e-6)
    assert set(bundle.predict(x[:4])) <= set(LABELS)


def test_saving_again_replaces_the_bundle_and_leaves_no_temporary_folder(tmp_path, trained):
    model, _ = trained
    recipe = config.improved_recipe(profile="smoke")
    bundles.save_bundle(tmp_path / "b", model, labels=LABELS, recipe=recipe, extra={"run": 1})
    bundles.save_bundle(
        tmp_path / "b", model, labels=LABELS, recipe=recipe.to_dict(), extra={"run": 2}
    )
    assert [p.name for p in tmp_path.iterdir()] == ["b"]
    assert json.loads((tmp_path / "b" / "bundle.json").read_text())["extra"] == {"run": 2}


def test_a_bundle_gets_ordinary_file_and_folder_modes(tmp_path, trained):
    import os

    old = os.umask(0o022)
    try:
        path = bundles.save_bundle(
            tmp_path / "bundle", trained[0], labels=LABELS, recipe=config.improved_recipe()
        )
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o755
    assert {p.name: p.stat().st_mode & 0o777 for p in path.iterdir()} == dict.fromkeys(
        ("model.keras", "labels.json", "recipe.json", "history.json", "bundle.json"), 0o644
    )


def test_missing_bundle_names_the_folder(tmp_path):
    with pytest.raises(bundles.BundleError, match=str(tmp_path / "nowhere")):
        bundles.load_bundle(tmp_path / "nowhere")


def test_incomplete_bundle_names_the_missing_files(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "labels.json").write_text(json.dumps(list(LABELS)))
    with pytest.raises(
        bundles.BundleError, match=r"half is incomplete \(missing model.keras, recipe.json\)"
    ):
        bundles.load_bundle(tmp_path / "half")
    assert issubclass(bundles.BundleError, ValueError)


def test_saving_with_the_wrong_number_of_labels_fails(tmp_path, trained):
    model, _ = trained
    with pytest.raises(ValueError, match="4 outputs but 2 labels"):
        bundles.save_bundle(
            tmp_path / "b", model, labels=("angry", "sad"), recipe=config.original_recipe()
        )


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


def test_a_loaded_recipe_equals_the_saved_one(tmp_path, trained):
    model, history = trained
    recipe = config.improved_recipe(profile="smoke")
    directory = bundles.save_bundle(
        tmp_path / "b", model, labels=LABELS, recipe=recipe, history=history
    )
    assert bundles.load_bundle(directory).recipe == recipe
