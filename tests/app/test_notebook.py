"""The notebooks' standard cells and Colab badges (ser_utils.app.notebook)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


# ---------------------------------------------------------------------------- Colab
def test_every_notebook_carries_the_one_colab_cell_and_the_readme_its_badge():
    from ser_utils.app import notebook

    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        # the shared parameters first; a notebook may add its own below them (05: EXPLORATION)
        assert "".join(cells[1]["source"]).startswith(notebook.PARAMETERS_CELL.strip()), path.name
        assert "".join(cells[2]["source"]) == notebook.COLAB_CELL.strip(), path.name
        assert notebook.colab_badge_url(path.name) in readme, path.name
    assert notebook.REPOSITORY_URL in notebook.COLAB_CELL


#: The original study's notebooks, by their file names, that each notebook rebuilds.
ORIGINAL_NOTEBOOKS = {
    "01": "model_first.ipynb",
    "02": "model_first.ipynb",
    "03": "model_first.ipynb",
    "04": "data generate.ipynb",
    "05": "CNN + ConvLSTM.ipynb",
    "06": "eval base model .ipynb",
    "07": "Evaluation Model Final.ipynb",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_first_cell_names_the_original_notebook_by_its_file_name(path):
    first = json.loads(path.read_text())["cells"][0]
    assert first["cell_type"] == "markdown"
    named = set(re.findall(r"`([^`]+\.ipynb)`", "".join(first["source"])))
    expected = ORIGINAL_NOTEBOOKS.get(path.name[:2])
    if expected is None:  # a notebook the original study did not have (08: pretrained encoders)
        return
    assert named == {expected}, f"{path.name}: the first cell names {named or 'no notebook'}"


def test_set_repository_url_rewrites_cells_and_badges_in_a_copy(tmp_path):
    import shutil

    from ser_utils.app import notebook

    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    fork = "https://github.com/someone/ser-fork"
    notebook.set_repository_url(fork, root=tmp_path)
    for path in sorted((tmp_path / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert fork in "".join(json.loads(path.read_text())["cells"][2]["source"])
        assert notebook.colab_badge_url(path.name, fork) in (tmp_path / "README.md").read_text()
