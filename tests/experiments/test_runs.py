"""Run names (ser_utils.experiments.runs)."""

from __future__ import annotations

from ser_utils import experiments as runs


def test_run_names_differ_in_everything_that_changes_a_result():
    base = {
        "corpus": "msp-improv",
        "subset": "rt-4class",
        "inputs": "frames",
        "protocol": "loso",
        "model": "rbf_svm",
        "recipe_name": "original",
    }
    names = {runs.run_name(**base)} | {runs.run_name(**{**base, key: "other"}) for key in base}
    names.add(runs.run_name(**base, extras=["grid-grouped"]))
    assert len(names) == len(base) + 2
    assert runs.run_name(**base) == "msp-improv_rt-4class_frames_loso_rbf_svm_original"
