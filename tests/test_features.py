"""Features: the original frame features equal the original's four librosa calls, the
functionals and eGeMAPS sets, and the on-disk cache (hits, invalidation, parallel runs)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser_utils import audio, config, features
from ser_utils.app.cli import main
from ser_utils.errors import AudioError, SerError

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


@pytest.fixture()
def small_corpus(tess_root, tmp_path) -> tuple[Path, pd.DataFrame]:
    """A private copy of 6 synthetic TESS files (so tests may rewrite them) and its manifest."""
    from ser_utils.corpora import load_tess

    source = (
        sorted(tess_root.rglob("OAF_*_angry.wav"))[:3]
        + sorted(tess_root.rglob("YAF_*_sad.wav"))[:3]
    )
    root = tmp_path / "TESS"
    for path in source:
        target = root / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return root, load_tess(root)


@pytest.fixture()
def counted(monkeypatch) -> list[int]:
    """Count the calls of the frame feature function (in this process: use n_jobs=1)."""
    calls = [0]
    original = features.frame_features

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(features.cache, "frame_features", counting)  # where extraction looks it up
    return calls


def tess_recipe() -> config.Recipe:
    return config.original_recipe("tess", "smoke")


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


def test_flatten_gives_the_originals_feature_major_vector(msp_original_clip):
    samples, sr = msp_original_clip
    frames = features.frame_features(samples, sr)
    flat = features.frame_features(samples, sr, flatten=True)
    assert flat.shape == (623 * 34,)
    np.testing.assert_array_equal(flat, frames.T.reshape(-1))
    names = features.feature_names("frames", n_samples=len(samples))
    assert len(names) == flat.size and names[0] == "mfcc_01@0" and names[623] == "mfcc_02@0"


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


def test_egemaps_gives_88_finite_functionals(tess_original_clip):
    samples, sr = tess_original_clip
    values = features.egemaps_functionals(features.strip_padding(samples), sr)
    names = features.egemaps_names()
    assert values.shape == (88,) and len(names) == 88
    assert np.all(np.isfinite(values))
    assert names[0].startswith("F0semitoneFrom27.5Hz")


def test_unknown_feature_set_is_a_clear_error(tess_manifest):
    with pytest.raises(SerError, match="unknown feature set 'mfcc'.*frames, functionals, egemaps"):
        features.extract_features(tess_manifest, "mfcc", recipe=tess_recipe())


# --------------------------------------------------------------------------- cache
def test_second_extraction_is_a_cache_hit(small_corpus, tmp_path, counted):
    _, manifest = small_corpus
    first, info = features.extract_features(
        manifest,
        "frames",
        recipe=tess_recipe(),
        n_jobs=1,
        cache_dir=tmp_path / "cache",
        progress=False,
        return_info=True,
    )
    assert (info.hits, info.misses, counted[0]) == (0, 6, 6)
    expected_frames = features.n_frames(
        config.SMOKE_TESS_LENGTH, hop_length=config.TESS_ORIGINAL_HOP
    )
    assert first.shape == (6, expected_frames * 34) and first.dtype == np.float32
    assert len(list((tmp_path / "cache" / "frames").rglob("*.npy"))) == 6
    second, info = features.extract_features(
        manifest,
        "frames",
        recipe=tess_recipe(),
        n_jobs=1,
        cache_dir=tmp_path / "cache",
        progress=False,
        return_info=True,
    )
    assert (info.hits, info.misses, counted[0]) == (6, 0, 6)  # nothing recomputed
    np.testing.assert_array_equal(first, second)


def test_a_changed_parameter_is_recomputed(small_corpus, tmp_path, counted):
    _, manifest = small_corpus
    recipe = tess_recipe()
    coarse = dataclasses.replace(
        recipe, features=dataclasses.replace(recipe.features, hop_length=1220)
    )
    fine = features.extract_features(
        manifest, "frames", recipe=recipe, n_jobs=1, cache_dir=tmp_path, progress=False
    )
    other = features.extract_features(
        manifest, "frames", recipe=coarse, n_jobs=1, cache_dir=tmp_path, progress=False
    )
    assert counted[0] == 12
    assert (
        other.shape[1]
        == features.n_frames(config.SMOKE_TESS_LENGTH, hop_length=1220) * 34
        < fine.shape[1]
    )


def test_a_rewritten_file_is_recomputed(small_corpus, tmp_path, counted):
    _, manifest = small_corpus
    kwargs = dict(
        recipe=tess_recipe(),
        n_jobs=1,
        cache_dir=tmp_path / "cache",
        progress=False,
        return_info=True,
    )
    before, _ = features.extract_features(manifest, "functionals", **kwargs)
    path = Path(manifest["path"].iloc[2])
    samples, sr = sf.read(path, dtype="float32")
    sf.write(
        path, samples[: len(samples) // 2] * 0.5, sr, subtype="PCM_16"
    )  # new content, size and mtime
    after, info = features.extract_features(manifest, "functionals", **kwargs)
    assert (info.hits, info.misses) == (5, 1) and counted[0] == 7
    assert not np.allclose(before[2], after[2])
    np.testing.assert_array_equal(np.delete(before, 2, axis=0), np.delete(after, 2, axis=0))


def test_parallel_extraction_equals_sequential(small_corpus, tmp_path):
    _, manifest = small_corpus
    sequential = features.extract_features(
        manifest,
        "functionals",
        recipe=tess_recipe(),
        n_jobs=1,
        cache_dir=tmp_path / "one",
        progress=False,
    )
    parallel = features.extract_features(
        manifest,
        "functionals",
        recipe=tess_recipe(),
        n_jobs=2,
        cache_dir=tmp_path / "two",
        progress=False,
    )
    np.testing.assert_array_equal(sequential, parallel)


def test_several_sets_share_one_pass_and_the_cache(small_corpus, tmp_path):
    _, manifest = small_corpus
    matrices, infos = features.extract_feature_sets(
        manifest,
        ["frames", "functionals"],
        recipe=tess_recipe(),
        n_jobs=1,
        cache_dir=tmp_path,
        progress=False,
    )
    assert {name: info.misses for name, info in infos.items()} == {"frames": 6, "functionals": 6}
    alone, info = features.extract_features(
        manifest,
        "functionals",
        recipe=tess_recipe(),
        n_jobs=1,
        cache_dir=tmp_path,
        progress=False,
        return_info=True,
    )
    assert info.hits == 6
    np.testing.assert_array_equal(alone, matrices["functionals"])


def test_preloaded_audio_gives_the_same_features_and_cache_entries(small_corpus, tmp_path):
    _, manifest = small_corpus
    recipe = tess_recipe()
    clips = [audio.load_and_preprocess(p, recipe.audio) for p in manifest["path"]]
    loader = features.PreloadedAudio(np.stack([c for c, _ in clips]), clips[0][1], manifest["path"])
    preloaded = features.extract_features(
        manifest,
        "frames",
        recipe=recipe,
        n_jobs=1,
        cache_dir=tmp_path,
        progress=False,
        audio_loader=loader,
    )
    loaded, info = features.extract_features(
        manifest,
        "frames",
        recipe=recipe,
        n_jobs=1,
        cache_dir=tmp_path,
        progress=False,
        return_info=True,
    )
    assert info.hits == 6
    np.testing.assert_array_equal(preloaded, loaded)


def test_cache_key_names_the_file_and_every_parameter(small_corpus):
    _, manifest = small_corpus
    recipe = tess_recipe()
    first, second = manifest["path"].iloc[:2]
    key = features.cache_key(
        first, "frames", frame_config=recipe.features, audio_config=recipe.audio
    )
    assert key == features.cache_key(
        first, "frames", frame_config=recipe.features, audio_config=recipe.audio
    )
    assert key != features.cache_key(
        second, "frames", frame_config=recipe.features, audio_config=recipe.audio
    )
    assert key != features.cache_key(
        first, "functionals", frame_config=recipe.features, audio_config=recipe.audio
    )
    louder = dataclasses.replace(recipe.audio, scaling="peak")
    assert key != features.cache_key(
        first, "frames", frame_config=recipe.features, audio_config=louder
    )


def test_a_missing_file_is_an_audio_error_naming_it(small_corpus, tmp_path):
    _, manifest = small_corpus
    missing = Path(manifest["path"].iloc[0])
    missing.unlink()
    with pytest.raises(AudioError, match=missing.name):
        features.extract_features(
            manifest, "frames", recipe=tess_recipe(), n_jobs=1, cache_dir=tmp_path, progress=False
        )


def test_a_corrupt_file_is_an_audio_error_naming_it_from_the_workers(small_corpus, tmp_path):
    _, manifest = small_corpus
    corrupt = Path(manifest["path"].iloc[3])
    corrupt.write_bytes(b"RIFF not really a wav")
    with pytest.raises(AudioError, match=corrupt.name):
        features.extract_features(
            manifest,
            "functionals",
            recipe=tess_recipe(),
            n_jobs=2,
            cache_dir=tmp_path,
            progress=False,
        )


# ----------------------------------------------------------------------------- CLI
def test_ser_features_writes_the_matrix_and_its_metadata(
    small_corpus, tmp_path, monkeypatch, capsys
):
    root, manifest = small_corpus
    monkeypatch.setenv("SER_PROFILE", "smoke")
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    arguments = [
        "features",
        "tess",
        str(root),
        "--set",
        "functionals",
        "--out",
        str(tmp_path / "out"),
        "--n-jobs",
        "1",
    ]
    assert main(arguments) == 0
    assert "6 × 306" in capsys.readouterr().out
    matrix, metadata = features.load_features(
        tmp_path / "out", corpus="tess", feature_set="functionals"
    )
    assert matrix.shape == (6, 306)
    assert list(metadata["utterance_id"]) == list(manifest["utterance_id"])
    assert len(list((tmp_path / "outputs" / "features" / "functionals").rglob("*.npy"))) == 6
    assert main(arguments) == 0
    assert "6 hits, 0 computed" in capsys.readouterr().out


def test_ser_features_rejects_an_unknown_set_in_one_line(small_corpus, tmp_path, capsys):
    root, _ = small_corpus
    assert main(["features", "tess", str(root), "--set", "mfcc", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "unknown feature set 'mfcc'" in error


def test_egemaps_works_in_a_process_that_loaded_tensorflow_first():
    import subprocess
    import sys

    code = (
        "import numpy as np; from ser_utils import features; from ser_utils.deep import training; "
        "x = (0.1 * np.sin(np.arange(16000) / 10)).astype(np.float32); "
        "v = features.egemaps_functionals(x, 16000); print(v.shape, bool(np.isfinite(v).all()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("(88,) True")
