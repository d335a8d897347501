"""``ser run --plan``: the work of every notebook counted from the config the notebooks read,
priced at unit costs measured on this machine, with nothing run and nothing written."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ser_utils import config
from ser_utils.corpora import check_corpus, select_files
from ser_utils.deep.arrays import subset_rows
from ser_utils.evaluation import make_protocol
from ser_utils.experiments import plan
from ser_utils.experiments.exploration import exploration_variants
from ser_utils.experiments.network import default_training_seeds

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """The tiny synthetic corpora `make test` runs the notebooks on."""
    from ser_utils import synthetic

    base = tmp_path_factory.mktemp("tiny")
    synthetic.make_tess(base / "TESS", size="tiny", seed=0)
    synthetic.make_msp_improv(base / "MSP-IMPROV", size="tiny", seed=0)
    return base


@pytest.fixture(autouse=True)
def _outputs_elsewhere(tmp_path, monkeypatch):
    """Arrays left in the checkout's outputs/ would count as already made."""
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))


@pytest.fixture(scope="module")
def tiny_rows(tiny_data):
    """The 4-class R+T rows the deep notebooks train on."""
    manifest = check_corpus("msp-improv", tiny_data / "MSP-IMPROV")
    return subset_rows(select_files(manifest).assign(corpus="msp-improv"))


def test_the_plan_names_every_notebook_ser_run_executes():
    assert tuple(p.stem for p in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))) == plan.NOTEBOOKS


def _by_notebook(works, notebook):
    return [w for w in works if w.notebook == notebook]


@pytest.mark.parametrize("profile", config.PROFILES)
@pytest.mark.parametrize("exploration", ["original", "grid"])
def test_trainings_per_notebook_follow_the_config(tiny_data, tiny_rows, profile, exploration):
    works, measures, grid = plan.count_work(tiny_data, profile, exploration=exploration)
    trainings = {nb: sum(w.trainings for w in _by_notebook(works, nb)) for nb in plan.NOTEBOOKS}
    # 05: each variant of the exploration, then the final model
    assert (
        trainings["05_cnn_convlstm_training"] == len(exploration_variants(profile, exploration)) + 1
    )
    assert sum(w.trainings for w in grid) == len(exploration_variants(profile, "grid"))
    # 07: original-4fold over its seeds; under LOSO the original, the improved network and the
    # fusion's members, on every session in full and the smoke sessions in smoke
    sessions = tiny_rows["session"].nunique()
    loso = sessions if profile == "full" else len(config.SMOKE_LOSO_FOLDS)
    fusion = config.fusion_recipe("msp-improv", profile).fusion.members
    expected = config.ORIGINAL_N_FOLDS * len(config.ORIGINAL_4FOLD_TRAINING_SEEDS[profile])
    assert trainings["07_evaluate_end_to_end_model"] == expected + loso * (1 + 1 + fusion)
    # 08: the whisper-head on every session, whatever the profile (the notebook runs them all)
    head = config.whisper_head_recipe("msp-improv", profile)
    assert trainings["08_pretrained_encoders"] == sessions * len(
        default_training_seeds(head, "loso")
    )
    assert sum(trainings.values()) == sum(
        trainings[nb]
        for nb in (
            "05_cnn_convlstm_training",
            "07_evaluate_end_to_end_model",
            "08_pretrained_encoders",
        )
    )
    assert all(key in measures for w in works if w.timed for key in [w.cost])


def test_training_steps_are_epochs_times_batches_times_folds_times_seeds(tiny_data, tiny_rows):
    recipe = config.original_recipe("msp-improv", "full")
    works, _, _ = plan.count_work(tiny_data, "full")
    (four_fold,) = [
        w for w in works if w.what.startswith("original-4fold") and w.cost.startswith("training")
    ]
    y = tiny_rows["label"].astype(str).to_numpy()
    folds = make_protocol("original-4fold", tiny_rows).split(y)
    # the original's train_test_split(test_size=0.2) keeps n - ceil(0.2 n) rows to train on
    batches = sum(
        math.ceil((len(train) - math.ceil(0.2 * len(train))) / recipe.training.batch_size)
        for train, _ in folds
    )
    seeds = len(config.ORIGINAL_4FOLD_TRAINING_SEEDS["full"])
    assert four_fold.units == recipe.training.epochs * batches * seeds
    assert four_fold.trainings == len(folds) * seeds
    files = select_files(check_corpus("msp-improv", tiny_data / "MSP-IMPROV"))
    arrays = [w.units for w in works if w.notebook == "04_generate_arrays"]
    assert (
        arrays == [len(files)] * 2
    )  # the original's arrays; the improved recipe's (the fusion's too)


def test_the_plan_is_units_times_measured_costs():
    works = (
        plan.Work("05_cnn_convlstm_training", "a", "step", 10, trainings=1),
        plan.Work("02_feature_extraction", "b", "clip", 9, parallel=3),
        plan.Work("03_traditional_models", "c", plan.SKLEARN_FIT, 4, timed=False),
        plan.Work("08_pretrained_encoders", "d", plan.HEAD_TRAINING, 6, trainings=6, timed=False),
    )
    costs = plan.measure_costs(
        {
            "step": lambda: plan.Cost("step", 2.0, "measured"),
            "clip": lambda: plan.Cost("clip", 0.5, "measured"),
        },
        progress=False,
    )
    result = plan.RunPlan("data", "full", ("msp-improv",), "original", works, costs)
    assert result.notebook_seconds()["05_cnn_convlstm_training"] == 20.0
    assert result.notebook_seconds()["02_feature_extraction"] == 1.5
    assert result.total_seconds == 21.5 and result.trainings()["05_cnn_convlstm_training"] == 1
    text = plan.format_plan(result)
    assert "+ 4 scikit-learn fits, not timed" in text and "total" in text
    assert "6 networks trained; + 6 whisper-head trainings, not timed" in text


def test_ser_run_plan_measures_prints_and_writes_nothing(tiny_data, tmp_path, monkeypatch, capsys):
    from ser_utils.app.cli import main

    outputs = tmp_path / "outputs"  # SER_OUTPUT_DIR (_outputs_elsewhere)
    monkeypatch.setenv("SER_DATA_DIR", str(tiny_data))
    monkeypatch.setenv("SER_PROFILE", "smoke")
    before = sorted(p.relative_to(tiny_data) for p in tiny_data.rglob("*"))
    assert main(["run", "--plan"]) == 0
    text = capsys.readouterr().out
    assert not outputs.exists()  # no manifest, feature, array, model or run written
    assert sorted(p.relative_to(tiny_data) for p in tiny_data.rglob("*")) == before
    for notebook in plan.NOTEBOOKS:
        assert notebook in text
    assert "networks trained" in text and "total" in text and "unit costs:" in text
    assert "CPU (no GPU visible)" in text or "GPU: " in text
