"""``ser run``: the whole story, stage by stage, as the numbered notebooks tell it; and
``ser data prepare``, the data directory every stage reads.

:func:`run_all` prepares the data (:func:`prepare_data`: synthetic corpora when ``dataset/``
holds none), checks every corpus, writes the manifests, then executes each notebook with
papermill into ``outputs/notebooks/`` (the committed notebooks are never modified). In the
full profile it first prints the plan (:func:`run_plan`, ``ser run --plan``): each notebook's
projected time on this machine, from measured steps of every network it trains.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from .. import paths, synthetic
from ..corpora.check import available_corpora, build_manifest, format_summary
from ..errors import CorpusError
from ..progress import logger as progress_log
from ..reports import NOTEBOOK_VARIABLE, write_summary_report

__all__ = [
    "prepare_data",
    "notebook_paths",
    "notebook_parameter",
    "execute_notebook",
    "run_plan",
    "print_plan_apart",
    "run_all",
    "KERNEL_ARGUMENTS",
]

log = logging.getLogger(__name__)


def prepare_data(*, size: str = "mini", seed: int = 0) -> Path:
    """The data directory to use; makes the synthetic corpora when ``dataset/`` holds none.

    ``SER_DATA_DIR`` wins when set (it must then hold a corpus). Making the synthetic
    corpora is idempotent: a complete copy with the same parameters is left as it is.
    """
    base = paths.data_dir()
    if base == paths.synthetic_dir():
        log.info(
            "no corpus in %s: writing synthetic '%s' corpora to %s",
            paths.user_dataset_dir(),
            size,
            base,
        )
        synthetic.make_tess(paths.corpus_root("tess", base), size=size, seed=seed)
        synthetic.make_msp_improv(paths.corpus_root("msp-improv", base), size=size, seed=seed)
    elif not available_corpora(base):
        raise CorpusError(
            f"SER_DATA_DIR={base} holds neither TESS/ nor MSP-IMPROV/ — point it at the folder "
            "that holds them, or unset it to use dataset/"
        )
    return base


def notebook_paths(notebooks_dir: Path | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) of ``notebooks_dir`` (default the checkout's), in order."""
    folder = Path(notebooks_dir or paths.repository_root() / "notebooks")
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def notebook_parameter(notebook: Path, name: str, default=None):
    """The value a notebook's parameters cell (tagged ``parameters``) assigns to ``name``, a
    literal; ``default`` when the cell assigns none."""
    cells = json.loads(Path(notebook).read_text())["cells"]
    for cell in cells:
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        for node in ast.parse("".join(cell["source"])).body:
            if (
                isinstance(node, ast.Assign)
                and [getattr(t, "id", None) for t in node.targets] == [name]
                and isinstance(node.value, ast.Constant)
            ):
                return node.value.value
    return default


def run_plan(*, notebooks_dir: Path | None = None, details: bool = True) -> str:
    """The plan of ``ser run`` for the data and profile it would use (:func:`ser_utils.paths.data_dir`,
    :func:`ser_utils.paths.profile`), as text; runs no notebook and writes nothing. Notebook 05's
    exploration is the one its parameters cell names (``EXPLORATION``)."""
    from ..experiments.plan import format_plan, plan_run  # TensorFlow: the plan measures networks

    exploration = "original"
    for notebook in notebook_paths(notebooks_dir):
        exploration = notebook_parameter(notebook, "EXPLORATION", exploration)
    base = paths.data_dir()
    if base == paths.synthetic_dir() and not available_corpora(base):
        raise CorpusError(
            f"no corpus in {paths.user_dataset_dir()} and no synthetic corpora yet — "
            "`ser data prepare` (or `make data`) writes them"
        )
    return format_plan(plan_run(base, paths.profile(), exploration=exploration), details=details)


def print_plan_apart(notebooks_dir: Path | None = None) -> int:
    """``ser run --plan`` in a process of its own, so that the memory TensorFlow kept from
    measuring the networks is given back before the first notebook starts; its exit status
    (a failed plan is reported, and the run goes on)."""
    command = [sys.executable, "-m", "ser_utils.app.cli", "run", "--plan"]
    if notebooks_dir is not None:
        command += ["--notebooks", str(notebooks_dir)]
    status = subprocess.run(command, check=False).returncode
    if status:
        log.warning("the plan could not be made (exit status %d); running anyway", status)
    return status


#: Kernel options: the kernel's own start-up warnings (e.g. "running over TCP without
#: encryption", about a kernel that only this process talks to) would bury the progress lines.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def execute_notebook(notebook: Path, out_dir: Path, *, progress: bool = True) -> Path:
    """Run ``notebook`` with papermill into ``out_dir`` (same name), parameters from the environment.

    With ``progress``, a bar counts the notebook's cells as they run.
    """
    import papermill  # the notebooks extra: only `ser run` needs it

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / notebook.name
    papermill.execute_notebook(
        str(notebook),
        str(target),
        cwd=str(notebook.parent),
        progress_bar=progress,
        kernel_name="python3",
        extra_arguments=KERNEL_ARGUMENTS,
    )
    return target


def run_all(*, notebooks_dir: Path | None = None) -> list[Path]:
    """Prepare the data, check and save every corpus's manifest, execute every notebook in
    order and write ``outputs/report.md``; returns the executed notebooks."""
    base = prepare_data()
    # Notebooks read these, so the kernels see the same data, outputs and profile as this process.
    os.environ.setdefault("SER_DATA_DIR", str(base))
    os.environ.setdefault("SER_OUTPUT_DIR", str(paths.output_dir()))
    os.environ.setdefault("SER_PROFILE", paths.profile())
    progress_log.info(f"data: {base}  outputs: {paths.output_dir()}  profile: {paths.profile()}")
    for corpus in available_corpora(base):
        manifest = build_manifest(corpus)
        progress_log.info(format_summary(manifest))
    if paths.profile() == "full":  # hours of work: what it will cost is said before it starts
        print_plan_apart(notebooks_dir)
    executed = []
    start_all = time.perf_counter()
    notebooks = notebook_paths(notebooks_dir)
    for number, notebook in enumerate(notebooks, start=1):
        start = time.perf_counter()
        progress_log.info(
            f"[{number}/{len(notebooks)}] {notebook.name} (elapsed {time.perf_counter() - start_all:.0f} s)"
        )
        os.environ[NOTEBOOK_VARIABLE] = notebook.name  # the kernel's runs record their notebook
        try:
            executed.append(execute_notebook(notebook, paths.notebooks_output_dir()))
        finally:
            os.environ.pop(NOTEBOOK_VARIABLE, None)
        progress_log.info(f"      done in {time.perf_counter() - start:.0f} s -> {executed[-1]}")
    report = write_summary_report(
        notebooks=executed,
        synthetic=paths.is_synthetic(base),
        profile=paths.profile(),
        seconds=time.perf_counter() - start_all,
    )
    progress_log.info(f"executed notebooks: {paths.notebooks_output_dir()}")
    progress_log.info(f"report: {report}")
    return executed
