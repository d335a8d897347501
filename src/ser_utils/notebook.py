"""Helpers shared by the numbered notebooks: the standard first cells and the setup call.

Every notebook starts with the same two code cells:

1. ``parameters`` (tagged for papermill): profile, data and output directories, read from
   the environment (``SER_PROFILE``, ``SER_DATA_DIR``, ``SER_OUTPUT_DIR``), empty meaning
   "the default" (smoke profile on synthetic data, full on real corpora).
2. Colab setup: does nothing outside Colab; in Colab it clones and installs the project
   and can mount Google Drive, where the user keeps the corpora.

then calls :func:`setup`, which exports the parameters, prepares the data (synthetic
corpora when none is present) and prints where everything is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import config

__all__ = ["setup", "Context", "write_notebook", "PARAMETERS_CELL", "COLAB_CELL", "REPOSITORY_URL"]

#: Where the notebooks' Colab cell clones the project from.
REPOSITORY_URL = "https://github.com/ser-reproduction/speech-emotion-recognition"

PARAMETERS_CELL = '''# Parameters (papermill): empty strings mean "the default".
import os

PROFILE = os.environ.get("SER_PROFILE", "")  # "full" | "smoke"; default: smoke on synthetic data
DATA_DIR = os.environ.get("SER_DATA_DIR", "")  # holds TESS/ and MSP-IMPROV/; default: dataset/
OUTPUT_DIR = os.environ.get("SER_OUTPUT_DIR", "")  # default: outputs/
'''

COLAB_CELL = f'''# Colab only: install the project and, optionally, mount Google Drive holding the corpora.
import sys

MOUNT_DRIVE = False  # True: set DATA_DIR to a Drive folder holding TESS/ and MSP-IMPROV/
if "google.colab" in sys.modules:
    import subprocess

    subprocess.run(["git", "clone", "--depth", "1", "{REPOSITORY_URL}", "/content/ser"], check=False)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/ser"], check=True)
    sys.path.insert(0, "/content/ser/src")
    os.chdir("/content/ser/notebooks")
    if MOUNT_DRIVE:
        from google.colab import drive

        drive.mount("/content/drive")
'''


@dataclass(frozen=True)
class Context:
    profile: str
    data_dir: Path
    output_dir: Path
    synthetic: bool

    def corpus_root(self, corpus: str) -> Path:
        return config.corpus_root(corpus, self.data_dir)


def setup(profile: str = "", data_dir: str | Path = "", output_dir: str | Path = "") -> Context:
    """Export the notebook's parameters, prepare the data and print where everything is."""
    from .data_check import prepare_data

    for name, value in (("SER_PROFILE", profile), ("SER_DATA_DIR", data_dir), ("SER_OUTPUT_DIR", output_dir)):
        if str(value):
            os.environ[name] = str(Path(value).resolve()) if name != "SER_PROFILE" else str(value)
    base = prepare_data()
    context = Context(config.current_profile(), base, config.output_dir(), config.is_synthetic(base))
    kind = "SYNTHETIC corpora (numbers say nothing about real speech)" if context.synthetic else "real corpora"
    print(f"profile {context.profile} · data {context.data_dir} ({kind}) · outputs {context.output_dir}")
    return context


def write_notebook(path: str | Path, cells: list[tuple[str, str]], *, title: str) -> Path:
    """Write a notebook without outputs: a title, the standard first cells, then ``cells``.

    ``cells`` are ``("markdown" | "code", source)`` pairs. Used to author the numbered
    notebooks; the result is what gets committed.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    parameters = nbformat.v4.new_code_cell(PARAMETERS_CELL.strip())
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(title.strip()), parameters,
                      nbformat.v4.new_code_cell(COLAB_CELL.strip())]
    for kind, source in cells:
        maker = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        notebook.cells.append(maker(source.strip()))
    for cell in notebook.cells:  # stable ids keep diffs small when a notebook is rewritten
        cell.pop("id", None)
    notebook.nbformat_minor = 4
    path = Path(path)
    nbformat.write(notebook, str(path))
    return path
