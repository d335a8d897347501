"""Reading any wav (ser_utils.audio.reading): widths, channels, and every file that cannot be used, named."""

from __future__ import annotations

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
