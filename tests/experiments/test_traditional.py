"""ser traditional's run (ser_utils.experiments.traditional)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ser_utils import config, evaluation
from ser_utils.app.cli import main
from ser_utils.features.speaker_norm import normalise_features


def test_ser_traditional_speaker_norm_takes_statistics_over_every_label(
    msp_root, msp_manifest, tmp_path, capsys, monkeypatch
):
    from ser_utils import features as feature_sets

    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    cache = tmp_path / "cache"
    arguments = [
        "traditional",
        "msp-improv",
        str(msp_root),
        "--protocol",
        "loso",
        "--features",
        "functionals",
        "--recipe",
        "improved",
        "--cache-dir",
        str(cache),
    ]
    assert main([*arguments, "--speaker-norm"]) == 0
    run = (
        tmp_path
        / "outputs"
        / "runs"
        / "msp-improv_rt-4class_functionals_loso_rbf_svm_improved_speaker-norm"
    )
    assert str(run) in capsys.readouterr().out
    run_config = json.loads((run / "config.json").read_text())
    assert run_config["speaker_norm"] is True

    # the same scores from the features normalised over every R+T recording (any label)
    recipe = config.improved_recipe("msp-improv", "smoke")
    every_label = evaluation.select_subset(msp_manifest, "rt")
    evaluated = evaluation.select_subset(msp_manifest, "rt-4class")
    assert len(every_label) > len(evaluated)  # the corpus has R+T recordings of other labels
    matrix = feature_sets.extract_features(
        every_label, "functionals", recipe=recipe, cache_dir=cache, progress=False
    )
    normalised = pd.DataFrame(
        normalise_features(matrix, every_label["speaker"]), index=every_label["utterance_id"]
    ).loc[evaluated["utterance_id"]]
    from ser_utils import traditional

    expected = traditional.nested_evaluation(
        normalised.to_numpy(),
        evaluated,
        model="rbf_svm",
        protocol=evaluation.make_protocol("loso", evaluated),
        grid="none",
        random_state=recipe.training.seed,
        progress=False,
    )
    metrics = json.loads((run / "metrics.json").read_text())
    np.testing.assert_allclose(
        [f["ua"] for f in metrics["folds"]], [fold.ua for fold in expected.folds]
    )
    # without the flag, other scores
    assert main(arguments) == 0
    plain = json.loads(
        (
            tmp_path
            / "outputs"
            / "runs"
            / "msp-improv_rt-4class_functionals_loso_rbf_svm_improved"
            / "metrics.json"
        ).read_text()
    )
    assert [f["ua"] for f in plain["folds"]] != [f["ua"] for f in metrics["folds"]]
