"""`ser predict`: windows like training, any rate or channel count, one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import audio, config
from ser_utils.deep.prediction import audio_windows, predict_files
from tests.helpers import write_tone


@pytest.fixture(scope="module")
def bundle(bundle_dir):
    from ser_utils.deep.bundles import load_bundle

    return load_bundle(bundle_dir)


def _speech(msp_manifest):
    return msp_manifest["path"].iloc[0]


def test_a_short_clip_is_one_window_preprocessed_exactly_like_training(msp_manifest):
    recipe = config.original_recipe("msp-improv", "smoke")
    samples, sr = audio.read_audio(_speech(msp_manifest))
    windows, spans, out_sr = audio_windows(samples, sr, recipe.audio)
    expected, _ = audio.preprocess(samples, sr, recipe.audio)
    assert len(windows) == 1 and out_sr == sr
    np.testing.assert_array_equal(windows[0], expected)


def test_a_long_clip_is_cut_into_half_overlapping_windows_covering_it():
    recipe = config.improved_recipe("msp-improv", "smoke")  # 2 s windows at 16 kHz
    rng = np.random.default_rng(0)
    samples = (
        0.3
        * np.sin(2 * np.pi * 180 * np.arange(7 * 16_000) / 16_000)
        * (1 + 0.1 * rng.standard_normal(7 * 16_000))
    ).astype(np.float32)
    windows, spans, sr = audio_windows(samples, 16_000, recipe.audio)
    length = recipe.audio.target_length
    assert all(w.shape == (length,) for w in windows)
    assert spans[0][0] == 0 and spans[-1][1] == len(samples)  # nothing trimmed from a tone
    assert [s for s, _ in spans] == list(range(0, len(samples) - length + 1, length // 2))
    assert len(windows) == 6


def test_predict_files_averages_window_probabilities(bundle, tmp_path):
    path = write_tone(tmp_path / "long.wav", seconds=5.0, sr=22_050)
    per_file = predict_files(bundle, [path])
    per_window = predict_files(bundle, [path], per_window=True)
    labels = list(config.FOUR_CLASSES)
    assert per_file.loc[0, "n_windows"] == len(per_window) >= 4
    np.testing.assert_allclose(
        per_file[labels].to_numpy()[0], per_window[labels].mean().to_numpy(), atol=2e-4
    )
    assert per_file.loc[0, "label"] == labels[int(np.argmax(per_file[labels].to_numpy()[0]))]
    np.testing.assert_allclose(per_window[labels].sum(axis=1), 1.0, atol=1e-3)


@pytest.mark.parametrize("sr, channels", [(8_000, 1), (96_000, 1), (44_100, 2)])
def test_predict_accepts_any_rate_and_stereo(bundle, tmp_path, sr, channels):
    path = write_tone(tmp_path / f"clip_{sr}_{channels}.wav", seconds=1.5, sr=sr, channels=channels)
    table = predict_files(bundle, [path])
    assert table.loc[0, "label"] in config.FOUR_CLASSES and table.loc[0, "n_windows"] == 1
