"""The fusion recipe (ser_utils.experiments.fusion): its fold, combiners and members on the training part only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from ser_utils import config
from ser_utils.deep.views import SpeakerNormalised
from ser_utils.features.speaker_norm import normalise_features

pytest.importorskip("keras")

from ser_utils.experiments import fusion, network  # noqa: E402

LABELS = config.FOUR_CLASSES


def _spectrograms_with_padding(rng, n: int) -> np.ndarray:
    """Log-mel-like (n, 6 bins, 20 frames) arrays whose last 5 frames are padding at the floor."""
    spectrograms = rng.normal(-40, 6, size=(n, 6, 20)).astype(np.float32)
    floor = spectrograms.min(axis=(1, 2), keepdims=True) - 10
    spectrograms[:, :, 15:] = np.broadcast_to(floor, (n, 6, 5))
    return spectrograms


# ------------------------------------------------------------------------ fusion
def test_fused_probabilities_are_the_weighted_mean():
    network, svm = np.array([[0.7, 0.3], [0.2, 0.8]]), np.array([[0.1, 0.9], [0.6, 0.4]])
    np.testing.assert_allclose(
        fusion.fuse_probabilities(network, svm, network_weight=0.25), [[0.25, 0.75], [0.5, 0.5]]
    )
    with pytest.raises(ValueError, match="same utterances"):
        fusion.fuse_probabilities(network, svm[:1])


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
    arguments = dict(
        recipe=recipe,
        protocol_name=protocol,
        labels=labels,
        features=features,
        progress=False,
        folds=[1],
        subset=subset,
    )
    result = network.cross_validate_recipe(x, metadata, **arguments)
    (fold,) = result.folds
    assert fold.details["members"] == 2 and fold.n_test == len(fold.predictions.utterance_id)
    assert fold.members["svm"]["ua"] >= 0.9  # the features carry the label
    probabilities = fold.predictions.probabilities
    assert 0 <= fold.ua <= 1 and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(
        np.asarray(labels)[probabilities.argmax(axis=1)], fold.predictions.predicted
    )
    with pytest.raises(ValueError, match="not saved"):
        network.cross_validate_recipe(x, metadata, **arguments, out_dir="x")


def test_the_fusion_svm_takes_egemaps_of_the_improved_audio_chain_and_old_configs_the_original(
    monkeypatch,
):
    from ser_utils.experiments import fusion

    calls = []

    def extract(paths, feature_set, **kwargs):
        calls.append((feature_set, kwargs["recipe"]))
        return np.zeros((len(paths), 2))

    monkeypatch.setattr(fusion, "extract_features", extract)
    recipe = config.fusion_recipe("msp-improv", "smoke")
    assert fusion.recipe_features(["a.wav"], recipe).shape == (1, 2)
    # as `ser traditional --recipe improved --features egemaps`
    assert calls[-1] == ("egemaps", config.improved_recipe("msp-improv", "smoke"))
    data = recipe.to_dict()  # a run config written before the setting: functionals, original chain
    del data["fusion"]["features_recipe"]
    data["fusion"]["features"] = "functionals"
    old = config.Recipe.from_dict(data)
    assert old.fusion.features_recipe == "original"
    fusion.recipe_features(["a.wav"], old)
    assert calls[-1] == ("functionals", config.original_recipe("msp-improv", "smoke"))
    bad = dataclasses.replace(
        recipe, fusion=dataclasses.replace(recipe.fusion, features_recipe="fast")
    )
    with pytest.raises(ValueError, match="features recipe"):
        fusion.recipe_features(["a.wav"], bad)


def test_the_fusion_recipe_normalises_both_members_inputs_by_speaker(monkeypatch):
    from ser_utils.experiments import fusion, network

    rng = np.random.default_rng(2)
    metadata = pd.DataFrame(
        {
            "utterance_id": [f"u{i}" for i in range(24)],
            "label": np.tile(config.FOUR_CLASSES, 6),
            "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4),
            "session": np.repeat([1, 2, 3], 8),
            "recording_type": "R",
        }
    )
    spectrograms = _spectrograms_with_padding(rng, 24)
    features = rng.normal(size=(24, 3)) + np.repeat(np.arange(6) * 10.0, 4)[:, None]
    seen = []

    def capture(x_train, y_train, groups, features_train, x_test, features_test, **kwargs):
        seen.append((np.asarray(x_train[np.arange(len(x_train))]), features_train))
        return np.full((len(x_test), 4), 0.25), {
            "network": np.full((len(x_test), 4), 0.25),
            "svm": np.full((len(x_test), 4), 0.25),
            "histories": [{"loss": [1.0]}],
        }

    monkeypatch.setattr(fusion, "fuse_fold", capture)
    for speaker_norm in (True, False):
        recipe = config.fusion_recipe("msp-improv", "smoke")
        recipe = dataclasses.replace(
            recipe, fusion=dataclasses.replace(recipe.fusion, speaker_norm=speaker_norm)
        )
        network.cross_validate_recipe(
            spectrograms,
            metadata,
            recipe=recipe,
            protocol_name="loso",
            features=features,
            progress=False,
            folds=[1],
        )
    (normalised_x, normalised_features), (raw_x, raw_features) = seen
    train_rows = np.flatnonzero(metadata["session"] != 1)  # fold 1 leaves session 1 out
    np.testing.assert_array_equal(raw_features, features[train_rows])
    np.testing.assert_allclose(
        normalised_features, normalise_features(features, metadata["speaker"])[train_rows]
    )
    np.testing.assert_allclose(
        normalised_x,
        SpeakerNormalised(spectrograms, metadata["speaker"])[train_rows],
    )
    np.testing.assert_array_equal(raw_x, spectrograms[train_rows])
