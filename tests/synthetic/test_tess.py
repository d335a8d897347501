"""The synthetic TESS (ser_utils.synthetic.tess): the Kaggle tree, rates, durations, learnable emotions."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from ser_utils import synthetic
from ser_utils.config import (
    TESS_LABELS,
)
from tests.helpers import grouped_balanced_accuracy, wavs

TESS_NESTING = ("tess toronto emotional speech set data", "TESS Toronto emotional speech set data")


TESS_FOLDERS = {
    "OAF_angry",
    "OAF_disgust",
    "OAF_Fear",
    "OAF_happy",
    "OAF_neutral",
    "OAF_Pleasant_surprise",
    "OAF_Sad",
    "YAF_angry",
    "YAF_disgust",
    "YAF_fear",
    "YAF_happy",
    "YAF_neutral",
    "YAF_pleasant_surprised",
    "YAF_sad",
}


TESS_NAME = re.compile(r"^(OAF|YAF)_([a-z]+)_(angry|disgust|fear|happy|neutral|ps|sad)\.wav$")


def mean_mfcc(path: Path, *, trim: bool) -> np.ndarray:
    samples, sample_rate = sf.read(path, dtype="float32")
    if trim:
        samples, _ = librosa.effects.trim(samples, top_db=25, frame_length=256, hop_length=64)
    return librosa.feature.mfcc(y=samples, sr=sample_rate, n_mfcc=20).mean(axis=1)


@pytest.fixture(scope="module")
def tess_mini(tmp_path_factory) -> Path:
    return synthetic.make_tess(tmp_path_factory.mktemp("data") / "TESS", size="mini", seed=0)


# ------------------------------------------------------------------------------ TESS
def test_tess_mini_has_the_kaggle_tree_and_names(tess_mini):
    files = wavs(tess_mini)
    assert len(files) == 140
    inner = tess_mini.joinpath(*TESS_NESTING)
    assert {p.name for p in inner.iterdir() if p.is_dir()} == TESS_FOLDERS
    for path in files:
        assert path.parent.parent == inner, path
        match = TESS_NAME.match(path.name)
        assert match, path.name
        speaker, _, emotion = match.groups()
        assert path.parent.name.startswith(speaker + "_")
        assert synthetic.TESS_FOLDERS[speaker, emotion] == path.parent.name
    suffixes = Counter(TESS_NAME.match(p.name).group(3) for p in files)
    assert suffixes == {emotion: 20 for emotion in TESS_LABELS}
    assert Counter(p.name[:3] for p in files) == {"OAF": 70, "YAF": 70}
    assert "food" in {TESS_NAME.match(p.name).group(2) for p in files}


def test_tess_audio_rates_and_durations(tess_mini):
    durations = []
    for path in wavs(tess_mini):
        info = sf.info(path)
        assert (info.channels, info.subtype, info.format) == (1, "PCM_16", "WAV")
        expected = 96_000 if path.name == "OAF_food_fear.wav" else 24_414
        assert info.samplerate == expected, path.name
        assert 1.25 <= info.duration <= 2.98, (path.name, info.duration)
        durations.append(info.duration)
    assert 1.8 < np.mean(durations) < 2.3


def test_tess_has_macos_junk(tess_mini):
    junk = list((tess_mini / "__MACOSX").joinpath(*TESS_NESTING).rglob("._*.wav"))
    assert 3 <= len(junk) <= 20
    assert (tess_mini / "__MACOSX").joinpath(
        *TESS_NESTING, "OAF_angry", "._OAF_back_angry.wav"
    ) in junk
    for path in junk:
        data = path.read_bytes()
        assert 0 < len(data) < 4096 and not data.startswith(b"RIFF")
    assert len(list(tess_mini.rglob(".DS_Store"))) == 1


def test_tess_word_lists():
    assert len(synthetic.TESS_WORDS) == len(set(synthetic.TESS_WORDS)) == 200
    assert len(synthetic.TESS_MINI_WORDS) == 10
    assert {"food", "back"} <= set(synthetic.TESS_MINI_WORDS) <= set(synthetic.TESS_WORDS)


def test_tess_prosody_follows_speaker_and_emotion(tess_mini):
    pitch, brightness = {}, {}
    for path in wavs(tess_mini):
        speaker, word, emotion = path.stem.split("_")
        if path.name == "OAF_food_fear.wav" or emotion not in ("angry", "happy", "neutral", "sad"):
            continue
        samples, sample_rate = sf.read(path, dtype="float32")
        f0 = librosa.yin(
            samples, fmin=70, fmax=700, sr=sample_rate, frame_length=1024, hop_length=256
        )
        rms = librosa.feature.rms(y=samples, frame_length=1024, hop_length=256)[0]
        centroid = librosa.feature.spectral_centroid(
            y=samples, sr=sample_rate, n_fft=1024, hop_length=256
        )[0]
        voiced = rms > 0.1 * rms.max()
        pitch.setdefault((speaker, emotion), []).append(np.median(f0[voiced]))
        brightness.setdefault((speaker, emotion), []).append(np.median(centroid[voiced]))
    pitch = {key: np.median(values) for key, values in pitch.items()}
    brightness = {key: np.median(values) for key, values in brightness.items()}
    assert pitch["OAF", "neutral"] < pitch["YAF", "neutral"]  # the older speaker's voice is lower
    for speaker in ("OAF", "YAF"):
        assert (
            pitch[speaker, "sad"]
            < pitch[speaker, "neutral"]
            < min(pitch[speaker, "angry"], pitch[speaker, "happy"])
        )
        assert (
            brightness[speaker, "sad"]
            < brightness[speaker, "neutral"]
            < brightness[speaker, "angry"]
        )


def test_tess_emotions_are_learnable_across_speakers(tess_mini):
    files = wavs(tess_mini)
    features = np.array([mean_mfcc(p, trim=False) for p in files])
    labels = np.array([TESS_NAME.match(p.name).group(3) for p in files])
    speakers = np.array([p.name[:3] for p in files])
    for speaker in ("OAF", "YAF"):  # per-speaker normalisation: only two speakers to learn from
        rows = speakers == speaker
        features[rows] = (features[rows] - features[rows].mean(axis=0)) / features[rows].std(axis=0)
    score = grouped_balanced_accuracy(features, labels, speakers)
    print(f"TESS mini, 7 classes, leave-one-speaker-out balanced accuracy: {score:.3f}")
    assert 0.35 < score < 0.95
