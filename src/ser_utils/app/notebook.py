"""Helpers shared by the numbered notebooks: the standard first cells and the setup call.

Every notebook starts with the same two code cells:

1. ``parameters`` (tagged for papermill): profile, data and output directories, read from
   the environment (``SER_PROFILE``, ``SER_DATA_DIR``, ``SER_OUTPUT_DIR``), empty meaning
   "the default" (smoke profile on synthetic data, full on real corpora).
2. Colab setup: does nothing outside Colab; in Colab it clones and installs the project
   (or, when cloning fails, a copy uploaded to ``/content`` or kept on Google Drive, saying
   so in one line) and can mount Google Drive, where the user keeps the corpora.

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

#: Where the notebooks' Colab cell clones the project from: the one place to change it
#: (:func:`set_repository_url` rewrites the notebooks' Colab cells and the README's badges).
#: In Colab, ``SER_REPOSITORY_URL`` overrides it for one session.
REPOSITORY_URL = "https://github.com/ser-reproduction/speech-emotion-recognition"

PARAMETERS_CELL = """# Parameters (papermill): empty strings mean "the default".
import os

PROFILE = os.environ.get("SER_PROFILE", "")  # "full" | "smoke"; default: smoke on synthetic data
DATA_DIR = os.environ.get("SER_DATA_DIR", "")  # holds TESS/ and MSP-IMPROV/; default: dataset/
OUTPUT_DIR = os.environ.get("SER_OUTPUT_DIR", "")  # default: outputs/
"""

#: ``{url}`` is filled with :data:`REPOSITORY_URL`; every notebook carries the same cell.
COLAB_CELL_TEMPLATE = """# Colab only: install the project — cloned, or a copy uploaded to /content or kept on Google
# Drive when cloning fails — and optionally mount Drive, which can hold the corpora too.
import sys

# Where the project is cloned from; SER_REPOSITORY_URL overrides it.
REPOSITORY_URL = "{url}"
MOUNT_DRIVE = False  # True: mount Google Drive (then DATA_DIR can be a Drive folder)
if "google.colab" in sys.modules:
    import glob
    import subprocess

    if MOUNT_DRIVE:
        from google.colab import drive

        drive.mount("/content/drive")
    url = os.environ.get("SER_REPOSITORY_URL") or REPOSITORY_URL
    copy = "/content/ser"
    if not os.path.isdir(f"{{copy}}/src/ser_utils"):
        clone = subprocess.run(
            ["git", "clone", "-q", "--depth", "1", url, copy], capture_output=True, text=True
        )
        if clone.returncode != 0:
            found = sorted(
                glob.glob("/content/*/src/ser_utils")
                + glob.glob("/content/drive/MyDrive/*/src/ser_utils")
            )
            if not found:
                raise SystemExit(
                    f"could not clone {{url}} ({{clone.stderr.strip()[-120:]}}) and found no copy of the "
                    "project in /content or on Drive — upload the repository folder, or set "
                    "SER_REPOSITORY_URL to a reachable clone URL"
                )
            copy = os.path.dirname(os.path.dirname(found[0]))
            print(f"could not clone {{url}}; installing the copy in {{copy}} instead")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", copy], check=True)
    sys.path.insert(0, f"{{copy}}/src")
    os.chdir(f"{{copy}}/notebooks")
"""


def colab_cell(url: str = REPOSITORY_URL) -> str:
    """The Colab cell of every notebook, cloning ``url``."""
    return COLAB_CELL_TEMPLATE.format(url=url)


COLAB_CELL = colab_cell()


def colab_badge_url(notebook_name: str, url: str = REPOSITORY_URL) -> str:
    """``https://colab.research.google.com/github/<owner>/<repo>/blob/main/notebooks/<name>``."""
    owner_repo = url.rstrip("/").removesuffix(".git").split("github.com/", 1)[-1]
    return (
        f"https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{notebook_name}"
    )


def set_repository_url(url: str, *, root: str | Path | None = None) -> list[Path]:
    """Point every notebook's Colab cell and the README's badges at ``url`` (after a fork).

    Also change :data:`REPOSITORY_URL` to ``url``; ``tests/app/test_notebook.py`` checks that the
    three agree. Returns the files rewritten.
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
