"""The original's 34 frame features (ser_utils.features.frames), equal to librosa's four calls."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from ser_utils import audio, config, features

TOLERANCE = 1e-4  # the original's float32 numbers, up to rounding


def original_frame_features(y: np.ndarray, sr: int, hop: int) -> np.ndarray:
    """The original study's four plain librosa calls, stacked to (frames, 34)."""
    return np.vstack(
        [
            librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=hop),
            librosa.feature.chroma_stft(y=y, sr=sr, hop_length=hop),
            librosa.feature.rms(y=y, hop_length=hop),
            librosa.feature.zero_crossing_rate(y, hop_length=hop),
        ]
    ).T


@pytest.fixture(scope="module")
def msp_original_clip(msp_manifest) -> tuple[np.ndarray, int]:
    """An R recording through the full original chain: trimmed, padded to 338 368 samples, denoised."""
    path = msp_manifest.loc[msp_manifest["recording_type"] == "R", "path"].iloc[0]
    return audio.load_and_preprocess(path, config.original_recipe("msp-improv", "full").audio)


@pytest.fixture(scope="module")
def tess_original_clip(tess_manifest) -> tuple[np.ndarray, int]:
    return audio.load_and_preprocess(
        tess_manifest["path"].iloc[0], config.original_recipe("tess", "full").audio
    )


# ------------------------------------------------------------------------- frames
def test_frame_counts_of_the_original_clips_follow_from_the_config_constants():
    assert (
        features.n_frames(
            config.MSP_IMPROV_ORIGINAL_LENGTH, hop_length=config.MSP_IMPROV_ORIGINAL_HOP
        )
        == 623
    )
    assert (
        features.n_frames(config.TESS_ORIGINAL_LENGTH, hop_length=config.TESS_ORIGINAL_HOP) == 239
    )


def test_frame_features_of_a_padded_msp_clip_equal_the_four_librosa_calls(msp_original_clip):
    samples, sr = msp_original_clip
    hop = config.MSP_IMPROV_ORIGINAL_HOP
    assert samples.shape == (config.MSP_IMPROV_ORIGINAL_LENGTH,)
    active = features.n_active_frames(samples, hop_length=hop)
    assert 0 < active < 623  # the clip is padded, so the fast path skips frames
    frames = features.frame_features(samples, sr, config=config.FrameFeatureConfig(hop_length=hop))
    expected = original_frame_features(samples, sr, hop)
    assert frames.shape == expected.shape == (623, 34)
    assert frames.dtype == np.float32
    assert np.max(np.abs(frames - expected)) <= TOLERANCE
    # the padding frames hold librosa's silent-frame values: zero RMS, ZCR and chroma
    assert np.all(frames[active:, 32:] == 0) and np.all(frames[active:, 20:32] == 0)


def test_frame_features_of_a_tess_clip_equal_the_four_librosa_calls(tess_original_clip):
    samples, sr = tess_original_clip
    assert (samples.shape, sr) == ((config.TESS_ORIGINAL_LENGTH,), config.TESS_ORIGINAL_SAMPLE_RATE)
    frames = features.frame_features(samples, sr, config=config.original_recipe("tess").features)
    expected = original_frame_features(samples, sr, config.TESS_ORIGINAL_HOP)
    assert frames.shape == (239, 34)
    assert np.max(np.abs(frames - expected)) <= TOLERANCE


def test_frame_features_of_an_unpadded_clip_equal_the_four_librosa_calls(msp_manifest):
    samples, sr = audio.read_audio(msp_manifest["path"].iloc[1])
    samples = audio.scale_like_original(samples)
    assert samples[-1] != 0  # no padding: every frame is computed
    hop = config.MSP_IMPROV_ORIGINAL_HOP
    frames = features.frame_features(samples, sr, config=config.FrameFeatureConfig(hop_length=hop))
    expected = original_frame_features(samples, sr, hop)
    assert frames.shape == (features.n_frames(len(samples), hop_length=hop), 34)
    assert np.max(np.abs(frames - expected)) <= TOLERANCE


def test_flatten_is_feature_major_by_default_and_frame_major_as_the_original(msp_original_clip):
    samples, sr = msp_original_clip
    frames = features.frame_features(samples, sr)
    flat = features.frame_features(samples, sr, flatten=True)
    assert flat.shape == (623 * 34,)
    np.testing.assert_array_equal(flat, frames.T.reshape(-1))
    names = features.feature_names("frames", n_samples=len(samples))
    assert len(names) == flat.size and names[0] == "mfcc_01@0" and names[623] == "mfcc_02@0"
    frame_major = config.FrameFeatureConfig(flatten_order="frame")
    flat = features.frame_features(samples, sr, config=frame_major, flatten=True)
    # the original: np.swapaxes of each (1, n, frames) feature, concatenated, reshaped per clip
    np.testing.assert_array_equal(flat, np.swapaxes(frames.T[np.newaxis], 1, 2).reshape(1, -1)[0])
    names = features.feature_names("frames", config=frame_major, n_samples=len(samples))
    assert names[:2] == ["mfcc_01@0", "mfcc_02@0"] and names[34] == "mfcc_01@1"
    with pytest.raises(ValueError, match="unknown flatten order 'time'"):
        features.flatten_frames(frames, order="time")


def test_the_rate_in_the_config_is_the_one_mfcc_and_chroma_are_told(msp_original_clip):
    samples, sr = (
        msp_original_clip  # 44.1 kHz audio, told 22 050 Hz as the original's evaluation did
    )
    hop = config.MSP_IMPROV_ORIGINAL_HOP
    told = config.FrameFeatureConfig(hop_length=hop, sr=config.ORIGINAL_EVALUATION_FEATURE_SR)
    frames = features.frame_features(samples, sr, config=told)
    assert np.max(np.abs(frames - original_frame_features(samples, 22_050, hop))) <= TOLERANCE
    assert np.max(np.abs(frames - original_frame_features(samples, sr, hop))) > 1.0
