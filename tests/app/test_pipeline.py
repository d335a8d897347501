"""`ser run`: data, manifests, notebooks executed into outputs/notebooks, the summary report."""

from __future__ import annotations

import json

from ser_utils.app import pipeline
from ser_utils.app.notebook import write_notebook
from ser_utils.progress import hide_progress, show_progress


def test_run_all_executes_the_numbered_notebooks_and_writes_the_report(
    tmp_path, synthetic_root, monkeypatch, capfd
):
    monkeypatch.setenv("SER_DATA_DIR", str(synthetic_root))
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("SER_PROFILE", "smoke")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(
        notebooks / "01_first.ipynb",
        [
            (
                "code",
                """
from ser_utils import config, evaluation, experiments
from ser_utils.app.notebook import setup

context = setup(PROFILE, DATA_DIR, OUTPUT_DIR)
true, predicted = ["angry", "sad", "sad"], ["angry", "sad", "angry"]
m = evaluation.compute_metrics(true, predicted, config.FOUR_CLASSES)
fold = evaluation.FoldResult(1, m["wa"], m["ua"], m["macro_f1"], 9, 3, None, m["confusion"], m["per_class"],
                             evaluation.FoldPredictions(("u1", "u2", "u3"), tuple(true), tuple(predicted)))
result = evaluation.CrossValidation("loso", config.FOUR_CLASSES, (fold,))
experiments.write_run("toy_run", result, recipe=config.original_recipe("msp-improv", "smoke"), directory=None,
               run_config={"kind": "traditional", "corpus": "msp-improv", "subset": "rt-4class", "protocol": "loso",
                           "model": "rbf_svm"})
""",
            )
        ],
        title="# toy",
    )
    (notebooks / "helper.ipynb").write_text("{}")  # not numbered: not run

    show_progress()  # what `ser run` shows: the library logs its progress lines
    executed = pipeline.run_all(notebooks_dir=notebooks)
    hide_progress()

    out, err = capfd.readouterr()  # file descriptors: the kernel is another process
    assert [p.name for p in executed] == ["01_first.ipynb"]
    ran = json.loads((tmp_path / "outputs" / "notebooks" / "01_first.ipynb").read_text())
    assert any(cell.get("outputs") for cell in ran["cells"] if cell["cell_type"] == "code")
    assert "msp-improv: " in out and "tess: 140 utterances" in out  # the data check of every corpus
    assert (tmp_path / "outputs" / "manifests" / "tess.csv").is_file()
    report = (tmp_path / "outputs" / "report.md").read_text()
    # the run is listed under the notebook that wrote it (ser run tells the kernel its name)
    assert report.split("### ", 1)[1].startswith("`01_first.ipynb`")
    assert (
        "| [RBF SVM · frames](runs/toy_run/report.md) | msp-improv | LOSO | 1 | 0.750 | 0.667 | 0.667 |"
        in report
    )
    assert (tmp_path / "outputs" / "runs" / "toy_run" / "report.md").is_file()
    assert out.rstrip().endswith(f"report: {tmp_path / 'outputs' / 'report.md'}")
    assert "[1/1] 01_first.ipynb" in out  # each notebook named, with its number
    assert "Executing" in err and "cell/s" in err  # papermill's bar over the notebook's cells
    assert "running over TCP" not in err  # the kernel's start-up warning is silenced


def _order_of_a_run(tmp_path, synthetic_root, monkeypatch, profile: str) -> list[str]:
    monkeypatch.setenv("SER_DATA_DIR", str(synthetic_root))
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("SER_PROFILE", profile)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("01_a", "02_b"):
        write_notebook(notebooks / f"{name}.ipynb", [("code", "x = 1")], title=f"# {name}")
    calls = []
    monkeypatch.setattr(pipeline, "print_plan_apart", lambda folder: calls.append("plan") or 0)
    monkeypatch.setattr(
        pipeline,
        "execute_notebook",
        lambda notebook, out_dir, **kw: calls.append(notebook.stem) or out_dir / notebook.name,
    )
    monkeypatch.setattr(pipeline, "write_summary_report", lambda **kw: tmp_path / "report.md")
    pipeline.run_all(notebooks_dir=notebooks)
    return calls


def test_a_full_run_prints_its_plan_before_the_first_notebook(
    tmp_path, synthetic_root, monkeypatch
):
    assert _order_of_a_run(tmp_path, synthetic_root, monkeypatch, "full") == [
        "plan",
        "01_a",
        "02_b",
    ]


def test_a_smoke_run_starts_at_once(tmp_path, synthetic_root, monkeypatch):
    assert _order_of_a_run(tmp_path, synthetic_root, monkeypatch, "smoke") == ["01_a", "02_b"]


def test_notebook_parameter_reads_the_parameters_cell(tmp_path):
    from pathlib import Path

    notebook = Path(pipeline.__file__).parents[3] / "notebooks" / "05_cnn_convlstm_training.ipynb"
    assert pipeline.notebook_parameter(notebook, "EXPLORATION") == "original"
    assert pipeline.notebook_parameter(notebook, "NOT_A_PARAMETER", "default") == "default"
