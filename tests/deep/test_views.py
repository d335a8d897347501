"""Lazy views of the arrays (ser_utils.deep.views)."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils.deep.views import (
    PackedFeatures,
    RowView,
    SpeakerNormalised,
    padding_frames,
    speaker_bin_means,
)


def _spectrograms_with_padding(rng, n: int) -> np.ndarray:
    """Log-mel-like (n, 6 bins, 20 frames) arrays whose last 5 frames are padding at the floor."""
    spectrograms = rng.normal(-40, 6, size=(n, 6, 20)).astype(np.float32)
    floor = spectrograms.min(axis=(1, 2), keepdims=True) - 10
    spectrograms[:, :, 15:] = np.broadcast_to(floor, (n, 6, 5))
    return spectrograms


def test_row_view_reads_only_the_chosen_rows():
    base = np.arange(30).reshape(10, 3)
    view = RowView(base, [1, 4, 7])
    assert len(view) == 3 and view.shape == (3, 3)
    np.testing.assert_array_equal(view[np.array([0, 2])], base[[1, 7]])


def test_packed_features_reach_the_features_branch_unchanged():
    models = pytest.importorskip("ser_utils.deep.models", reason="the model needs Keras")
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
