"""`ser train` -> bundle -> `ser predict`, and `ser evaluate`, end to end on the synthetic corpus."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ser_utils import config
from ser_utils.app.cli import main


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
