"""Reading any wav (ser_utils.audio.reading): widths, channels, and every file that cannot be used, named."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from ser_utils import audio
from ser_utils.errors import AudioError
from tests.helpers import write_tone


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_read_audio_any_pcm_or_float_width(tmp_path, subtype):
    path = write_tone(tmp_path / "tone.wav", subtype=subtype, sr=8_000)
    samples, sr = audio.read_audio(path)
    assert sr == 8_000 and samples.dtype == np.float32 and samples.shape == (4_000,)
    expected = 0.5 * np.sin(2 * np.pi * 220 * np.arange(4_000) / 8_000)
    tolerance = {"PCM_U8": 1e-2}.get(subtype, 1e-4)
    np.testing.assert_allclose(samples, expected, atol=tolerance)


def test_read_audio_folds_stereo_to_mono_by_averaging(tmp_path):
    path = write_tone(tmp_path / "stereo.wav", channels=2, sr=96_000, subtype="FLOAT")
    samples, sr = audio.read_audio(path)
    left, _ = sf.read(str(path), dtype="float32")
    assert sr == 96_000 and samples.ndim == 1
    np.testing.assert_allclose(samples, left.mean(axis=1), atol=1e-7)


# ---------------------------------------------------------------------- error paths
def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match=r"missing\.wav: audio file not found"):
        audio.read_audio(tmp_path / "missing.wav")


def test_empty_wav_names_the_file(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0, dtype=np.float32), 16_000)
    with pytest.raises(AudioError, match=r"empty\.wav: the file holds no samples"):
        audio.read_audio(path)


def test_zero_byte_and_corrupt_files_name_the_file(tmp_path):
    (tmp_path / "zero.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    for name in ("zero.wav", "corrupt.wav"):
        with pytest.raises(AudioError, match=rf"{name}: cannot read audio .* replace the file"):
            audio.read_audio(tmp_path / name)


def test_nan_samples_are_rejected(tmp_path):
    path = tmp_path / "nan.wav"
    sf.write(str(path), np.array([0.1, np.nan, 0.2], dtype=np.float32), 16_000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite"):
        audio.read_audio(path)


def _header_rate(path, rate: int):
    data = bytearray(path.read_bytes())
    data[24:32] = rate.to_bytes(4, "little") + (2 * rate).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: _header_rate(write_tone(tmp / "a.wav"), 1), r"sample rate of 1 Hz, outside"),
        (lambda tmp: _header_rate(write_tone(tmp / "a.wav"), 999), r"sample rate of 999 Hz"),
        (lambda tmp: _header_rate(write_tone(tmp / "a.wav"), 400_000), r"of 400000 Hz"),
        (
            lambda tmp: os.mkfifo(tmp / "pipe.wav") or tmp / "pipe.wav",
            r"pipe.wav: a named pipe \(FIFO\), not a regular file",
        ),
    ],
    ids=["1_hz", "999_hz", "400_khz", "fifo"],
)
def test_read_audio_refuses_before_decoding(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(AudioError, match=message):
        audio.read_audio(path)
    assert audio.file_problem(path) is not None


def test_the_rate_limits_themselves_are_accepted(tmp_path):
    for rate in (1_000, 384_000):
        path = _header_rate(write_tone(tmp_path / f"{rate}.wav"), rate)
        assert audio.file_problem(path) is None and audio.read_audio(path)[1] == rate


@pytest.mark.parametrize(
    ("samples", "problems"),
    [
        (np.resize([0.3, -0.3], 160), ["shorter than one analysis frame (10 ms < 40 ms)"]),
        (np.full(16_000, 0.25), ["a constant (DC offset) with no sound"]),
        (np.resize([1, -1], 16_000) / 32768, ["near-silent (peak -90 dBFS)"]),
        (np.zeros(16_000), []),  # all zero: refused by the preprocessing, not warned here
        (0.5 * np.sin(np.arange(16_000) * 0.1), []),
    ],
    ids=["10_ms", "dc", "near_silent", "all_zero", "tone"],
)
def test_clip_problems_is_one_definition(samples, problems):
    assert audio.clip_problems(samples, 16_000, 0.040) == problems
