"""Run directories of original-4fold over several training seeds: the original beside each fold."""

from __future__ import annotations

import pandas as pd

from ser_utils import config, reports


def fake_rows(seeds=(0, 1, 2)):
    """Fold rows as evaluate_folds writes them, four folds per training seed, two test utterances each."""
    rows = []
    for seed in seeds:
        for fold in range(1, 5):
            rows.append({"fold": fold, "training_seed": seed, "wa": 0.5, "ua": 0.25 + 0.01 * seed, "macro_f1": 0.2,
                         "n_train": 6, "n_test": 2, "confusion": [[1, 0, 0, 0], [0, 0, 0, 1], [0] * 4, [0] * 4],
                         "per_class": {label: {} for label in config.FOUR_CLASSES},
                         "predictions": {"utterance_id": [f"u{fold}a", f"u{fold}b"], "true": ["angry", "happy"],
                                         "predicted": ["angry", "sad"],
                                         "probabilities": [[0.7, 0.1, 0.1, 0.1], [0.1, 0.2, 0.3, 0.4]]}})
    return rows


def test_original_protocol_report_shows_the_seeds_and_the_original_beside_them(tmp_path, msp_root):
    written = reports.write_run_directory(tmp_path, command="evaluate", recipe=config.original_recipe("msp-improv", "full"),
                                          corpus_root=msp_root, protocol="original-4fold", rows=fake_rows(),
                                          histories={})
    report = (tmp_path / "report.md").read_text()
    assert "## original-4fold: 4 folds × 3 training seeds" in report
    assert "| 1 · seed 0 |" in report and "### Over 3 training seeds" in report
    assert "### Beside the original (%)" in report and "| 1 | 53.440 |" in report and "| mean | 50.290 |" in report
    predictions = pd.read_csv(written["predictions"])
    assert len(predictions) == 3 * 4 * 2 and list(predictions.columns[-4:]) == [f"p_{c}" for c in config.FOUR_CLASSES]
