"""Speaker normalisation (ser_utils.features.speaker_norm): what it removes, what it keeps, where its
statistics come from, and how ``ser traditional --speaker-norm`` and the fusion recipe use it."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from ser_utils import config, evaluation
from ser_utils.app.cli import main
from ser_utils.deep.views import RowView, SpeakerNormalised, padding_frames, speaker_bin_means
from ser_utils.features.speaker_norm import normalise_features


def test_a_speakers_own_offset_and_scale_leave_the_normalised_features_unchanged():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(30, 4))
    speakers = np.repeat(["F01", "M01", "F02"], 10)
    normalised = normalise_features(features, speakers)
    for speaker in np.unique(speakers):
        rows = normalised[speakers == speaker]
        np.testing.assert_allclose(rows.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(rows.std(axis=0), 1)
    # a louder, higher-pitched M01: every feature shifted and stretched, for that speaker only
    shifted = features.copy()
    shifted[speakers == "M01"] = shifted[speakers == "M01"] * 3.0 + 40.0
    np.testing.assert_allclose(normalise_features(shifted, speakers), normalised)
    # a column constant within a speaker becomes 0 there, not NaN
    features[:10, 2] = 7.0
    assert np.all(normalise_features(features, speakers)[:10, 2] == 0)
    with pytest.raises(ValueError, match="29 speakers for 30 rows"):
        normalise_features(features, speakers[1:])


def _spectrograms_with_padding(rng, n: int) -> np.ndarray:
    """Log-mel-like (n, 6 bins, 20 frames) arrays whose last 5 frames are padding at the floor."""
    spectrograms = rng.normal(-40, 6, size=(n, 6, 20)).astype(np.float32)
    floor = spectrograms.min(axis=(1, 2), keepdims=True) - 10
    spectrograms[:, :, 15:] = np.broadcast_to(floor, (n, 6, 5))
    return spectrograms


def test_spectrograms_lose_their_speakers_mean_bin_level_over_speech_frames_only():
    rng = np.random.default_rng(1)
    spectrograms = _spectrograms_with_padding(rng, 8)
    speakers = np.repeat(["F01", "M01"], 4)
    assert padding_frames(spectrograms[0]).tolist() == [False] * 15 + [True] * 5
    means = speaker_bin_means(spectrograms, speakers, chunk=3)  # reads in blocks of 3 rows
    expected = spectrograms[:4, :, :15].transpose(1, 0, 2).reshape(6, -1).mean(axis=1)
    np.testing.assert_allclose(means["F01"][:, 0], expected, rtol=1e-5)

    normalised = SpeakerNormalised(spectrograms, speakers)
    assert normalised.shape == spectrograms.shape and len(normalised) == 8
    # M01 recorded 12 dB louder with a tilted spectrum: the same once normalised
    louder = spectrograms.copy()
    louder[4:, :, :15] += 12.0 + np.linspace(0, 3, 6)[None, :, None]
    speech = np.s_[:, :, :15]
    np.testing.assert_allclose(
        SpeakerNormalised(louder, speakers)[np.arange(8)][speech],
        normalised[np.arange(8)][speech],
        atol=1e-4,
    )
    # the training loop reads it through a fold's RowView, batch by batch
    view = RowView(normalised, [1, 5])
    np.testing.assert_allclose(
        view[np.array([0, 1])],
        spectrograms[[1, 5]] - np.stack([means["F01"], means["M01"]]),
        rtol=1e-6,
    )


def test_old_fusion_configs_without_the_setting_read_back_as_not_normalised():
    recipe = config.fusion_recipe("msp-improv", "smoke")
    assert recipe.fusion.speaker_norm is True
    data = recipe.to_dict()
    del data["fusion"]["speaker_norm"]
    assert config.Recipe.from_dict(data).fusion.speaker_norm is False
    assert set(evaluation.UNLABELLED_SUBSETS) == set(evaluation.SUBSETS)


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


def test_ser_traditional_speaker_norm_takes_statistics_over_every_label(
    msp_root, msp_manifest, tmp_path, capsys, monkeypatch
):
    from ser_utils import features as feature_sets

    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    cache = tmp_path / "cache"
    arguments = [
        "traditional",
        "msp-improv",
        str(msp_root),
        "--protocol",
        "loso",
        "--features",
        "functionals",
        "--recipe",
        "improved",
        "--cache-dir",
        str(cache),
    ]
    assert main([*arguments, "--speaker-norm"]) == 0
    run = (
        tmp_path
        / "outputs"
        / "runs"
        / "msp-improv_rt-4class_functionals_loso_rbf_svm_improved_speaker-norm"
    )
    assert str(run) in capsys.readouterr().out
    run_config = json.loads((run / "config.json").read_text())
    assert run_config["speaker_norm"] is True

    # the same scores from the features normalised over every R+T recording (any label)
    recipe = config.improved_recipe("msp-improv", "smoke")
    every_label = evaluation.select_subset(msp_manifest, "rt")
    evaluated = evaluation.select_subset(msp_manifest, "rt-4class")
    assert len(every_label) > len(evaluated)  # the corpus has R+T recordings of other labels
    matrix = feature_sets.extract_features(
        every_label, "functionals", recipe=recipe, cache_dir=cache, progress=False
    )
    normalised = pd.DataFrame(
        normalise_features(matrix, every_label["speaker"]), index=every_label["utterance_id"]
    ).loc[evaluated["utterance_id"]]
    from ser_utils import traditional

    expected = traditional.nested_evaluation(
        normalised.to_numpy(),
        evaluated,
        model="rbf_svm",
        protocol=evaluation.make_protocol("loso", evaluated),
        grid="none",
        random_state=recipe.training.seed,
        progress=False,
    )
    metrics = json.loads((run / "metrics.json").read_text())
    np.testing.assert_allclose(
        [f["ua"] for f in metrics["folds"]], [fold.ua for fold in expected.folds]
    )
    # without the flag, other scores
    assert main(arguments) == 0
    plain = json.loads(
        (
            tmp_path
            / "outputs"
            / "runs"
            / "msp-improv_rt-4class_functionals_loso_rbf_svm_improved"
            / "metrics.json"
        ).read_text()
    )
    assert [f["ua"] for f in plain["folds"]] != [f["ua"] for f in metrics["folds"]]
