"""The notebooks' Colab set-up: install the project, with every extra the notebooks import, from
a clone or from a copy uploaded to ``/content`` or kept on Google Drive.

In Colab the package is not installed when a notebook starts, so its Colab cell (:data:`COLAB_CELL`)
clones the repository, puts the copy's ``src/`` on ``sys.path`` and calls
:func:`install_project` from there. This module therefore imports nothing but the standard
library: it runs before any of the project's dependencies is installed.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

__all__ = [
    "NOTEBOOK_EXTRAS",
    "CLONE_DIR",
    "REPOSITORY_URL",
    "COLAB_CELL",
    "colab_cell",
    "install_project",
]

#: Where the notebooks' Colab cell clones the project from: the one place to change it
#: (:func:`ser_utils.app.notebook.set_repository_url` rewrites the notebooks' Colab cells and the
#: README's badges). In Colab, ``SER_REPOSITORY_URL`` overrides it for one session.
REPOSITORY_URL = "https://github.com/ser-reproduction/speech-emotion-recognition"

#: The extras of ``pyproject.toml`` the notebooks need beside the core dependencies: the deep
#: models (TensorFlow, Keras), openSMILE's eGeMAPS and the pretrained speech encoders.
#: ``tests/app/test_notebook.py`` fails when a notebook imports what these would not install.
NOTEBOOK_EXTRAS: tuple[str, ...] = ("deep", "egemaps", "encoders")

#: Where the Colab cell clones the project.
CLONE_DIR = "/content/ser"

#: ``{url}`` is filled with :data:`REPOSITORY_URL`; every notebook carries the same cell.
COLAB_CELL_TEMPLATE = """# Colab only: clone the project (when that fails, use a copy uploaded to /content or kept on
# Google Drive) and install it with every extra the notebooks import (ser_utils.app.colab).
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
    clone = subprocess.run(
        ["git", "clone", "-q", "--depth", "1", url, "/content/ser"], capture_output=True, text=True
    )
    candidates = [
        "/content/ser",
        *sorted(glob.glob("/content/*") + glob.glob("/content/drive/MyDrive/*")),
    ]
    copies = [folder for folder in candidates if os.path.isdir(f"{{folder}}/src/ser_utils")]
    if not copies:
        raise SystemExit(
            f"could not clone {{url}} ({{clone.stderr.strip()[-120:]}}) and found no copy of the project "
            "in /content or on Drive — upload the repository folder, or set SER_REPOSITORY_URL"
        )
    sys.path.insert(0, f"{{copies[0]}}/src")
    from ser_utils.app.colab import install_project

    install_project(copies[0], url=url)
"""


def colab_cell(url: str = REPOSITORY_URL) -> str:
    """The Colab cell of every notebook, cloning ``url``."""
    return COLAB_CELL_TEMPLATE.format(url=url)


COLAB_CELL = colab_cell()


def install_project(copy: str, *, url: str = REPOSITORY_URL, extras=NOTEBOOK_EXTRAS) -> str:
    """``pip install -e copy[extras]`` into the running kernel, then work in ``copy/notebooks``.

    Says in one line when ``copy`` is not the clone (:data:`CLONE_DIR`): cloning ``url`` failed
    and an uploaded copy is used instead. Returns ``copy``.
    """
    copy = os.path.normpath(copy)
    if copy != os.path.normpath(CLONE_DIR):
        print(f"could not clone {url}; installing the copy in {copy} instead")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "-e", f"{copy}[{','.join(extras)}]"],
        check=True,
    )
    importlib.invalidate_caches()  # what pip just installed is importable in this kernel
    os.chdir(os.path.join(copy, "notebooks"))
    return copy
