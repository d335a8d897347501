"""Feature extraction through the per-file cache (ser_utils.features.cache): hits, misses, parallel workers, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser_utils import audio, config, features
from ser_utils.errors import AudioError, SerError


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


def quietly(cache_dir, **options) -> dict:
    """``extract_features`` options: the smoke TESS recipe, in this process, no progress bar."""
    return {
        "recipe": tess_recipe(),
        "n_jobs": 1,
        "cache_dir": cache_dir,
        "progress": False,
    } | options


def test_unknown_feature_set_is_a_clear_error(tess_manifest):
    with pytest.raises(SerError, match="unknown feature set 'mfcc'.*frames, functionals, egemaps"):
        features.extract_features(tess_manifest, "mfcc", recipe=tess_recipe())


# --------------------------------------------------------------------------- cache
def test_second_extraction_is_a_cache_hit(small_corpus, tmp_path, counted):
    _, manifest = small_corpus
    kwargs = quietly(tmp_path / "cache", return_info=True)
    first, info = features.extract_features(manifest, "frames", **kwargs)
    assert (info.hits, info.misses, counted[0]) == (0, 6, 6)
    expected_frames = features.n_frames(
        config.SMOKE_TESS_LENGTH, hop_length=config.TESS_ORIGINAL_HOP
    )
    assert first.shape == (6, expected_frames * 34) and first.dtype == np.float32
    assert len(list((tmp_path / "cache" / "frames").rglob("*.npy"))) == 6
    second, info = features.extract_features(manifest, "frames", **kwargs)
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
    kwargs = quietly(tmp_path / "cache", return_info=True)
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
    sequential = features.extract_features(manifest, "functionals", **quietly(tmp_path / "one"))
    parallel = features.extract_features(
        manifest, "functionals", **quietly(tmp_path / "two", n_jobs=2)
    )
    np.testing.assert_array_equal(sequential, parallel)


def test_several_sets_share_one_pass_and_the_cache(small_corpus, tmp_path):
    _, manifest = small_corpus
    matrices, infos = features.extract_feature_sets(
        manifest, ["frames", "functionals"], **quietly(tmp_path)
    )
    assert {name: info.misses for name, info in infos.items()} == {"frames": 6, "functionals": 6}
    alone, info = features.extract_features(
        manifest, "functionals", **quietly(tmp_path, return_info=True)
    )
    assert info.hits == 6
    np.testing.assert_array_equal(alone, matrices["functionals"])


def test_preloaded_audio_gives_the_same_features_and_cache_entries(small_corpus, tmp_path):
    _, manifest = small_corpus
    recipe = tess_recipe()
    clips = [audio.load_and_preprocess(p, recipe.audio) for p in manifest["path"]]
    loader = features.PreloadedAudio(np.stack([c for c, _ in clips]), clips[0][1], manifest["path"])
    preloaded = features.extract_features(
        manifest, "frames", **quietly(tmp_path, recipe=recipe, audio_loader=loader)
    )
    loaded, info = features.extract_features(
        manifest, "frames", **quietly(tmp_path, recipe=recipe, return_info=True)
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
    # the original's rates and order are parameters too: old entries are never reused for them
    for audio_change in ({"resample_from": 24_414}, {"denoise_rate": "file"}):
        chain = dataclasses.replace(recipe.audio, **audio_change)
        assert key != features.cache_key(
            first, "frames", frame_config=recipe.features, audio_config=chain
        )
    for frame_change in ({"sr": 22_050}, {"flatten_order": "frame"}):
        frames = dataclasses.replace(recipe.features, **frame_change)
        assert key != features.cache_key(
            first, "frames", frame_config=frames, audio_config=recipe.audio
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
