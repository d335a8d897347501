"""The arrays of a recipe (ser_utils.deep.arrays): streamed, row-aligned, resumable, keyed on every file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ser_utils import config, evaluation
from ser_utils.audio import load_and_preprocess
from ser_utils.audio.spectrograms import spectrogram
from ser_utils.corpora import original_order
from ser_utils.deep import arrays
from ser_utils.errors import AudioError, SerError
from tests.helpers import write_tone

FILES = ("audio.npy", "spectrograms.npy", "labels.npy", "metadata.csv")


@pytest.fixture(scope="module")
def recipe():
    return config.original_recipe("msp-improv", "smoke")


@pytest.fixture(scope="module")
def small_manifest(msp_manifest):
    """A 20-file slice of the mini MSP-IMPROV with R, T and some P/S rows (left out by the rt subset),
    and, for the label check, an 'other' or 'no_agreement' R+T row when the corpus has one."""
    rows = msp_manifest[msp_manifest["recording_type"].isin(["R", "T"])]
    unusual = rows[~rows["label"].isin(config.FOUR_CLASSES)].head(2)
    others = msp_manifest[~msp_manifest["recording_type"].isin(["R", "T"])].head(3)
    return (
        pd.concat([rows.head(18), unusual, others])
        .sort_values("utterance_id")
        .reset_index(drop=True)
    )


@pytest.fixture(scope="module")
def complete(tmp_path_factory, small_manifest, recipe):
    """An uninterrupted run with two worker processes."""
    out = tmp_path_factory.mktemp("arrays") / "complete"
    arrays.generate_arrays(small_manifest, recipe, out, n_jobs=2, progress=False, chunk_size=4)
    return out


@pytest.fixture()
def manifest_with_silent_file(tmp_path, small_manifest):
    silent = write_tone(
        tmp_path / "MSP-IMPROV-S01A-F01-R-FF99.wav", seconds=2.0, sr=44_100, amplitude=0.0
    )
    row = (
        small_manifest[small_manifest["recording_type"] == "R"]
        .iloc[[0]]
        .assign(path=str(silent), utterance_id="MSP-IMPROV-S01A-F01-R-FF99")
    )
    return pd.concat([small_manifest.head(4), row]).sort_values("utterance_id").reset_index(
        drop=True
    ), silent


def test_arrays_hold_every_r_and_t_file_row_aligned_with_the_metadata(
    complete, small_manifest, recipe
):
    spectrograms, labels, metadata = arrays.load_arrays(complete)
    expected = small_manifest[
        small_manifest["recording_type"].isin(config.ORIGINAL_RECORDING_TYPES)
    ]
    assert (
        metadata["utterance_id"].tolist() == original_order(expected)["utterance_id"].tolist()
    )  # the walk order
    assert spectrograms.shape == (len(expected), 442, 99) and spectrograms.dtype == np.float32
    assert isinstance(spectrograms, np.memmap)
    assert labels.dtype.kind == "U"
    # the original's spelling in labels.npy ('X' for no agreement), the manifest's in metadata.csv
    expected_labels = metadata["label"].replace({"no_agreement": "X"})
    assert labels.tolist() == expected_labels.tolist()
    assert set(labels) - set(config.FOUR_CLASSES), "the original arrays keep 'other' / 'X' labels"
    if "no_agreement" in set(metadata["label"]):
        assert "X" in set(labels) and "no_agreement" not in set(labels)
    # the original's own mask leaves the four classes only
    assert set(labels[~((labels == "other") | (labels == "X"))]) <= set(config.FOUR_CLASSES)
    audio = np.load(complete / "audio.npy", mmap_mode="r")
    assert audio.shape == (len(expected), recipe.audio.target_length)
    paths = dict(zip(small_manifest["utterance_id"], small_manifest["path"]))
    for row in (0, len(metadata) // 2, len(metadata) - 1):  # recomputed from the wav, row by row
        samples, sr = load_and_preprocess(paths[metadata.at[row, "utterance_id"]], recipe.audio)
        np.testing.assert_array_equal(audio[row], samples)
        np.testing.assert_array_equal(
            spectrograms[row], spectrogram(samples, sr, recipe.spectrogram)
        )
    info = json.loads((complete / "arrays.json").read_text())
    assert info["n"] == len(metadata) and info["sample_rate"] == 44_100 and info["skipped"] == []
    assert not (complete / ".partial").exists()


def test_an_interrupted_run_resumes_and_ends_byte_identical(
    tmp_path, monkeypatch, complete, small_manifest, recipe
):
    out = tmp_path / "resumed"
    real = arrays._process_file
    calls = {"n": 0}

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C during the 11th file
        return real(*args)

    monkeypatch.setattr(arrays, "_process_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        arrays.generate_arrays(small_manifest, recipe, out, n_jobs=1, progress=False, chunk_size=4)
    progress = json.loads((out / ".partial" / "progress.json").read_text())
    assert progress["done"] == 8  # two whole chunks of 4 were written and recorded
    assert not (out / "arrays.json").exists() and not any((out / name).exists() for name in FILES)

    calls["n"] = -1000  # no more interruptions; count what the resumed run processes
    arrays.generate_arrays(small_manifest, recipe, out, n_jobs=1, progress=False, chunk_size=4)
    assert calls["n"] == -1000 + progress["n"] - 8  # it started at row 8
    for name in FILES:
        assert (out / name).read_bytes() == (complete / name).read_bytes(), name


def test_rerunning_complete_arrays_does_nothing(complete, small_manifest, recipe, monkeypatch):
    before = {name: (complete / name).stat().st_mtime_ns for name in FILES}

    def fail(*args):
        raise AssertionError("a file was processed again")

    monkeypatch.setattr(arrays, "_process_file", fail)
    arrays.generate_arrays(small_manifest, recipe, complete, n_jobs=2, progress=False)
    assert {name: (complete / name).stat().st_mtime_ns for name in FILES} == before


def test_a_different_recipe_regenerates(tmp_path, small_manifest, recipe):
    out = tmp_path / "arrays"
    few = small_manifest.head(5)
    arrays.generate_arrays(few, recipe, out, n_jobs=1, progress=False)
    improved = config.improved_recipe("msp-improv", "smoke")
    arrays.generate_arrays(few, improved, out, n_jobs=1, progress=False)
    spectrograms, _, _ = arrays.load_arrays(out)
    assert spectrograms.shape[1:] == (64, 201)


def test_a_silent_file_stops_the_run_with_its_name(tmp_path, manifest_with_silent_file, recipe):
    manifest, silent = manifest_with_silent_file
    with pytest.raises(AudioError, match=rf"{silent.name}.*silent") as error:
        arrays.generate_arrays(manifest, recipe, tmp_path / "out", n_jobs=1, progress=False)
    assert "\n" not in str(error.value)


def test_skipping_bad_files_leaves_them_out_and_lists_them(
    tmp_path, manifest_with_silent_file, recipe
):
    manifest, silent = manifest_with_silent_file
    out = tmp_path / "out"
    arrays.generate_arrays(
        manifest, recipe, out, n_jobs=1, progress=False, on_error="skip", chunk_size=2
    )
    spectrograms, labels, metadata = arrays.load_arrays(out)
    selected = evaluation.select_files(manifest)
    assert len(metadata) == len(spectrograms) == len(labels) == len(selected) - 1
    assert silent.stem not in set(metadata["utterance_id"])
    skipped = json.loads((out / "arrays.json").read_text())["skipped"]
    assert [entry["utterance_id"] for entry in skipped] == [silent.stem]
    assert (
        np.all(np.isfinite(spectrograms))
        and spectrograms.reshape(len(spectrograms), -1).std(axis=1).min() > 0
    )


def test_load_arrays_without_arrays_names_the_fix(tmp_path):
    with pytest.raises(SerError, match="ser arrays"):
        arrays.load_arrays(tmp_path)
