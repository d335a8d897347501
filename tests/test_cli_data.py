"""`ser synth`, `ser data check|manifest|prepare`: counts printed, one-line errors, exit codes."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import write_msp_tree, write_tone

from ser_utils import config, paths
from ser_utils.app.cli import main


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


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
        capsys, "synth", tmp_path, "--corpus", "all", "--size", "mini", "--seed", "3"
    )
    assert status == 0
    assert (tmp_path / "TESS").is_dir() and (tmp_path / "MSP-IMPROV" / "Evaluation.txt").is_file()
    stamp = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")}
    assert len(stamp) > 300
    status, _, _ = run(
        capsys, "synth", tmp_path, "--corpus", "all", "--size", "mini", "--seed", "3"
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
