"""The notebooks' Colab cell and badges (ser_utils.app.notebook)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _run_colab_cell(
    tmp_path, monkeypatch, clone_returncode: int
) -> tuple[list[list[str]], list[str]]:
    """Execute the Colab cell as Colab would, with /content under ``tmp_path`` and no network."""
    import os
    import types

    from ser_utils.app import notebook

    calls, directories = [], []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(
            command,
            clone_returncode if command[0] == "git" else 0,
            "",
            "fatal: unable to access the repository",
        )

    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(os, "chdir", directories.append)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(sys, "path", list(sys.path))
    source = notebook.COLAB_CELL.replace("/content", str(tmp_path / "content"))
    exec(compile(source, "colab-cell", "exec"), {"os": os})
    return calls, directories


# ---------------------------------------------------------------------------- Colab
def test_every_notebook_carries_the_one_colab_cell_and_the_readme_its_badge():
    from ser_utils.app import notebook

    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        assert "".join(cells[2]["source"]) == notebook.COLAB_CELL.strip(), path.name
        assert notebook.colab_badge_url(path.name) in readme, path.name
    assert notebook.REPOSITORY_URL in notebook.COLAB_CELL


def test_colab_cell_installs_the_clone(tmp_path, monkeypatch, capsys):
    calls, directories = _run_colab_cell(tmp_path, monkeypatch, clone_returncode=0)
    copy = str(tmp_path / "content" / "ser")
    assert calls[0][:2] == ["git", "clone"] and calls[0][-1] == copy
    assert calls[1][-4:] == ["install", "-q", "-e", copy] and directories == [f"{copy}/notebooks"]
    assert capsys.readouterr().out == ""


def test_colab_cell_falls_back_to_an_uploaded_copy_when_cloning_fails(
    tmp_path, monkeypatch, capsys
):
    from ser_utils.app.notebook import REPOSITORY_URL

    uploaded = tmp_path / "content" / "speech-emotion-recognition-main"
    (uploaded / "src" / "ser_utils").mkdir(parents=True)
    calls, directories = _run_colab_cell(tmp_path, monkeypatch, clone_returncode=128)
    assert calls[1][-1] == str(uploaded) and directories == [f"{uploaded}/notebooks"]
    assert capsys.readouterr().out.strip().splitlines() == [
        f"could not clone {REPOSITORY_URL}; installing the copy in {uploaded} instead"
    ]


def test_colab_cell_says_what_to_do_when_neither_clone_nor_copy_exists(tmp_path, monkeypatch):
    with pytest.raises(
        SystemExit, match="could not clone .* found no copy of the project.*upload the repository"
    ):
        _run_colab_cell(tmp_path, monkeypatch, clone_returncode=128)


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
