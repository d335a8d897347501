"""The preprocessing chain (ser_utils.audio.preprocessing), step by step against the original's calls."""

from __future__ import annotations

import dataclasses

import librosa
import noisereduce
import numpy as np
import pytest
import soundfile as sf

from ser_utils import audio, config
from ser_utils.config import AudioConfig
from ser_utils.errors import AudioError


def test_original_scaling_is_int16_times_1000_over_32768(tmp_path, msp_manifest):
    path = msp_manifest["path"].iloc[0]
    samples, _ = audio.read_audio(path)
    as_int16, _ = sf.read(path, dtype="int16")
    np.testing.assert_allclose(
        audio.scale_like_original(samples),
        as_int16.astype(np.float64) * 1000 / 32768,
        rtol=1e-6,
        atol=1e-6,
    )


def test_peak_normalise_and_pad_or_crop():
    x = np.array([0.1, -0.4, 0.2], dtype=np.float32)
    np.testing.assert_allclose(audio.peak_normalise(x), [0.25, -1.0, 0.5])
    np.testing.assert_array_equal(
        audio.pad_or_crop(x, 5), np.array([0.1, -0.4, 0.2, 0, 0], np.float32)
    )
    np.testing.assert_array_equal(audio.pad_or_crop(x, 2), np.array([0.1, -0.4], np.float32))
    with pytest.raises(ValueError, match="length must be positive"):
        audio.pad_or_crop(x, 0)


def test_trim_removes_synthetic_leading_and_trailing_silence(msp_manifest):
    samples, sr = audio.read_audio(msp_manifest["path"].iloc[0])
    trimmed = audio.trim_silence(samples, top_db=25, frame_length=256, hop_length=64)
    reference, _ = librosa.effects.trim(samples, top_db=25, frame_length=256, hop_length=64)
    np.testing.assert_array_equal(trimmed, reference)
    assert len(trimmed) < len(samples) - 0.2 * sr


def test_original_chain_for_msp_improv_equals_the_original_calls_step_by_step(msp_manifest):
    recipe = config.original_recipe("msp-improv", "full")
    path = msp_manifest["path"].iloc[3]
    samples, sr = audio.read_audio(path)
    as_int16, _ = sf.read(path, dtype="int16")
    scaled = (as_int16.astype(np.float64) * 1000 / 32768).astype(
        np.float32
    )  # int16 x 1000 would overflow
    trimmed, _ = librosa.effects.trim(scaled, top_db=25, frame_length=256, hop_length=64)
    padded = librosa.util.fix_length(trimmed, size=config.MSP_IMPROV_ORIGINAL_LENGTH)
    expected = noisereduce.reduce_noise(y=padded, sr=sr)
    out, out_sr = audio.preprocess(samples, sr, recipe.audio)
    assert out_sr == sr == 44_100 and out.shape == (338_368,) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)


def test_original_chain_for_tess_resamples_to_22050_and_pads_to_the_longest_clip(tess_manifest):
    recipe = config.original_recipe("tess", "full")
    row = tess_manifest.set_index("utterance_id").loc["OAF_food_fear"]  # the 96 kHz file
    samples, sr = audio.read_audio(row["path"])
    scaled = samples * 1000
    resampled = librosa.resample(scaled, orig_sr=sr, target_sr=22_050, res_type="soxr_hq")
    expected = noisereduce.reduce_noise(
        y=librosa.util.fix_length(resampled, size=145_180), sr=22_050
    )
    out, out_sr = audio.preprocess(samples, sr, recipe.audio)
    assert out_sr == 22_050 and out.shape == (145_180,)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)


def test_first_notebook_chain_resamples_from_the_stale_rate_and_denoises_at_the_files(
    tess_manifest,
):
    chain = dataclasses.replace(
        config.original_recipe("tess", "smoke").audio,
        resample_from=config.ORIGINAL_STALE_SAMPLE_RATE,
        denoise_rate="file",
    )
    row = tess_manifest.set_index("utterance_id").loc["OAF_food_fear"]  # the 96 kHz file
    samples, sr = audio.read_audio(row["path"])
    steps = audio.preprocess_steps(samples, sr, chain)
    resampled, resampled_sr = steps["resampled"]
    assert sr == 96_000 and resampled_sr == 22_050
    # told 24 414 Hz: the 96 kHz clip keeps 22 050 / 24 414 of its samples, not 22 050 / 96 000
    assert len(resampled) == pytest.approx(len(samples) * 22_050 / 24_414, abs=1)
    expected = noisereduce.reduce_noise(
        y=librosa.util.fix_length(
            librosa.resample(samples * 1000, orig_sr=24_414, target_sr=22_050, res_type="soxr_hq"),
            size=config.SMOKE_TESS_LENGTH,
        ),
        sr=96_000,
    )
    out, out_sr = steps["denoised"]
    assert out_sr == 22_050
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)
    told_22050 = noisereduce.reduce_noise(y=steps["padded"][0], sr=22_050)
    assert np.abs(out - told_22050).max() > 1e-2  # the rate noise reduction is told matters


@pytest.mark.parametrize("denoise", [False, True])
def test_improved_chain_resamples_to_16k_and_denoises_before_padding(msp_manifest, denoise):
    chain = dataclasses.replace(config.improved_recipe("msp-improv", "full").audio, denoise=denoise)
    samples, sr = audio.read_audio(msp_manifest["path"].iloc[0])
    steps = audio.preprocess_steps(samples, sr, chain)
    out, out_sr = steps["padded"]
    # the improved chain keeps the recorded level: no scaling step
    assert list(steps) == ["raw", "resampled", "trimmed"] + ["denoised"] * denoise + ["padded"]
    assert out_sr == 16_000 and out.shape == (int(config.IMPROVED_LENGTH_SECONDS * 16_000),)
    assert np.all(out[len(steps["trimmed"][0]) :] == 0)  # the padding stays exact zeros
    assert np.max(np.abs(steps["trimmed"][0])) == pytest.approx(np.max(np.abs(samples)), rel=0.05)


def test_unknown_scaling_is_rejected():
    with pytest.raises(ValueError, match="unknown scaling 'loud'"):
        audio.preprocess(np.ones(10, np.float32), 16_000, AudioConfig(scaling="loud"))


def test_silent_file_fails_preprocessing_with_its_name(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(str(path), np.zeros(16_000, dtype=np.float32), 16_000, subtype="PCM_16")
    with pytest.raises(AudioError, match=r"silent\.wav: the clip is silent"):
        audio.load_and_preprocess(path, config.original_recipe("msp-improv").audio)


def test_trimming_that_leaves_nothing_is_an_error():
    with pytest.raises(AudioError, match="silent"):
        audio.trim_silence(np.zeros(100, np.float32))
