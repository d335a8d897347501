"""outputs/report.md (ser_utils.reports.summary): the headline beside the original's figures, the
LOSO figure on the same folds, every run by notebook under a short name — read from run
directories written by write_run_directory, as the notebooks write them."""

from __future__ import annotations

import shutil

import pytest

from ser_utils import config, evaluation
from ser_utils.reports import NOTEBOOK_VARIABLE, summary, write_run_directory

LABELS = config.FOUR_CLASSES  # angry, happy, neutral, sad


def _fold(number: int, correct: int, *, seed: int | None = None) -> evaluation.FoldResult:
    """A fold of four test utterances, one per class, ``correct`` of them right."""
    true = list(LABELS)
    predicted = [label if i < correct else LABELS[(i + 1) % 4] for i, label in enumerate(true)]
    m = evaluation.compute_metrics(true, predicted, LABELS)
    ids = tuple(f"f{number}s{seed}u{i}" for i in range(4))
    return evaluation.FoldResult(
        number, m["wa"], m["ua"], m["macro_f1"], 12, 4, None, m["confusion"], m["per_class"],
        evaluation.FoldPredictions(ids, tuple(true), tuple(predicted)), training_seed=seed,
    )  # fmt: skip


def _write(runs_dir, name, protocol, folds, *, kind, model, recipe="original", **extra):
    corpus = extra.pop("corpus", "msp-improv")
    recipe_ = config.get_recipe(recipe, corpus, "smoke")
    write_run_directory(
        runs_dir / name,
        name=name,
        recipe=recipe_,
        corpus_root=runs_dir.parent / "data" / "MSP-IMPROV",
        cross_validation=evaluation.CrossValidation(protocol, LABELS, tuple(folds)),
        run_config={"kind": kind, "corpus": corpus, "subset": "rt-4class", "protocol": protocol,
                    "model": model, **extra},
        histories={},
    )  # fmt: skip


#: WA of the headline run: fold -> (seed 0, seed 1), in quarters (one fold has four utterances)
HEADLINE = {1: (4, 2), 2: (2, 2), 3: (3, 1), 4: (1, 3)}


@pytest.fixture(scope="module")
def written_runs(tmp_path_factory):
    """The run directories, written once for the module."""
    runs_dir = tmp_path_factory.mktemp("outputs") / "runs"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _write_runs(runs_dir, monkeypatch)
    return runs_dir


@pytest.fixture
def runs(written_runs, tmp_path, monkeypatch):
    """A copy of the run directories in this test's outputs folder (SER_OUTPUT_DIR)."""
    shutil.copytree(written_runs, tmp_path / "outputs" / "runs")
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    return tmp_path / "outputs" / "runs"


def _write_runs(runs_dir, monkeypatch):
    monkeypatch.setenv(NOTEBOOK_VARIABLE, "07_evaluate_end_to_end_model.ipynb")
    _write(
        runs_dir,
        "msp-improv_rt-4class_original_original-4fold_original_cnn_convlstm_original",
        "original-4fold",
        [_fold(f, HEADLINE[f][s], seed=s) for s in (0, 1) for f in HEADLINE],
        kind="deep",
        model="original_cnn_convlstm",
    )
    _write(
        runs_dir,
        "msp-improv_rt-4class_logmel_loso_improved_tcn_improved_folds-1-2",
        "loso",
        [_fold(1, 4), _fold(2, 2)],
        kind="deep",
        model="improved_tcn",
        recipe="improved",
    )
    monkeypatch.setenv(NOTEBOOK_VARIABLE, "03_traditional_models.ipynb")
    _write(
        runs_dir,
        "msp-improv_rt-4class_egemaps_loso_rbf_svm_improved_grid-grouped_speaker-norm",
        "loso",
        [_fold(1, 1), _fold(2, 3), _fold(3, 0)],
        kind="traditional",
        model="rbf_svm",
        recipe="improved",
        features="egemaps",
    )
    _write(
        runs_dir,
        "msp-improv_rt-4class_frames_loso_rbf_svm_original_control",
        "loso",
        [_fold(1, 1), _fold(2, 1)],
        kind="traditional",
        model="rbf_svm",
        features="frames",
        permute_labels=0,
    )
    monkeypatch.delenv(NOTEBOOK_VARIABLE)
    _write(
        runs_dir,
        "tess_emotions_frames_speaker_mlp_original",
        "speaker",
        [_fold(1, 2), _fold(2, 4)],
        kind="traditional",
        model="mlp",
        features="frames",
        corpus="tess",
    )


def test_the_report_opens_with_the_original_protocol_per_fold_and_seed(runs):
    report = summary.write_summary_report(synthetic=True, profile="smoke").read_text()
    sections = report.split("\n## ")
    assert sections[1].startswith("The original protocol: CNN-ConvLSTM, original 4-fold")
    # seed 0, seed 1, their mean, the original's fold (the fourth implied by its mean)
    for row in (
        "| 1 | 100.00 | 50.00 | 75.00 | 53.44 |",
        "| 2 | 50.00 | 50.00 | 50.00 | 46.23 |",
        "| 3 | 75.00 | 25.00 | 50.00 | 52.79 |",
        "| 4 | 25.00 | 75.00 | 50.00 | 48.70 |",
        "| **mean** | 62.50 | 50.00 | 56.25 | 50.29 |",
    ):
        assert row in sections[1], row
    assert (
        "**56.25 %** WA over 4 folds and 2 training seed(s) on **synthetic** MSP-IMPROV" in report
    )


def test_the_loso_figure_compares_every_run_on_the_folds_all_of_them_ran(runs):
    table, folds = summary.loso_comparison(summary.read_runs(runs))
    assert folds == (1, 2)  # the TCN ran folds 1-2, the SVM 1-3: fold 3 is left out
    svm = table.loc["RBF SVM · egemaps · improved audio · grid grouped · speaker norm"]
    assert svm["ua"] == pytest.approx((0.25 + 0.75) / 2) and svm["ua_std"] == pytest.approx(0.25)
    tcn = table.loc["TCN, improved recipe · folds 1 2"]
    assert tcn["ua"] == pytest.approx(0.75) and tcn["kind"] == "deep"
    assert (
        len(table) == 2
    )  # the control run (permuted labels) and the original 4-fold are not LOSO bars

    report_path = summary.write_summary_report(synthetic=True, profile="smoke")
    figure = report_path.parent / summary.FIGURE_NAME
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        f"![UA of every LOSO run on the same folds]({summary.FIGURE_NAME})"
        in report_path.read_text()
    )


def test_runs_are_grouped_by_notebook_under_short_names(runs):
    report = summary.write_summary_report(synthetic=True, profile="smoke").read_text()
    every_run = report.split("## Every run, by notebook")[1]
    headings = [line for line in every_run.splitlines() if line.startswith("### ")]
    assert headings == [
        "### `03_traditional_models.ipynb`",
        "### `07_evaluate_end_to_end_model.ipynb`",
        "### Other runs (the `ser` commands)",
    ]
    tess = every_run.split("### Other runs")[1]
    assert (
        "| [MLP · frames](runs/tess_emotions_frames_speaker_mlp_original/report.md) | tess | "
        "leave one speaker out | 2 | 0.750 | 0.750 |" in tess
    )
    assert "| [RBF SVM · frames · control]" in every_run  # the control run keeps its table row


def test_without_runs_the_report_says_so_and_leaves_no_old_figure(tmp_path, monkeypatch):
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path))
    stale = tmp_path / summary.FIGURE_NAME
    stale.write_bytes(b"old")
    report = summary.write_summary_report(synthetic=False, profile="full").read_text()
    assert "No run of the original recipe under original-4fold was found" in report
    assert "No MSP-IMPROV four-class LOSO run was found." in report
    assert "No results were saved." in report and not stale.exists()


def test_an_unreadable_run_record_is_counted_not_fatal(runs, caplog):
    (runs / "broken").mkdir()
    (runs / "broken" / "metrics.json").write_text("{not json")
    assert len(summary.read_runs(runs)) == 5
    assert "1 run directories under" in caplog.text
