"""Functionals of frame features (ser_utils.features.functionals)."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import audio, config, features


@pytest.fixture(scope="module")
def msp_original_clip(msp_manifest) -> tuple[np.ndarray, int]:
    """An R recording through the full original chain: trimmed, padded to 338 368 samples, denoised."""
    path = msp_manifest.loc[msp_manifest["recording_type"] == "R", "path"].iloc[0]
    return audio.load_and_preprocess(path, config.original_recipe("msp-improv", "full").audio)


# -------------------------------------------------------------------- functionals
def test_functionals_summarise_only_the_frames_before_the_padding(msp_original_clip):
    samples, sr = msp_original_clip
    frames = features.frame_features(samples, sr)
    active = features.n_active_frames(samples, hop_length=config.MSP_IMPROV_ORIGINAL_HOP)
    values = features.frame_functionals(frames)
    names = features.functional_names()
    assert values.shape == (34 * 9,) and len(names) == 34 * 9 == len(set(names))
    np.testing.assert_array_equal(values, features.frame_functionals(frames, n_valid=active))
    table = dict(zip(names, values))
    speech = frames[:active].astype(np.float64)
    assert table["mfcc_01_mean"] == pytest.approx(speech[:, 0].mean(), rel=1e-5)
    assert table["rms_min"] == pytest.approx(speech[:, 32].min(), rel=1e-5)
    assert table["zcr_delta_mean"] == pytest.approx(np.diff(speech[:, 33]).mean(), abs=1e-7)
    assert table["chroma_A_max"] <= 1.0
