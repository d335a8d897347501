"""`ser folds`: the original's folds, computed independently from the corpus folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold, train_test_split

from ser_utils import config, features, paths
from ser_utils.app.cli import main
from ser_utils.corpora import windows_walk
from ser_utils.deep import arrays
from tests.helpers import write_msp_tree, write_tone


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def original_folds(msp_root, msp_manifest) -> pd.DataFrame:
    """The original's steps, written out: walk the folder, keep R and T, mask other/no agreement,
    StratifiedKFold(4) unshuffled, then train_test_split(train, test_size=0.2, random_state=727)."""
    labels = dict(zip(msp_manifest["utterance_id"], msp_manifest["label"]))
    walked = [p.stem for p in windows_walk(msp_root) if p.suffix == ".wav" and p.stem[20] in "RT"]
    kept = [stem for stem in walked if labels[stem] in config.FOUR_CLASSES]
    y = np.array([labels[stem] for stem in kept])
    records = []
    for fold, (train, test) in enumerate(
        StratifiedKFold(n_splits=4).split(np.zeros(len(y)), y), start=1
    ):
        _, validation = train_test_split(train, test_size=0.2, random_state=727)
        split = {
            **dict.fromkeys(train, "train"),
            **dict.fromkeys(validation, "validation"),
            **dict.fromkeys(test, "test"),
        }
        records += [(kept[i], fold, split[i]) for i in sorted(split)]
    return pd.DataFrame(records, columns=["utterance_id", "fold", "split"])


def test_cli_missing_corpus_exits_2_with_one_line(tmp_path, capsys):
    status = main(
        ["arrays", "msp-improv", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]
    )
    error = capsys.readouterr().err.strip()
    assert status == 2
    assert error.startswith("error: ") and "not found" in error and "\n" not in error
    assert not (tmp_path / "out").exists()


def test_cli_writes_the_arrays(tmp_path, msp_root, capsys):
    status = main(
        [
            "arrays",
            "msp-improv",
            str(msp_root),
            "--recipe",
            "improved",
            "--out",
            str(tmp_path / "a"),
            "--n-jobs",
            "2",
        ]
    )
    assert status == 0
    assert "spectrograms (" in capsys.readouterr().out
    spectrograms, labels, metadata = arrays.load_arrays(tmp_path / "a")
    assert spectrograms.shape[1:] == (64, 201)  # the synthetic corpus is smoke-sized: 2 s at 16 kHz
    assert set(metadata["recording_type"]) == set(config.ORIGINAL_RECORDING_TYPES)
    assert Path(tmp_path / "a" / "arrays.json").is_file()


def test_data_check_prints_counts_for_synthetic_tess(capsys, tess_root):
    status, out, err = run(capsys, "data", "check", "tess", tess_root)
    assert status == 0, err
    assert "tess: 140 utterances" in out
    assert (
        "labels:          angry 20, disgust 20, fear 20, happy 20, neutral 20, sad 20, surprise 20"
        in out
    )
    assert "speakers:        OAF 70, YAF 70" in out
    assert "24414 139" in out and "96000 1" in out
    assert "skipped files:" in out and "0 unparseable" in out


def test_data_check_prints_sessions_types_and_the_rt_subset_for_msp_improv(
    capsys, msp_root, msp_manifest
):
    status, out, _ = run(capsys, "data", "check", "msp-improv", msp_root)
    assert status == 0
    assert f"msp-improv: {len(msp_manifest)} utterances" in out
    sessions = ", ".join(
        f"{s} {n}" for s, n in msp_manifest["session"].value_counts().sort_index().items()
    )
    assert f"sessions:        {sessions}" in out
    rt4 = msp_manifest[
        msp_manifest.recording_type.isin(["R", "T"]) & msp_manifest.label.isin(config.FOUR_CLASSES)
    ]
    assert f"rt-4class:       {len(rt4)} (" in out
    assert "recording types: P " in out


def test_data_manifest_writes_the_csv(capsys, msp_root, msp_manifest, tmp_path):
    out_file = tmp_path / "manifests" / "msp.csv"
    status, out, _ = run(capsys, "data", "manifest", "msp-improv", msp_root, "--out", out_file)
    assert status == 0 and f"{len(msp_manifest)} utterances" in out
    saved = pd.read_csv(out_file)
    assert saved["utterance_id"].tolist() == msp_manifest["utterance_id"].tolist()
    assert list(saved.columns) == list(msp_manifest.columns)


@pytest.mark.parametrize(
    "argv, message",
    [
        (("data", "check", "tess", "{tmp}/nowhere"), "error: TESS folder not found"),
        (
            ("data", "check", "msp-improv", "{tmp}/no_labels"),
            "error: Evaluation.txt not found under",
        ),
        (
            ("data", "manifest", "msp-improv", "{tmp}/no_labels", "--out", "{tmp}/m.csv"),
            "error: Evaluation.txt not found",
        ),
        (("data", "check", "tess", "{tmp}/empty_wav"), "error: 1 wav files under"),
        (
            ("data", "check", "msp-improv", "{tmp}/unlabelled", "--strict"),
            "error: 1 wav files under",
        ),
    ],
)
def test_data_errors_are_one_line_with_nonzero_exit(capsys, tmp_path, argv, message):
    write_tone(
        tmp_path / "no_labels" / "session1" / "S01A" / "R" / "MSP-IMPROV-S01A-F01-R-FF01.wav"
    )
    write_tone(tmp_path / "empty_wav" / "OAF_back_angry.wav", seconds=0)
    write_msp_tree(tmp_path / "unlabelled", {"MSP-IMPROV-S01A-F01-R-FF01": "A"})
    write_tone(
        tmp_path / "unlabelled" / "session1" / "S02A" / "R" / "MSP-IMPROV-S02A-F01-R-FF01.wav"
    )
    status, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert status == 2
    assert err.startswith(message) and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_data_check_rejects_an_unknown_corpus_name(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["data", "check", "iemocap", str(tmp_path)])
    assert exc.value.code == 2
    assert "invalid choice: 'iemocap'" in capsys.readouterr().err


def test_synth_writes_both_corpora_and_is_idempotent(capsys, tmp_path):
    status, out, _ = run(
        capsys, "synth", "--out", tmp_path, "--corpus", "all", "--size", "mini", "--seed", "3"
    )
    assert status == 0
    assert (tmp_path / "TESS").is_dir() and (tmp_path / "MSP-IMPROV" / "Evaluation.txt").is_file()
    stamp = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")}
    assert len(stamp) > 300
    status, _, _ = run(
        capsys, "synth", "--out", tmp_path, "--corpus", "all", "--size", "mini", "--seed", "3"
    )
    assert status == 0
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")} == stamp


def test_data_prepare_makes_synthetic_corpora_when_dataset_is_empty(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("SER_DATA_DIR", raising=False)
    monkeypatch.delenv("SER_PROFILE", raising=False)
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setattr(paths, "user_dataset_dir", lambda: tmp_path / "dataset")
    status, out, _ = run(capsys, "data", "prepare")
    assert status == 0
    assert f"data directory: {tmp_path / 'outputs' / 'synthetic'} (profile smoke)" in out
    assert paths.has_corpus(tmp_path / "outputs" / "synthetic", "tess")
    assert paths.has_corpus(tmp_path / "outputs" / "synthetic", "msp-improv")


def test_data_prepare_rejects_a_data_dir_without_corpora(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SER_DATA_DIR", str(tmp_path))
    status, _, err = run(capsys, "data", "prepare")
    assert status == 2 and "holds neither TESS/ nor MSP-IMPROV/" in err


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
        "--features",
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
    assert main(["features", "tess", str(root), "--features", "mfcc", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "unknown feature set 'mfcc'" in error


def test_ser_folds_writes_the_originals_folds(msp_root, msp_manifest, tmp_path, capsys):
    out = tmp_path / "folds.csv"
    assert (
        main(
            [
                "folds",
                "msp-improv",
                str(msp_root),
                "--protocol",
                "original-4fold",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = pd.read_csv(out)
    expected = original_folds(msp_root, msp_manifest)
    pd.testing.assert_frame_equal(written, expected)
    assert set(written["split"]) == {"train", "validation", "test"}
    n = written["utterance_id"].nunique()
    assert (
        len(written) == 4 * n
        and (
            written.groupby("utterance_id")["split"].apply(lambda s: (s == "test").sum()) == 1
        ).all()
    )
    # In name order (the former manifest order) the same protocol cuts other test folds.
    rt4 = msp_manifest[
        msp_manifest["recording_type"].isin(["R", "T"])
        & msp_manifest["label"].isin(config.FOUR_CLASSES)
    ]
    by_name = rt4.sort_values("utterance_id")
    name_tests = [
        set(by_name["utterance_id"].iloc[test])
        for _, test in StratifiedKFold(n_splits=4).split(np.zeros(len(by_name)), by_name["label"])
    ]
    walk_tests = [
        set(written.query("fold == @f and split == 'test'")["utterance_id"]) for f in range(1, 5)
    ]
    assert name_tests != walk_tests
    assert "-> " + str(out) in capsys.readouterr().out


def test_ser_folds_for_loso_holds_out_sessions(msp_root, msp_manifest, tmp_path):
    out = tmp_path / "loso.csv"
    assert (
        main(
            [
                "folds",
                "msp-improv",
                str(msp_root),
                "--protocol",
                "loso",
                "--recipe",
                "improved",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = pd.read_csv(out).merge(msp_manifest[["utterance_id", "session", "speaker"]])
    assert written["fold"].nunique() == 6
    for _, fold in written.groupby("fold"):
        test = fold[fold["split"] == "test"]
        assert test["session"].nunique() == 1
        assert not set(fold.loc[fold["split"] != "test", "speaker"]) & set(test["speaker"])
        # the improved recipe holds out whole speakers for validation
        validation = fold[fold["split"] == "validation"]
        assert len(validation) and not set(validation["speaker"]) & set(
            fold.loc[fold["split"] == "train", "speaker"]
        )


def test_ser_folds_rejects_an_unknown_protocol(msp_root, tmp_path, capsys):
    assert (
        main(
            [
                "folds",
                "msp-improv",
                str(msp_root),
                "--protocol",
                "kfold",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "unknown protocol 'kfold'" in capsys.readouterr().err
