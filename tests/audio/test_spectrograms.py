"""The seed log-power spectrogram against its definition, and the log-mel input."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config
from ser_utils.audio.spectrograms import (
    log_mel_spectrogram,
    original_spectrogram,
    original_spectrogram_reference,
    spectrogram,
    spectrogram_shape,
)
from ser_utils.config import SpectrogramConfig


def definition_by_hand(samples: np.ndarray, sr: int) -> np.ndarray:
    """The original's definition (stage 3), one bin at a time (independent of the module's code)."""
    window, hop = int(0.04 * sr), int(0.02 * sr)
    samples = samples[: len(samples) - (len(samples) - window) % hop].astype(np.float64)
    w = np.hanning(window)
    scale = np.sum(w**2) * sr
    n_fft_bins = window // 2 + 1
    out = []
    for start in range(0, len(samples) - window + 1, hop):
        power = np.abs(np.fft.rfft(samples[start : start + window] * w)) ** 2
        column = []
        for k in range(n_fft_bins):
            if sr / window * k > 11_025:
                break
            factor = 1.0 / scale if k in (0, n_fft_bins - 1) else 2.0 / scale
            column.append(np.log(power[k] * factor + 1e-14))
        out.append(column)
    return np.array(out).T


def test_original_spectrogram_has_the_original_shape_for_the_original_clip_length():
    samples = (
        np.random.default_rng(0)
        .standard_normal(config.MSP_IMPROV_ORIGINAL_LENGTH)
        .astype(np.float32)
    )
    image = original_spectrogram(samples, config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE)
    assert image.shape == config.ORIGINAL_SPECTROGRAM_SHAPE == (442, 382)
    assert image.dtype == np.float32


def test_original_spectrogram_assumes_44_1_khz_whatever_the_files_rate():
    # The original's function had sample_rate=44100 as a default and was never passed the rate:
    # a 48 kHz clip still gets a 1764-sample window and an 882-sample hop.
    samples = (
        np.random.default_rng(1)
        .standard_normal(config.MSP_IMPROV_ORIGINAL_LENGTH)
        .astype(np.float32)
    )
    seed = SpectrogramConfig(kind="original")
    at_48k = spectrogram(samples, 48_000, seed)
    assert (
        at_48k.shape == spectrogram_shape(len(samples), 48_000, seed) == (442, 382)
    )  # not (442, 351)
    np.testing.assert_array_equal(at_48k, spectrogram(samples, 44_100, seed))
    np.testing.assert_array_equal(at_48k, original_spectrogram(samples, 44_100))


def test_original_spectrogram_equals_the_loop_reference_on_random_input():
    rng = np.random.default_rng(1)
    # x1000-scaled noise with a silent stretch: bins from the 1e-14 floor to loud, like padded clips.
    samples = (rng.standard_normal(config.MSP_IMPROV_ORIGINAL_LENGTH) * 1000).astype(np.float32)
    samples[250_000:] = 0.0
    fast = original_spectrogram(samples, config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE)
    reference = original_spectrogram_reference(samples, config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE)
    assert fast.shape == reference.shape == (442, 382)
    assert np.max(np.abs(fast - reference)) < 1e-5
    assert fast[:, -1].max() == pytest.approx(
        np.log(1e-14), abs=1e-3
    )  # the silent end sits on the floor


def test_original_spectrogram_matches_the_definition_bin_by_bin():
    samples = np.random.default_rng(2).uniform(-1, 1, 20_000).astype(np.float32)
    for sr in (
        44_100,
        16_000,
    ):  # at 16 kHz every bin is below 11 025 Hz, so the Nyquist bin is kept
        expected = definition_by_hand(samples, sr)
        assert np.max(np.abs(original_spectrogram(samples, sr) - expected)) < 1e-5
        assert original_spectrogram(samples, sr).shape == expected.shape


def test_original_spectrogram_of_a_pure_tone_peaks_at_its_frequency():
    sr = config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE
    tone = np.sin(2 * np.pi * 1000.0 * np.arange(sr) / sr).astype(np.float32)
    image = original_spectrogram(tone, sr)
    assert np.all(image.argmax(axis=0) == 40)  # 1000 Hz / (44 100 / 1764 Hz per bin) = bin 40


def test_smoke_clip_gives_the_smoke_shape():
    recipe = config.original_recipe("msp-improv", "smoke")
    shape = spectrogram_shape(
        recipe.audio.target_length, config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE, recipe.spectrogram
    )
    assert shape == (442, 99)


def test_log_mel_shape_and_dispatch():
    recipe = config.improved_recipe("msp-improv", "full")
    length = recipe.audio.target_length
    assert spectrogram_shape(length, recipe.audio.target_sr, recipe.spectrogram) == (64, 601)
    samples = np.random.default_rng(3).standard_normal(length).astype(np.float32) * 0.1
    image = spectrogram(samples, recipe.audio.target_sr, recipe.spectrogram)
    assert image.shape == (64, 601) and image.dtype == np.float32
    np.testing.assert_array_equal(
        image, log_mel_spectrogram(samples, recipe.audio.target_sr, config=recipe.spectrogram)
    )
    assert image.max() - image.min() <= 80.0 + 1e-3  # power_to_db keeps at most 80 dB


@pytest.mark.parametrize(
    "run, message",
    [
        (
            lambda: original_spectrogram(np.ones(1000, dtype=np.float32), 44_100),
            "fewer than one 1764-sample window",
        ),
        (lambda: original_spectrogram(np.ones((2, 5000), dtype=np.float32), 44_100), "mono signal"),
        (
            lambda: spectrogram_shape(1000, 16_000, SpectrogramConfig(kind="mfcc")),
            "unknown spectrogram kind",
        ),
    ],
    ids=["too short", "two channels", "unknown kind"],
)
def test_errors_say_what_was_expected(run, message):
    with pytest.raises(ValueError, match=message):
        run()
