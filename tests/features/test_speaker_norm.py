"""Speaker normalisation of utterance features (ser_utils.features.speaker_norm)."""

from __future__ import annotations

import numpy as np
import pytest

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
