"""``ser run``: the whole story, stage by stage, as the numbered notebooks tell it; and
``ser data prepare``, the data directory every stage reads.

:func:`run_all` prepares the data (:func:`prepare_data`: synthetic corpora when ``dataset/``
holds none), checks every corpus, writes the manifests, then executes each notebook with
papermill into ``outputs/notebooks/`` (the committed notebooks are never modified).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from .. import paths, synthetic
from ..corpora.check import available_corpora, build_manifest, format_summary
from ..errors import CorpusError
from ..progress import logger as progress_log
from ..reports import NOTEBOOK_VARIABLE, write_summary_report

__all__ = ["prepare_data", "notebook_paths", "execute_notebook", "run_all", "KERNEL_ARGUMENTS"]

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
