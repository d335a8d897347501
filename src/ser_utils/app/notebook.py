"""Helpers shared by the numbered notebooks: the standard first cells and the setup call.

Every notebook starts with the same two code cells:

1. ``parameters`` (tagged for papermill): profile, data and output directories, read from
   the environment (``SER_PROFILE``, ``SER_DATA_DIR``, ``SER_OUTPUT_DIR``), empty meaning
   "the default" (smoke profile on synthetic data, full on real corpora).
2. Colab setup (:data:`~ser_utils.app.colab.COLAB_CELL`): does nothing outside Colab; in Colab
   it clones the project (or, when cloning fails, takes a copy uploaded to ``/content`` or kept
   on Google Drive, saying so in one line), can mount Google Drive, where the user keeps the
   corpora, and installs the project with every extra the notebooks import
   (:func:`ser_utils.app.colab.install_project`).

then calls :func:`setup`, which exports the parameters, prepares the data (synthetic
corpora when none is present) and prints where everything is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .. import paths
from ..progress import logger as progress_log
from ..progress import show_progress
from .colab import COLAB_CELL, REPOSITORY_URL, colab_cell
from .pipeline import prepare_data

__all__ = [
    "setup",
    "Context",
    "write_notebook",
    "PARAMETERS_CELL",
    "COLAB_CELL",
    "REPOSITORY_URL",
    "colab_cell",
    "colab_badge_url",
    "set_repository_url",
]

PARAMETERS_CELL = """# Parameters (papermill): empty strings mean "the default".
import os

PROFILE = os.environ.get("SER_PROFILE", "")  # "full" | "smoke"; default: smoke on synthetic data
DATA_DIR = os.environ.get("SER_DATA_DIR", "")  # holds TESS/ and MSP-IMPROV/; default: dataset/
OUTPUT_DIR = os.environ.get("SER_OUTPUT_DIR", "")  # default: outputs/
"""


def colab_badge_url(notebook_name: str, url: str = REPOSITORY_URL) -> str:
    """``https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/<name>``."""
    owner_repo = url.rstrip("/").removesuffix(".git").split("github.com/", 1)[-1]
    return (
        f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{notebook_name}"
    )


def set_repository_url(url: str, *, root: str | Path | None = None) -> list[Path]:
    """Point every notebook's Colab cell and the README's badges at ``url`` (after a fork).

    Also change :data:`ser_utils.app.colab.REPOSITORY_URL` to ``url``;
    ``tests/app/test_notebook.py`` checks that the three agree. Returns the files rewritten.
    """
    root = Path(root or paths.repository_root())
    changed = []
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        notebook.cells[2].source = colab_cell(url).strip()
        nbformat.write(notebook, str(path))
        changed.append(path)
    readme = root / "README.md"
    text = readme.read_text()
    for path in changed:
        text = text.replace(colab_badge_url(path.name), colab_badge_url(path.name, url))
    readme.write_text(text)
    return [*changed, readme]


@dataclass(frozen=True)
class Context:
    profile: str
    data_dir: Path
    output_dir: Path
    synthetic: bool

    def corpus_root(self, corpus: str) -> Path:
        return paths.corpus_root(corpus, self.data_dir)


def setup(profile: str = "", data_dir: str | Path = "", output_dir: str | Path = "") -> Context:
    """Export the notebook's parameters, prepare the data and print where everything is."""
    for name, value in (
        ("SER_PROFILE", profile),
        ("SER_DATA_DIR", data_dir),
        ("SER_OUTPUT_DIR", output_dir),
    ):
        if str(value):
            os.environ[name] = str(Path(value).resolve()) if name != "SER_PROFILE" else str(value)
    base = prepare_data()
    show_progress()  # the runs' stage lines appear in the notebook
    context = Context(paths.profile(), base, paths.output_dir(), paths.is_synthetic(base))
    kind = (
        "SYNTHETIC corpora (numbers say nothing about real speech)"
        if context.synthetic
        else "real corpora"
    )
    progress_log.info(
        f"profile {context.profile} · data {context.data_dir} ({kind}) · outputs {context.output_dir}"
    )
    return context


def write_notebook(path: str | Path, cells: list[tuple[str, str]], *, title: str) -> Path:
    """Write a notebook without outputs: a title, the standard first cells, then ``cells``.

    ``cells`` are ``("markdown" | "code", source)`` pairs. Used to author the numbered
    notebooks; the result is what gets committed.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    parameters = nbformat.v4.new_code_cell(PARAMETERS_CELL.strip())
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell(title.strip()),
        parameters,
        nbformat.v4.new_code_cell(COLAB_CELL.strip()),
    ]
    for kind, source in cells:
        maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        notebook.cells.append(maker(source.strip()))
    for cell in notebook.cells:  # stable ids keep diffs small when a notebook is rewritten
        cell.pop("id", None)
    notebook.nbformat_minor = 4
    path = Path(path)
    nbformat.write(notebook, str(path))
    return path
