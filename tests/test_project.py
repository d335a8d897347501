"""Repository rules a reader relies on: every requirement pinned, notebooks are committed
clean and take papermill parameters, the package imports without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_requirement_is_pinned_exactly():
    lines = [
        line
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert all("==" in line for line in lines), lines


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebooks_are_committed_without_outputs_and_take_parameters(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and not c.get("execution_count") for c in code)
    assert "parameters" in code[0].get("metadata", {}).get("tags", [])
    assert "SER_DATA_DIR" in "".join(code[0]["source"])


def test_notebooks_are_numbered_in_order():
    numbers = [int(n.name[:2]) for n in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1))


def test_importing_the_package_and_its_data_modules_does_not_import_tensorflow():
    code = (
        "import sys, ser_utils, ser_utils.app.cli, ser_utils.app.pipeline, ser_utils.corpora, "
        "ser_utils.audio, ser_utils.features, ser_utils.evaluation, ser_utils.traditional, "
        "ser_utils.reports, ser_utils.experiments, ser_utils.deep.arrays, ser_utils.deep.views; "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_the_readme_stays_short_and_leads_with_the_reproduction():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail to docs/"
    first_screen = "\n".join(lines[:20])
    assert "Reproduce 50.29 %" in first_screen and "--protocol original-4fold" in first_screen
