"""The notebooks' Colab cell (ser_utils.app.colab): clone or copy, install with the notebooks'
extras; every import of every notebook is installed by it."""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ser_utils.app import colab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PACKAGE = ROOT / "src" / "ser_utils"


def _run_colab_cell(tmp_path, monkeypatch, clone_returncode: int) -> tuple[list, list, list]:
    """Execute the Colab cell as Colab would, with /content under ``tmp_path`` and no network."""
    import os
    import types

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
    monkeypatch.setattr(colab, "CLONE_DIR", str(tmp_path / "content" / "ser"))
    source = colab.COLAB_CELL.replace("/content", str(tmp_path / "content"))
    exec(compile(source, "colab-cell", "exec"), {"os": os})
    return calls, directories, sys.path[:1]


def _clone(tmp_path) -> Path:
    copy = tmp_path / "content" / "ser"
    (copy / "src" / "ser_utils").mkdir(parents=True)
    return copy


def test_colab_cell_installs_the_clone_with_the_notebooks_extras(tmp_path, monkeypatch, capsys):
    copy = _clone(tmp_path)  # what a successful `git clone` leaves
    calls, directories, path = _run_colab_cell(tmp_path, monkeypatch, clone_returncode=0)
    assert calls[0][:2] == ["git", "clone"] and calls[0][-1] == str(copy)
    assert calls[1][1:] == ["-m", "pip", "install", "-q", "-e", f"{copy}[deep,egemaps,encoders]"]
    assert path == [f"{copy}/src"] and directories == [str(copy / "notebooks")]
    assert capsys.readouterr().out == ""


def test_colab_cell_falls_back_to_an_uploaded_copy_when_cloning_fails(
    tmp_path, monkeypatch, capsys
):
    uploaded = tmp_path / "content" / "speech-emotion-recognition-main"
    (uploaded / "src" / "ser_utils").mkdir(parents=True)
    (tmp_path / "content" / "sample_data").mkdir()  # Colab's own folder: not a copy
    calls, directories, path = _run_colab_cell(tmp_path, monkeypatch, clone_returncode=128)
    assert calls[1][-1] == f"{uploaded}[deep,egemaps,encoders]"
    assert path == [f"{uploaded}/src"] and directories == [str(uploaded / "notebooks")]
    assert capsys.readouterr().out.strip().splitlines() == [
        f"could not clone {colab.REPOSITORY_URL}; installing the copy in {uploaded} instead"
    ]


def test_colab_cell_finds_a_copy_kept_on_drive(tmp_path, monkeypatch):
    kept = tmp_path / "content" / "drive" / "MyDrive" / "ser"
    (kept / "src" / "ser_utils").mkdir(parents=True)
    calls, directories, _ = _run_colab_cell(tmp_path, monkeypatch, clone_returncode=128)
    assert calls[1][-1] == f"{kept}[deep,egemaps,encoders]"


def test_colab_cell_says_what_to_do_when_neither_clone_nor_copy_exists(tmp_path, monkeypatch):
    with pytest.raises(
        SystemExit,
        match="could not clone .*unable to access.* found no copy of the project.*upload",
    ):
        _run_colab_cell(tmp_path, monkeypatch, clone_returncode=128)


def test_colab_cell_does_nothing_outside_colab(monkeypatch):
    import os

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command"))
    exec(compile(colab.COLAB_CELL, "colab-cell", "exec"), {"os": os})


def test_the_colab_module_runs_before_anything_is_installed():
    """It is imported from a fresh clone: the standard library only."""
    tree = ast.parse((PACKAGE / "app" / "colab.py").read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    } - {"__future__"}
    assert imported <= set(sys.stdlib_module_names), imported
    for init in (PACKAGE / "__init__.py", PACKAGE / "app" / "__init__.py"):
        assert "import" not in init.read_text().split('"""')[-1], init  # the way there is free


# ------------------------------------------------------- what the notebooks import
#: Imports the Colab cell need not install: Colab itself provides them (google.colab; the
#: kernel, IPython; nbformat, with which every Jupyter front end reads notebooks).
PROVIDED = {"google", "IPython", "ipykernel", "nbformat"}
#: Lazy imports of the package that a notebook never reaches, with the reason.
NOT_FROM_A_NOTEBOOK = {
    "papermill": "ser run executes the notebooks with it; a notebook never does",
}


def _imports(source: str) -> set[str]:
    source = "\n".join(
        line for line in source.splitlines() if not line.lstrip().startswith(("!", "%"))
    )
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _module_file(name: str) -> Path | None:
    relative = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def _package_imports(module: str, source: Path) -> set[str]:
    """The absolute names ``module``'s file imports, relative imports resolved."""
    package = module if source.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{base}.{node.module}" if node.module else base
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names | _imports(source.read_text())


def third_party_imports(notebook: Path) -> set[str]:
    """Top-level names of what the notebook's code cells import, directly or through the package
    (every module of ser_utils they reach, lazy imports included)."""
    cells = json.loads(notebook.read_text())["cells"]
    pending = set().union(
        *(_imports("".join(c["source"])) for c in cells if c["cell_type"] == "code")
    )
    seen, outside = set(), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.split(".")[0] != "ser_utils":
            outside.add(name.split(".")[0])
            continue
        source = _module_file(name)
        if source is not None:
            module = name
            pending |= _package_imports(module, source)
    return outside - set(sys.stdlib_module_names) - PROVIDED - set(NOT_FROM_A_NOTEBOOK)


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def installed_by_the_colab_cell(extras=colab.NOTEBOOK_EXTRAS) -> frozenset[str]:
    """The distributions ``pip install -e .[extras]`` installs: ser-utils's requirements with those
    extras, and theirs where this environment has them (a name this environment resolved to
    another distribution, such as tensorflow to tensorflow-cpu, is kept as named)."""
    wanted, done = [("ser-utils", tuple(extras))], set()
    while wanted:
        name, chosen = wanted.pop()
        key = _key(name)
        if key in done:
            continue
        done.add(key)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # named, not here: its own requirements are pip's business
        for line in requirements:
            requirement = Requirement(line)
            wanted_here = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (*chosen, "")
            )
            if wanted_here:
                wanted.append((requirement.name, tuple(requirement.extras)))
    return frozenset(done)


@functools.cache
def _providers() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def _distributions(import_name: str) -> set[str]:
    """The distributions that provide ``import_name`` here, and the one named like it."""
    return {_key(d) for d in _providers().get(import_name, [])} | {_key(import_name)}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_the_colab_cell_installs_what_the_notebook_imports(notebook):
    installed = installed_by_the_colab_cell()
    missing = {
        name: sorted(_distributions(name))
        for name in third_party_imports(notebook)
        if not _distributions(name) & installed
    }
    assert not missing, (
        f"{notebook.name} imports {missing}, which the Colab cell's "
        f"`pip install -e .[{','.join(colab.NOTEBOOK_EXTRAS)}]` does not install: add the extra "
        "to ser_utils.app.colab.NOTEBOOK_EXTRAS (or the distribution to pyproject.toml)"
    )


def test_the_import_check_sees_through_the_package_and_fails_without_an_extra():
    reached = set().union(*(third_party_imports(n) for n in NOTEBOOKS))
    # the notebooks import none of these themselves: the package's modules they reach do
    assert {"opensmile", "tensorflow", "keras", "librosa", "sklearn"} <= reached
    without = installed_by_the_colab_cell(("deep", "encoders"))
    assert not _distributions("opensmile") & without  # the eGeMAPS notebooks would stop
    assert _distributions("opensmile") & installed_by_the_colab_cell()
