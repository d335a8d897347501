"""Run directories: original-4fold over several training seeds (the original beside each fold), names."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ser_utils import config
from ser_utils import experiments as runs
from ser_utils.evaluation import (
    CrossValidation,
    FoldResult,
)
from ser_utils.reports import write_results
from tests.helpers import FOLDS


def fake_folds(seeds=(0, 1, 2)) -> CrossValidation:
    """Folds as the fold loop makes them, four per training seed, two test utterances each."""
    folds = []
    for seed in seeds:
        for fold in range(1, 5):
            folds.append(
                FoldResult.from_dict(
                    {
                        "fold": fold,
                        "training_seed": seed,
                        "wa": 0.5,
                        "ua": 0.25 + 0.01 * seed,
                        "macro_f1": 0.2,
                        "n_train": 6,
                        "n_test": 2,
                        "confusion": [[1, 0, 0, 0], [0, 0, 0, 1], [0] * 4, [0] * 4],
                        "per_class": {label: {} for label in config.FOUR_CLASSES},
                        "predictions": {
                            "utterance_id": [f"u{fold}a", f"u{fold}b"],
                            "true": ["angry", "happy"],
                            "predicted": ["angry", "sad"],
                            "probabilities": [[0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]],
                        },
                    }
                )
            )
    return CrossValidation("original-4fold", config.FOUR_CLASSES, tuple(folds))


def test_write_results_writes_json_and_csv(tmp_path):
    paths, _ = write_results("demo", FOLDS, out_dir=tmp_path, extra={"model": "rbf_svm"})
    assert paths == {"json": tmp_path / "demo.json", "csv": tmp_path / "demo.csv"}
    data = json.loads(paths["json"].read_text())
    assert {"name", "wa", "ua", "macro_f1", "wa_std", "folds", "model"} <= set(data)
    assert data["wa"] == pytest.approx(0.6) and data["ua"] == pytest.approx(0.5)
    assert data["confusion"] == [[3, 1], [0, 4]] and data["labels"] == ["a", "b"]
    assert data["folds"][1]["confusion"] == [[2, 1], [0, 3]]
    csv = pd.read_csv(paths["csv"], index_col="fold")
    assert list(csv.index) == ["1", "2", "mean", "std"]
    assert csv.loc["mean", "wa"] == pytest.approx(0.6)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_original_protocol_report_shows_the_seeds_and_the_original_beside_them(tmp_path, msp_root):
    run = runs.write_run(
        "demo",
        fake_folds(),
        recipe=config.original_recipe("msp-improv", "full"),
        directory=tmp_path,
        corpus_root=msp_root,
        run_config={
            "kind": "deep",
            "corpus": "msp-improv",
            "subset": "rt-4class",
            "protocol": "original-4fold",
            "model": "original_cnn_convlstm",
        },
    )
    written = run.written
    report = (tmp_path / "report.md").read_text()
    assert "## original-4fold: 4 folds × 3 training seeds" in report
    assert "| 1 · seed 0 |" in report and "### Over 3 training seeds" in report
    assert (
        "### Beside the original (%)" in report
        and "| 1 | 53.440 |" in report
        and "| mean | 50.290 |" in report
    )
    predictions = pd.read_csv(written["predictions"])
    assert len(predictions) == 3 * 4 * 2 and list(predictions.columns[-4:]) == [
        f"p_{c}" for c in config.FOUR_CLASSES
    ]


def test_run_directories_hold_one_format_for_traditional_and_deep_runs(tmp_path, msp_root):
    recipe = config.original_recipe("msp-improv", "smoke")
    common = {"corpus": "msp-improv", "subset": "rt-4class", "protocol": "original-4fold"}
    traditional = runs.write_run(
        "t",
        fake_folds(seeds=(0,)),
        recipe=recipe,
        directory=tmp_path / "t",
        corpus_root=msp_root,
        run_config={"kind": "traditional", "model": "rbf_svm", "features": "frames", **common},
    )
    deep = runs.write_run(
        "d",
        fake_folds(seeds=(0,)),
        recipe=recipe,
        directory=tmp_path / "d",
        corpus_root=msp_root,
        run_config={"kind": "deep", "model": recipe.model.name, **common},
    )
    files = {"config", "metrics", "fold_table", "predictions", "confusion", "report"}
    assert files <= set(traditional.written) and files <= set(deep.written)
    assert (
        runs.load_run(tmp_path / "t")["model"] == "rbf_svm"
        and runs.load_run(tmp_path / "d")["model"] == recipe.model.name
    )
    assert runs.load_run(tmp_path / "t")["config"]["features"] == "frames"
    assert "(scikit-learn) · features: frames" in (tmp_path / "t" / "report.md").read_text()
    assert traditional.cross_validation.summary.ua == deep.cross_validation.summary.ua == 0.25
