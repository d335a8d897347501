"""The model commands of ser (ser_utils.app.model_commands): traditional, train, evaluate, predict."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser_utils import config
from ser_utils.app.cli import main
from tests.helpers import write_tone


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, msp_root):
    """One `ser train` of the improved recipe in the smoke profile: 1 epoch, LOSO fold 1 only."""
    out = tmp_path_factory.mktemp("run")
    status = main(
        [
            "train",
            "msp-improv",
            str(msp_root),
            "--recipe",
            "improved",
            "--protocol",
            "loso",
            "--folds",
            "1",
            "--epochs",
            "1",
            "--profile",
            "smoke",
            "--arrays",
            str(out / "arrays"),
            "--out",
            str(out / "improved"),
        ]
    )
    assert status == 0
    return out / "improved"


def test_train_writes_a_complete_run_directory(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {
        "config.json",
        "metrics.json",
        "metrics.csv",
        "confusion.png",
        "learning_curves.png",
        "report.md",
        "model",
    } <= names
    metrics = json.loads((trained_run / "metrics.json").read_text())
    assert metrics["protocol"] == "loso" and len(metrics["folds"]) == 1
    assert 0.0 <= metrics["ua"] <= 1.0 and metrics["labels"] == list(config.FOUR_CLASSES)
    assert metrics["folds"][0]["test_group"] in {str(s) for s in range(1, 7)} | set(range(1, 7))
    settings = json.loads((trained_run / "config.json").read_text())
    assert settings["recipe"]["name"] == "improved" and settings["synthetic"] is True
    report = (trained_run / "report.md").read_text()
    assert "![confusion matrix](confusion.png)" in report and "Synthetic corpus" in report
    table = pd.read_csv(trained_run / "metrics.csv", index_col=0)
    assert list(table.index) == ["1", "mean", "std"]


def test_run_directory_holds_every_test_prediction(trained_run, msp_manifest):
    predictions = pd.read_csv(trained_run / "predictions.csv")
    probabilities = [f"p_{label}" for label in config.FOUR_CLASSES]
    assert list(predictions.columns) == [
        "utterance_id",
        "fold",
        "split",
        "true",
        "predicted",
        *probabilities,
    ]
    fold = json.loads((trained_run / "metrics.json").read_text())["folds"][0]
    assert len(predictions) == fold["n_test"] and set(predictions["split"]) == {"test"}
    # the held-out session's utterances, with their true labels
    truth = msp_manifest.set_index("utterance_id").loc[predictions["utterance_id"]]
    assert set(truth["session"].astype(str)) == {str(fold["test_group"])}
    assert (truth["label"].to_numpy() == predictions["true"].to_numpy()).all()
    assert np.allclose(predictions[probabilities].sum(axis=1), 1, atol=1e-4)
    argmax = np.asarray(config.FOUR_CLASSES)[predictions[probabilities].to_numpy().argmax(axis=1)]
    assert (argmax == predictions["predicted"].to_numpy()).all()
    assert (predictions["true"] == predictions["predicted"]).mean() == pytest.approx(fold["wa"])


def test_the_trained_bundle_predicts_new_audio(trained_run, msp_manifest, capsys):
    capsys.readouterr()
    clip = msp_manifest["path"].iloc[5]
    assert main(["predict", str(trained_run / "model"), clip, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["file"] == clip and records[0]["label"] in config.FOUR_CLASSES
    assert abs(sum(records[0][label] for label in config.FOUR_CLASSES) - 1) < 1e-3


def test_evaluate_writes_metrics_without_a_bundle(tmp_path, trained_run, msp_root):
    status = main(
        [
            "evaluate",
            "msp-improv",
            str(msp_root),
            "--recipe",
            "improved",
            "--protocol",
            "original-4fold",
            "--folds",
            "2",
            "--epochs",
            "1",
            "--profile",
            "smoke",
            "--arrays",
            str(trained_run.parent / "arrays"),
            "--seeds",
            "3",
            "4",
            "--out",
            str(tmp_path / "evaluation"),
        ]
    )
    assert status == 0
    assert not (tmp_path / "evaluation" / "model").exists()
    assert (
        json.loads((tmp_path / "evaluation" / "metrics.json").read_text())["protocol"]
        == "original-4fold"
    )
    assert (tmp_path / "evaluation" / "predictions.csv").is_file()
    composition = pd.read_csv(tmp_path / "evaluation" / "fold_composition.csv", index_col="fold")
    assert (
        list(composition.index) == [1, 2, 3, 4]
        and "test_speakers_in_training" in composition.columns
    )
    report = (tmp_path / "evaluation" / "report.md").read_text()
    assert (
        "## What the folds test" in report
        and "### original-4fold" in report
        and "### loso" in report
    )
    metrics = json.loads((tmp_path / "evaluation" / "metrics.json").read_text())
    assert [(f["training_seed"], f["fold"]) for f in metrics["folds"]] == [(3, 1), (4, 1)]
    assert json.loads((tmp_path / "evaluation" / "config.json").read_text())["training_seeds"] == [
        3,
        4,
    ]
    assert "### Over 2 training seeds" in report


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["evaluate", "msp-improv", "{root}", "--protocol", "kfold", "--out", "{tmp}/x"],
            "unknown protocol 'kfold'",
        ),
        (
            ["train", "msp-improv", "{tmp}/nowhere", "--out", "{tmp}/x"],
            "MSP-IMPROV folder not found",
        ),
        (
            ["train", "msp-improv", "{root}", "--epochs", "0", "--out", "{tmp}/x"],
            "--epochs must be at least 1",
        ),
        (
            ["train", "msp-improv", "{root}", "--recipe", "fusion", "--out", "{tmp}/x"],
            "the fusion recipe fuses several networks with an SVM and has no single model to save",
        ),
    ],
)
def test_deep_command_errors_are_one_line(capsys, tmp_path, msp_root, argv, message):
    assert main([a.format(root=msp_root, tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_evaluate_runs_the_fusion_recipe_on_the_arrays_and_their_egemaps(
    tmp_path, trained_run, msp_root, monkeypatch
):
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))  # the features' cache
    arguments = [
        "evaluate",
        "msp-improv",
        str(msp_root),
        "--recipe",
        "fusion",
        "--protocol",
        "loso",
    ]
    arguments += ["--folds", "1", "--epochs", "1", "--profile", "smoke"]
    arguments += ["--arrays", str(trained_run.parent / "arrays"), "--out", str(tmp_path / "fusion")]
    assert main(arguments) == 0
    (fold,) = json.loads((tmp_path / "fusion" / "metrics.json").read_text())["folds"]
    # the improved recipe's arrays, the SVM's eGeMAPS made from the same files, five members
    assert fold["members"] == 5 and fold["n_test"] == 30
    assert 0 <= fold["ua_network"] <= 1 and 0 <= fold["ua_svm"] <= 1 and 0 <= fold["ua"] <= 1
    assert (tmp_path / "outputs" / "features" / "egemaps").is_dir()
    assert not (tmp_path / "outputs" / "features" / "functionals").exists()


def test_cli_predict_prints_a_table_and_json_for_a_folder(
    capsys, bundle_dir, msp_manifest, tmp_path
):
    folder = tmp_path / "clips"
    folder.mkdir()
    for index, path in enumerate(msp_manifest["path"].iloc[:3]):
        data, sr = sf.read(path)
        sf.write(str(folder / f"clip{index}.wav"), data, sr)
    assert main(["predict", str(bundle_dir), str(folder)]) == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0].split()[:3] == ["file", "n_windows", "label"]
        and out.count(".wav ") == 3
    )
    assert main(["predict", str(bundle_dir), str(folder / "clip0.wav"), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 1 and set(config.FOUR_CLASSES) <= set(records[0])


@pytest.mark.parametrize(
    "case, message",
    [
        ("missing_bundle", "error: model bundle not found"),
        ("not_a_wav", "not a wav file"),
        ("empty_wav", "the file holds no samples"),
        ("missing_audio", "audio file not found"),
    ],
)
def test_cli_predict_errors_are_one_line(capsys, bundle_dir, tmp_path, case, message):
    clip = write_tone(tmp_path / "ok.wav")
    (tmp_path / "notes.txt").write_text("hello")
    sf.write(str(tmp_path / "empty.wav"), np.zeros(0, np.float32), 16_000)
    argv = {
        "missing_bundle": [tmp_path / "no_bundle", clip],
        "not_a_wav": [bundle_dir, tmp_path / "notes.txt"],
        "empty_wav": [bundle_dir, tmp_path / "empty.wav"],
        "missing_audio": [bundle_dir, tmp_path / "nope.wav"],
    }[case]
    assert main(["predict", *map(str, argv)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


# ---------------------------------------------------------------------------- CLI
@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--protocol", "kfold"],
            "unknown protocol 'kfold': expected one of original-random, original-4fold, loso, speaker",
        ),
        (["--model", "knn"], "unknown model 'knn'"),
        (["--subset", "five"], "unknown subset 'five'"),
        (["--protocol", "loso"], "protocol 'loso' needs a 'session' column"),
        (["--model", "forest", "--grid", "original"], "the original grid searches SVC kernels"),
    ],
)
def test_cli_errors_are_one_line_with_exit_status_2(tess_root, capsys, arguments, message):
    assert main(["traditional", "tess", str(tess_root), *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
    assert not any(line.startswith("error") for line in err[:-1])


def test_cli_missing_corpus_folder(tmp_path, capsys):
    assert main(["traditional", "msp-improv", str(tmp_path / "nowhere"), "--protocol", "loso"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "MSP-IMPROV folder not found" in err


def test_cli_evaluates_and_writes_a_run_directory(tess_root, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    # the improved recipe's audio chain is the quicker one (denoising before padding)
    status = main(
        [
            "traditional",
            "tess",
            str(tess_root),
            "--model",
            "linear_svm",
            "--protocol",
            "speaker",
            "--subset",
            "4class",
            "--recipe",
            "improved",
            "--features",
            "functionals",
            "--n-jobs",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "mean" in printed and "std" in printed
    # the default run directory is named after everything that changes the result
    run = tmp_path / "outputs" / "runs" / "tess_4class_functionals_speaker_linear_svm_improved"
    assert str(run) in printed
    data = json.loads((run / "metrics.json").read_text())
    assert data["n_folds"] == 2 and [f["test_group"] for f in data["folds"]] == ["OAF", "YAF"]
    assert 0.0 <= data["ua"] <= 1.0 and data["labels"] == list(config.FOUR_CLASSES)
    assert (
        data["model"] == "linear_svm"
        and data["features"] == "functionals"
        and data["subset"] == "4class"
    )
    run_config = json.loads((run / "config.json").read_text())
    assert run_config["kind"] == "traditional" and run_config["recipe"]["name"] == "improved"
    assert {"metrics.csv", "predictions.csv", "confusion.png", "report.md"} <= {
        p.name for p in run.iterdir()
    }
