"""The original's traditional runs, re-expressed cell by cell with plain librosa, noisereduce and
scikit-learn calls, against the package's features and ``run_traditional`` on a tiny corpus
(ser_utils.traditional.evaluate.as_original_ran): the rates each run handed to librosa, and the
frame-by-frame flattening."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import librosa
import noisereduce
import numpy as np
import pytest
import soundfile as sf
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from ser_utils import config, experiments, features, traditional
from ser_utils.corpora import load_msp_improv, load_tess, select_subset, windows_walk
from ser_utils.deep.arrays import generate_arrays

TOLERANCE = 1e-4
MSP_LENGTH = 30_000  # shorter than any profile's clips: the test stays fast
TESS_LENGTH = 24_000
EMOTIONS = {"A": 0, "H": 1, "S": 2, "N": 3}


def original_recipe(corpus: str) -> config.Recipe:
    """The original recipe of ``corpus`` with short clips."""
    recipe = config.original_recipe(corpus, "smoke")
    length = TESS_LENGTH if corpus == "tess" else MSP_LENGTH
    return dataclasses.replace(
        recipe, audio=dataclasses.replace(recipe.audio, target_length=length)
    )


def _voice(rng, sr: int, seconds: float, emotion: int) -> np.ndarray:
    """A harmonic tone between two silences, with a little noise: something to trim and denoise."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = 140.0 * (1 + 0.25 * emotion) * rng.uniform(0.95, 1.05)
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3))
    tone *= (0.2 + 0.1 * emotion) * np.hanning(t.size)
    silence = np.zeros(int(0.15 * sr))
    clip = np.concatenate([silence, tone, silence])
    return (clip + 0.003 * rng.standard_normal(clip.size)).astype(np.float32)


@pytest.fixture(scope="module")
def tiny_tess(tmp_path_factory) -> Path:
    """Four TESS files at 24 414 Hz and the one 96 kHz file of the real corpus."""
    root = tmp_path_factory.mktemp("tess") / "TESS"
    rng = np.random.default_rng(1)
    names = [
        ("OAF_angry", "OAF_back_angry", 24_414),
        ("OAF_Fear", "OAF_food_fear", 96_000),
        ("YAF_sad", "YAF_back_sad", 24_414),
        ("YAF_happy", "YAF_back_happy", 24_414),
    ]
    for i, (folder, name, sr) in enumerate(names):
        (root / folder).mkdir(parents=True)
        sf.write(root / folder / f"{name}.wav", _voice(rng, sr, 0.6, i), sr, subtype="PCM_16")
    return root


@pytest.fixture(scope="module")
def tiny_msp(tmp_path_factory) -> Path:
    """16 R and T files of MSP-IMPROV at 44.1 kHz in two sessions, two of them 'X', one 'O'."""
    root = tmp_path_factory.mktemp("msp") / "MSP-IMPROV"
    rng = np.random.default_rng(2)
    blocks = []
    for session in (1, 2):
        for letter, emotion in EMOTIONS.items():
            for gender in "FM":
                for kind in ("R" if gender == "F" else "T",):
                    stem = f"S{session:02d}{letter}-{gender}{session:02d}-{kind}-{gender}F01"
                    folder = root / f"session{session}" / f"S{session:02d}{letter}" / kind
                    folder.mkdir(parents=True, exist_ok=True)
                    clip = _voice(rng, 44_100, rng.uniform(0.3, 0.5), emotion)
                    sf.write(folder / f"MSP-IMPROV-{stem}.wav", clip, 44_100, subtype="PCM_16")
                    consensus = {(1, "H", "M", "T"): "X", (2, "S", "F", "R"): "X"}.get(
                        (session, letter, gender, kind),
                        "O" if (session, letter, gender, kind) == (2, "A", "M", "T") else letter,
                    )
                    blocks.append(
                        f"UTD-IMPROV-{stem}.avi; {consensus}; A:3.0; V:3.0; D:3.0 ; N:3.0;\n"
                        "RATER001; Neutral; ; A:3.0; V:3.0; D:3.0; N:3.0;"
                    )
    (root / "Evaluation.txt").write_text("\n\n".join(blocks) + "\n")
    return root


# ----------------------------------------------- the original's cells, in plain calls
def _read_like_original(path) -> tuple[np.ndarray, int]:
    """``librosa.load(path, sr=None)`` for the rate; the int16 samples × 1000 / 32768."""
    samples, sr = sf.read(path, dtype="int16")
    return samples.astype(np.float32) * 1000 / 32768, sr


def _pad(y: np.ndarray, length: int) -> np.ndarray:
    return np.pad(y, (0, max(0, length - len(y))))[:length]


def _original_frames(y: np.ndarray, sr: int, hop: int) -> np.ndarray:
    """Its four feature calls, each ``swapaxes``-ed to (frames, n), concatenated, frame-major."""
    stacked = np.concatenate(
        [
            np.swapaxes(f[np.newaxis], 1, 2)
            for f in (
                librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=hop),
                librosa.feature.chroma_stft(y=y, sr=sr, hop_length=hop),
                librosa.feature.rms(y=y, hop_length=hop),
                librosa.feature.zero_crossing_rate(y, hop_length=hop),
            )
        ],
        axis=2,
    )
    return stacked.reshape(len(stacked), -1)[0]


def original_first_notebook_tess(paths) -> np.ndarray:
    """Resampled from the stale 24 414 Hz, padded, denoised at the file's rate; sr=24 414 features."""
    rows = []
    for path in paths:
        y, file_sr = _read_like_original(path)
        y = librosa.resample(y, orig_sr=24_414, target_sr=22_050)
        y = noisereduce.reduce_noise(y=_pad(y, TESS_LENGTH), sr=file_sr)
        rows.append(_original_frames(y, 24_414, 610))
    return np.stack(rows)


def original_first_notebook_msp(
    paths, *, trim: bool = True, length: int = MSP_LENGTH
) -> np.ndarray:
    """Resampled from the stale 24 414 Hz, trimmed, padded, denoised and featured at 44 100 Hz."""
    rows = []
    for path in paths:
        y, file_sr = _read_like_original(path)
        y = librosa.resample(y, orig_sr=24_414, target_sr=22_050)
        if trim:
            y, _ = librosa.effects.trim(y, top_db=25, frame_length=256, hop_length=64)
        y = noisereduce.reduce_noise(y=_pad(y, length), sr=file_sr)
        rows.append(_original_frames(y, file_sr, 544 if trim else 873))
    return np.stack(rows)


def original_audios(paths) -> np.ndarray:
    """The data-generate notebook's ``audios.npy``: native rate, trimmed, padded, denoised."""
    rows = []
    for path in paths:
        y, file_sr = _read_like_original(path)
        y, _ = librosa.effects.trim(y, top_db=25, frame_length=256, hop_length=64)
        rows.append(noisereduce.reduce_noise(y=_pad(y, MSP_LENGTH), sr=file_sr))
    return np.stack(rows).astype(np.float32)


def original_evaluation(audios: np.ndarray, labels: np.ndarray, random_state: int):
    """The evaluation notebook: sr=22050 features of the arrays, 'other' and 'X' masked, SVC."""
    X = np.stack([_original_frames(y, 22_050, 544) for y in audios])
    keep = ~((labels == "other") | (labels == "X"))
    X, Y = X[keep], labels[keep]
    X_train, X_test, y_train, y_test = train_test_split(X, Y, random_state=random_state)
    predicted = SVC(C=10, gamma="scale", kernel="rbf").fit(X_train, y_train).predict(X_test)
    return X, accuracy_score(y_test, predicted), balanced_accuracy_score(y_test, predicted)


def _rt_paths(root: Path) -> list[Path]:
    """R and T files in the original's walk order."""
    return [p for p in windows_walk(root) if p.suffix == ".wav" and p.parent.name in "RT"]


# ------------------------------------------------------------------------ the checks
def test_first_notebook_tess_features_are_the_original_cells(tiny_tess, tmp_path):
    manifest = load_tess(tiny_tess)
    recipe = traditional.as_original_ran(original_recipe("tess"), "first")
    X = features.extract_features(
        manifest, "frames", recipe=recipe, n_jobs=1, progress=False, cache_dir=tmp_path
    )
    expected = original_first_notebook_tess(manifest["path"])
    assert X.shape == expected.shape == (4, 34 * features.n_frames(TESS_LENGTH, hop_length=610))
    np.testing.assert_allclose(X, expected, atol=TOLERANCE, rtol=0)
    # the true rates (what the chain computed before) are not what the original computed
    correct = features.extract_features(
        manifest,
        "frames",
        recipe=original_recipe("tess"),
        n_jobs=1,
        progress=False,
        cache_dir=tmp_path,
    )
    assert np.abs(correct - expected).max() > 1.0


def test_first_notebook_msp_features_are_the_original_cells(tiny_msp, tmp_path):
    paths = _rt_paths(tiny_msp)[:6]
    recipe = traditional.as_original_ran(original_recipe("msp-improv"), "first")
    X = features.extract_features(
        [str(p) for p in paths], "frames", recipe=recipe, n_jobs=1, progress=False,
        cache_dir=tmp_path,
    )  # fmt: skip
    np.testing.assert_allclose(X, original_first_notebook_msp(paths), atol=TOLERANCE, rtol=0)
    untrimmed = traditional.untrimmed_recipe(recipe, load_msp_improv(tiny_msp))
    assert untrimmed.features.hop_length == 873
    X = features.extract_features(
        [str(p) for p in paths[:2]], "frames", recipe=untrimmed, n_jobs=1, progress=False,
        cache_dir=tmp_path,
    )  # fmt: skip
    np.testing.assert_allclose(
        X, original_first_notebook_msp(paths[:2], trim=False), atol=TOLERANCE, rtol=0
    )


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_evaluation_notebook_on_the_arrays_agrees_with_ser_traditional(tiny_msp, tmp_path):
    recipe = original_recipe("msp-improv")
    written = generate_arrays(
        load_msp_improv(tiny_msp), recipe, tmp_path / "arrays", n_jobs=1, progress=False
    )
    audios, labels = np.load(written.audio), np.load(written.labels)
    paths = _rt_paths(tiny_msp)
    np.testing.assert_allclose(audios, original_audios(paths), atol=1e-3, rtol=1e-5)
    assert (labels == "X").sum() == 2 and (labels == "other").sum() == 1
    for random_state in (1, 3):
        X, wa, ua = original_evaluation(audios, labels, random_state)
        run = experiments.run_traditional(
            recipe,
            tiny_msp,
            protocol="original-random",
            split_random_state=random_state,
            cache_dir=tmp_path / "cache",
            out=tmp_path / f"run-{random_state}",
            progress=False,
        )
        ours, info = features.extract_features(
            select_subset(load_msp_improv(tiny_msp), "rt-4class"),
            "frames",
            recipe=traditional.as_original_ran(recipe),
            n_jobs=1,
            progress=False,
            cache_dir=tmp_path / "cache",
            return_info=True,
        )
        assert info.misses == 0  # the entries the run wrote: the evaluation notebook's features
        assert len(ours) == len(X) == 13
        np.testing.assert_allclose(ours, X, atol=TOLERANCE, rtol=0)
        (fold,) = run.cross_validation.folds
        assert (fold.wa, fold.ua) == pytest.approx((wa, ua), abs=1e-12)


def test_the_original_flattens_frame_by_frame_and_the_improved_recipe_feature_by_feature():
    frames = np.arange(12.0).reshape(4, 3)  # 4 frames × 3 features
    original = traditional.as_original_ran(config.original_recipe("msp-improv"))
    frame_major = np.swapaxes(frames.T[np.newaxis], 1, 2).reshape(1, -1)[0]
    np.testing.assert_array_equal(
        features.flatten_frames(frames, order=original.features.flatten_order), frame_major
    )
    improved = config.improved_recipe("msp-improv")
    np.testing.assert_array_equal(
        features.flatten_frames(frames, order=improved.features.flatten_order), frames.T.ravel()
    )
    assert improved.features.sr is None and improved.audio.resample_from is None
