"""The improved recipe: its temporal convolution model, the validation fallback, augmentation,
the cosine schedule, late fusion, and every recipe under every protocol of its corpus."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ser_utils import config

pytest.importorskip("keras")
from ser_utils.deep import (
    ensemble,  # noqa: E402
    models,  # noqa: E402
    training,  # noqa: E402
)
from ser_utils.deep.views import PackedFeatures  # noqa: E402
from ser_utils.experiments import fusion, network  # noqa: E402

LABELS = config.FOUR_CLASSES


# ------------------------------------------------------------------ validation split
def test_a_single_training_speaker_falls_back_to_a_stratified_split():
    labels = np.repeat(LABELS, 10)
    speaker = training.TrainingConfig(validation_split="speaker")
    # TESS leave-one-speaker-out: one speaker left to train on (this raised ValueError before).
    train, val = training.validation_split(labels, groups=["OAF"] * 40, config=speaker)
    assert training.validation_split_used(["OAF"] * 40, config=speaker) == "stratified"
    assert len(val) == 8 and sorted(np.concatenate([train, val]).tolist()) == list(range(40))
    assert pd.Series(labels[val]).value_counts().to_dict() == {
        label: 2 for label in LABELS
    }  # stratified
    # two speakers: the grouped split, as before
    groups = np.tile(["OAF", "YAF"], 20)
    train, val = training.validation_split(labels, groups=groups, config=speaker)
    assert training.validation_split_used(groups, config=speaker) == "speaker"
    assert not set(groups[train]) & set(groups[val])


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


# ------------------------------------------------------------------ augmentation
def test_spec_augment_masks_bands_with_the_example_mean_and_leaves_the_source_alone():
    x = np.arange(2 * 20 * 30, dtype=np.float32).reshape(2, 20, 30)
    source = x.copy()
    batches = training.ArrayBatches(
        x, np.array([0, 1]), n_classes=4, seed=3, spec_augment_masks=2, spec_augment_width=0.2
    )
    inputs, _ = batches[0]
    np.testing.assert_array_equal(x, source)
    changed = inputs != source
    assert changed.any()
    for example, mask in zip(range(2), changed):
        np.testing.assert_allclose(inputs[example][mask], source[example].mean())
        # masks are whole bands: every changed value lies in a changed row (frequency) or column (time)
        rows, columns = mask.all(axis=1), mask.all(axis=0)
        assert (mask == (rows[:, None] | columns[None, :])).all()
        assert rows.sum() <= 2 * 4 and columns.sum() <= 2 * 6  # at most 2 bands of 20 % per axis
    again, _ = training.ArrayBatches(
        x, np.array([0, 1]), n_classes=4, seed=3, spec_augment_masks=2, spec_augment_width=0.2
    )[0]
    np.testing.assert_array_equal(inputs, again)  # seeded


def test_mixup_mixes_inputs_targets_and_weights_alike():
    x = np.stack([np.full((3, 4), value, np.float32) for value in (0.0, 10.0, 20.0, 30.0)])
    codes = np.array([0, 1, 2, 3])
    weights = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0}
    inputs, targets, sample_weights = training.ArrayBatches(
        x, codes, n_classes=4, class_weight=weights, mixup_alpha=0.4, seed=2
    )[0]
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    own = targets[np.arange(4), codes]
    assert (own >= 0.5).all() and (own < 1).any()  # each example dominates its mix
    for example in range(4):
        # x is constant per example, so the mixed value is the targets' weighted mean of the values
        np.testing.assert_allclose(
            inputs[example], targets[example] @ np.array([0.0, 10.0, 20.0, 30.0]), rtol=1e-5
        )
        np.testing.assert_allclose(
            sample_weights[example], targets[example] @ np.array([1.0, 2.0, 3.0, 4.0]), rtol=1e-5
        )


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


def test_improved_tcn_rejects_bad_shapes_and_choices():
    with pytest.raises(ValueError, match="one channel"):
        models.improved_tcn((64, 100, 2))
    with pytest.raises(ValueError, match="unknown input normalisation 'peak'"):
        models.improved_tcn((64, 100), input_normalisation="peak")
    with pytest.raises(ValueError, match="at least one block"):
        models.improved_tcn((64, 100), dilations=())


# ------------------------------------------------------------------------ fusion
def test_fused_probabilities_are_the_weighted_mean():
    network, svm = np.array([[0.7, 0.3], [0.2, 0.8]]), np.array([[0.1, 0.9], [0.6, 0.4]])
    np.testing.assert_allclose(
        fusion.fuse_probabilities(network, svm, network_weight=0.25), [[0.25, 0.75], [0.5, 0.5]]
    )
    with pytest.raises(ValueError, match="same utterances"):
        fusion.fuse_probabilities(network, svm[:1])


def test_svm_probabilities_keep_the_svm_prediction():
    from ser_utils.traditional import make_model

    rng = np.random.default_rng(0)
    y = np.repeat(["sad", "angry", "happy"], 20)  # no neutral in training
    features = rng.normal(size=(60, 5)) + np.repeat(np.eye(3, 5) * 2, 20, axis=0)
    test = rng.normal(size=(15, 5))
    probabilities = fusion.svm_probabilities(features, y, test, labels=LABELS, random_state=0)
    assert probabilities.shape == (15, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities[:, LABELS.index("neutral")] == 0).all()
    svm = make_model("rbf_svm", random_state=0, scaler=True).fit(features, y)
    chosen = np.asarray(LABELS)[probabilities.argmax(axis=1)]
    np.testing.assert_array_equal(chosen, svm.classes_[svm.decision_function(test).argmax(axis=1)])
    assert np.mean(chosen == svm.predict(test)) >= 0.9  # one-vs-one votes may break ties otherwise


# ------------------------------------------------------- every recipe × every protocol
@pytest.fixture(scope="module")
def two_corpora():
    """Tiny arrays with the metadata of each corpus: MSP-IMPROV (4 sessions × 2 speakers) and
    TESS (2 speakers, 7 emotions)."""
    rng = np.random.default_rng(0)
    sessions = np.repeat([1, 2, 3, 4], 8)
    msp = pd.DataFrame(
        {
            "utterance_id": [f"m{i:02d}" for i in range(32)],
            "label": np.tile(LABELS, 8),
            "speaker": [f"{'FM'[i % 2]}{s:02d}" for i, s in enumerate(sessions)],
            "session": sessions,
            "recording_type": "R",
        }
    )
    tess = pd.DataFrame(
        {
            "utterance_id": [f"t{i:02d}" for i in range(28)],
            "label": np.tile(sorted(set(config.TESS_LABELS.values())), 4),
            "speaker": np.repeat(["OAF", "YAF"], 14),
            "session": np.nan,
            "recording_type": np.nan,
        }
    )
    return {
        "msp-improv": (rng.normal(-40, 8, size=(32, 16, 40)).astype(np.float32), msp, LABELS),
        "tess": (
            rng.normal(-40, 8, size=(28, 16, 40)).astype(np.float32),
            tess,
            tuple(sorted(set(config.TESS_LABELS.values()))),
        ),
    }


PROTOCOLS_OF = {
    "msp-improv": ("original-random", "original-4fold", "loso", "speaker"),
    "tess": ("original-random", "original-4fold", "speaker"),
}


@pytest.mark.parametrize("recipe_name", config.RECIPES)
@pytest.mark.parametrize("corpus", config.CORPORA)
def test_every_recipe_runs_under_every_protocol_of_its_corpus(two_corpora, corpus, recipe_name):
    x, metadata, labels = two_corpora[corpus]
    recipe = config.get_recipe(recipe_name, corpus, "smoke")
    # one epoch of a small model of the recipe's kind, on these (16, 40) inputs
    params = {
        "original": {"filters": (2, 2), "convlstm_filters": 2, "dense_units": 4, "pool_size": 2},
        "improved": {**recipe.model.params, "channels": 4},
        "fusion": {**recipe.model.params, "channels": 4, "dilations": (1,)},
    }[recipe_name]
    recipe = dataclasses.replace(
        recipe,
        model=config.ModelConfig(recipe.model.name, params),
        training=dataclasses.replace(recipe.training, epochs=1),
    )
    subset = "all" if corpus == "tess" else "rt-4class"
    if (
        recipe.fusion is not None
    ):  # two members and made-up utterance features: the fusion's own loop
        recipe = dataclasses.replace(recipe, fusion=dataclasses.replace(recipe.fusion, members=2))
        features = np.random.default_rng(0).normal(size=(len(metadata), 5))
    for protocol in PROTOCOLS_OF[corpus]:
        # one fold shows the protocol runs; both TESS speakers, since each leaves one to train on
        folds = None if (corpus, protocol) == ("tess", "speaker") else [1]
        if recipe.fusion is not None:
            result = network.cross_validate_recipe(
                x,
                metadata,
                recipe=recipe,
                protocol_name=protocol,
                labels=labels,
                features=features,
                progress=False,
                folds=folds,
                subset=subset,
            )
        else:
            result = network.cross_validate_recipe(
                x,
                metadata,
                recipe=recipe,
                protocol_name=protocol,
                labels=labels,
                progress=False,
                folds=folds,
                subset=subset,
            )
        assert len(result.folds) == (2 if folds is None else 1)
        assert all(0 <= fold.ua <= 1 for fold in result.folds)
        used = {fold.history.get("validation_split_used") for fold in result.folds}
        if recipe_name == "original":
            assert used == {"random"}
        elif corpus == "tess" and protocol == "speaker":
            assert used == {"stratified"}  # one speaker left in each training part
        else:
            assert used == {"speaker"}


# ------------------------------------------------------- inner-fold ensemble and stacking
def test_inner_splits_hold_out_each_speaker_once_or_fall_back_to_stratified_folds():
    y = np.tile(LABELS, 6)
    speakers = np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4)
    splits = ensemble.inner_splits(y, speakers, n_folds=3, seed=0)
    assert len(splits) == 3
    held = np.concatenate([held_out for _, held_out in splits])
    assert sorted(held.tolist()) == list(range(24))  # every example held out exactly once
    for train, held_out in splits:
        assert not set(speakers[train]) & set(speakers[held_out])
        assert len(set(speakers[held_out])) == 2
    # more folds than speakers: one speaker per fold
    assert len(ensemble.inner_splits(y[:8], speakers[:8], n_folds=5, seed=0)) == 2
    # a single training speaker (TESS leave-one-speaker-out): stratified folds, seeded
    single = ensemble.inner_splits(y, ["OAF"] * 24, n_folds=3, seed=4)
    for _, held_out in single:
        assert pd.Series(y[held_out]).value_counts().to_dict() == {label: 2 for label in LABELS}
    again = ensemble.inner_splits(y, ["OAF"] * 24, n_folds=3, seed=4)
    assert all((a[1] == b[1]).all() for a, b in zip(single, again))


def test_svm_probabilities_scale_the_features_and_platt_gives_probabilities():
    from ser_utils.traditional import make_model

    rng = np.random.default_rng(1)
    y = np.repeat(LABELS, 15)
    # one feature in the thousands, the informative ones near 1: unscaled, the RBF kernel sees only the first
    features = np.hstack(
        [
            rng.normal(0, 1000, size=(60, 1)),
            np.eye(4)[np.repeat(np.arange(4), 15)] * 2 + rng.normal(0, 0.5, size=(60, 4)),
        ]
    )
    test = np.hstack([rng.normal(0, 1000, size=(20, 1)), np.eye(4)[np.repeat(np.arange(4), 5)] * 2])
    softmax = fusion.svm_probabilities(features, y, test, labels=LABELS, random_state=0)
    scaled = make_model("rbf_svm", random_state=0, scaler=True).fit(features, y)
    np.testing.assert_array_equal(
        np.asarray(LABELS)[softmax.argmax(axis=1)],
        scaled.classes_[scaled.decision_function(test).argmax(axis=1)],
    )
    assert fusion.unweighted_recall(np.repeat(LABELS, 5), softmax, LABELS) == 1.0
    platt = fusion.svm_probabilities(
        features, y, test, labels=LABELS, random_state=0, calibration="platt"
    )
    np.testing.assert_allclose(platt.sum(axis=1), 1.0)
    assert fusion.unweighted_recall(np.repeat(LABELS, 5), platt, LABELS) == 1.0
    assert platt.max() < 1.0 and platt.min() > 0.0
    with pytest.raises(ValueError, match="calibration"):
        fusion.svm_probabilities(
            features, y, test, labels=LABELS, random_state=0, calibration="isotonic"
        )


def test_the_combiners_learn_which_member_to_trust_from_out_of_fold_predictions():
    rng = np.random.default_rng(2)
    y = np.repeat(LABELS, 20)
    truth = np.eye(4)[np.repeat(np.arange(4), 20)]
    informative = 0.6 * truth + 0.4 * rng.dirichlet(
        np.ones(4), size=80
    )  # right class always on top
    noise = rng.dirichlet(np.ones(4) * 0.3, size=80)  # confident and wrong most of the time
    assert fusion.unweighted_recall(y, fusion.fuse_probabilities(informative, noise), LABELS) < 1.0
    for combiner in ("weight", "stacking"):
        settings = config.FusionConfig(combiner=combiner)
        combine, fitted = fusion.fit_combiner(
            informative, noise, y, labels=LABELS, settings=settings
        )
        assert fusion.unweighted_recall(y, combine(informative, noise), LABELS) == 1.0
        if combiner == "weight":
            assert fitted["network_weight"] > 0.5  # the nearest to 0.5 of the best weights
    # swapped: the SVM is the informative one
    combine, fitted = fusion.fit_combiner(
        noise, informative, y, labels=LABELS, settings=config.FusionConfig(combiner="weight")
    )
    assert (
        fitted["network_weight"] < 0.5
        and fusion.unweighted_recall(y, combine(noise, informative), LABELS) == 1.0
    )


def test_packed_features_reach_the_features_branch_unchanged():
    rng = np.random.default_rng(3)
    spectrograms = rng.normal(-40, 5, size=(6, 8, 12)).astype(np.float32)
    features = rng.normal(size=(6, 19)).astype(np.float32)
    packed = PackedFeatures(spectrograms, features)
    assert packed.columns == 3 and packed.shape == (6, 8, 15) and len(packed) == 6
    rows = packed[np.array([1, 4])]
    np.testing.assert_array_equal(rows[:, :, :12], spectrograms[[1, 4]])
    model = models.improved_tcn(
        packed.shape[1:],
        channels=4,
        dilations=(1,),
        level_units=2,
        packed_columns=3,
        functional_units=5,
    )
    import keras

    branch = keras.Model(model.inputs, model.get_layer("packed_features").output)
    np.testing.assert_allclose(
        branch.predict(rows[..., None], verbose=0)[:, :19], features[[1, 4]], rtol=1e-6
    )
    # the convolutions see the log-mel frames only
    assert model.get_layer("log_mel_frames").output.shape[1] == 12


def test_the_fusion_recipe_runs_fold_by_fold_on_the_training_part_only(two_corpora):
    corpus = "tess"  # the hardest case: leave-one-speaker-out leaves one training speaker (stratified inner folds)
    x, metadata, labels = two_corpora[corpus]
    recipe = config.fusion_recipe(corpus, "smoke")
    recipe = dataclasses.replace(
        recipe,
        model=config.ModelConfig(
            recipe.model.name, {**recipe.model.params, "channels": 4, "dilations": (1,)}
        ),
        training=dataclasses.replace(recipe.training, epochs=1),
        fusion=dataclasses.replace(recipe.fusion, members=2),
    )
    rng = np.random.default_rng(5)
    features = (
        rng.normal(size=(len(metadata), 7))
        + np.eye(len(labels), 7)[
            pd.Series(metadata["label"])
            .map({label: k for k, label in enumerate(labels)})
            .to_numpy()
        ]
        * 3
    )
    protocol, subset = "speaker", "all"
    result = network.cross_validate_recipe(
        x,
        metadata,
        recipe=recipe,
        protocol_name=protocol,
        labels=labels,
        features=features,
        progress=False,
        folds=[1],
        subset=subset,
    )
    (fold,) = result.folds
    assert fold.details["members"] == 2 and fold.n_test == len(fold.predictions.utterance_id)
    assert fold.members["svm"]["ua"] >= 0.9  # the features carry the label
    probabilities = fold.predictions.probabilities
    assert 0 <= fold.ua <= 1 and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(
        np.asarray(labels)[probabilities.argmax(axis=1)], fold.predictions.predicted
    )
    with pytest.raises(ValueError, match="not saved"):
        network.cross_validate_recipe(
            x,
            metadata,
            recipe=recipe,
            protocol_name=protocol,
            labels=labels,
            features=features,
            progress=False,
            folds=[1],
            subset=subset,
            out_dir="x",
        )


def test_members_pool_by_their_mean_or_their_normalised_geometric_mean():
    members = [np.array([[0.98, 0.02], [0.5, 0.5]]), np.array([[0.4, 0.6], [0.2, 0.8]])]
    np.testing.assert_allclose(
        ensemble.pool_members(members, "arithmetic"), [[0.69, 0.31], [0.35, 0.65]]
    )
    geometric = ensemble.pool_members(members, "geometric")
    expected = np.sqrt(np.array(members[0]) * np.array(members[1]))
    np.testing.assert_allclose(geometric, expected / expected.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(geometric.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="pooling"):
        ensemble.pool_members(members, "median")


def test_the_fusion_recipe_is_the_improved_network_with_its_ensemble_settings_and_survives_a_round_trip():
    for profile in config.PROFILES:
        recipe = config.fusion_recipe("msp-improv", profile)
        improved = config.improved_recipe("msp-improv", profile)
        assert (
            recipe.name == "fusion"
            and recipe.model == improved.model
            and recipe.training == improved.training
        )
        assert recipe.fusion.members == 5 and recipe.fusion.combiner == "stacking"
        assert config.Recipe.from_dict(recipe.to_dict()) == recipe
    assert config.Recipe.from_dict(improved.to_dict()).fusion is None
