"""Where everything lives, and which profile a run uses: decided here and nowhere else.

Inputs: the corpora under the data directory (``dataset/`` when it holds one, otherwise
the synthetic copies under ``outputs/synthetic/``). Outputs, all under the output
directory (``outputs/`` by default)::

    manifests/<corpus>.csv           one row per utterance (ser data)
    features/                        the per-file feature cache and saved matrices
    arrays/<corpus>-<recipe>-<profile>/   streamed .npy arrays
    models/<corpus>-<recipe>-<profile>/   model bundles
    runs/<run name>/                 one directory per experiment (:mod:`ser_utils.experiments.runs`)
    notebooks/                       executed notebooks (ser run)
    report.md                        the pipeline's summary

Environment overrides
---------------------
``SER_DATA_DIR``   where the corpora live;
``SER_OUTPUT_DIR`` where every stage writes;
``SER_PROFILE``    ``full`` (the original sizes) or ``smoke`` (tiny, for CI).

Examples
--------
>>> import os
>>> os.environ["SER_OUTPUT_DIR"] = "/tmp/ser-example"
>>> str(run_dir("msp-improv_rt-4class_frames_loso_rbf_svm"))
'/tmp/ser-example/runs/msp-improv_rt-4class_frames_loso_rbf_svm'
>>> del os.environ["SER_OUTPUT_DIR"]
"""

from __future__ import annotations

import os
from pathlib import Path

from .config import CORPORA, CORPUS_FOLDERS, PROFILES, SYNTHETIC_MARKER, Recipe, check_choice

__all__ = [
    "repository_root",
    "output_dir",
    "data_dir",
    "user_dataset_dir",
    "synthetic_dir",
    "corpus_root",
    "has_corpus",
    "is_synthetic",
    "profile",
    "manifests_dir",
    "manifest_path",
    "features_dir",
    "arrays_root",
    "arrays_dir",
    "models_dir",
    "summary_report_path",
    "runs_dir",
    "run_dir",
    "notebooks_output_dir",
]


# --------------------------------------------------------------------------- inputs
def repository_root() -> Path:
    """The checkout holding this package (``src/ser_utils`` -> two levels up), or the cwd."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def user_dataset_dir() -> Path:
    """``dataset/`` of the checkout: where a user puts the real corpora."""
    return repository_root() / "dataset"


def synthetic_dir() -> Path:
    """``outputs/synthetic/``: the synthetic corpora ``ser data prepare`` writes."""
    return output_dir() / "synthetic"


def has_corpus(base: str | Path, corpus: str) -> bool:
    """True when ``base`` holds ``corpus``'s folder with at least one wav file."""
    folder = Path(base) / CORPUS_FOLDERS[corpus]
    return folder.is_dir() and any(folder.rglob("*.wav"))


def data_dir() -> Path:
    """``SER_DATA_DIR``, else ``dataset/`` when it holds a corpus, else the synthetic copy."""
    if os.environ.get("SER_DATA_DIR"):
        return Path(os.environ["SER_DATA_DIR"]).resolve()
    if any(has_corpus(user_dataset_dir(), corpus) for corpus in CORPORA):
        return user_dataset_dir()
    return synthetic_dir()


def corpus_root(corpus: str, base: str | Path | None = None) -> Path:
    """Where ``corpus`` lives under ``base`` (default :func:`data_dir`): ``TESS/`` or ``MSP-IMPROV/``."""
    check_choice(corpus, CORPORA, "corpus")
    return Path(base or data_dir()) / CORPUS_FOLDERS[corpus]


def is_synthetic(base: str | Path) -> bool:
    """True when the corpora under ``base`` were made by :mod:`ser_utils.synthetic` (or none exist)."""
    roots = [
        Path(base) / folder for folder in CORPUS_FOLDERS.values() if (Path(base) / folder).is_dir()
    ]
    return not roots or any((root / SYNTHETIC_MARKER).exists() for root in roots)


# -------------------------------------------------------------------------- profile
def profile(corpus_root: str | Path | None = None) -> str:
    """The profile of a run: ``SER_PROFILE`` when set; otherwise ``smoke`` on synthetic
    corpora and ``full`` on real ones — those at ``corpus_root`` when given (a corpus
    folder such as ``dataset/MSP-IMPROV``), else those of :func:`data_dir`."""
    if os.environ.get("SER_PROFILE"):
        return check_choice(os.environ["SER_PROFILE"], PROFILES, "SER_PROFILE")
    if corpus_root is not None:
        return "smoke" if (Path(corpus_root) / SYNTHETIC_MARKER).exists() else "full"
    return "smoke" if is_synthetic(data_dir()) else "full"


# -------------------------------------------------------------------------- outputs
def output_dir() -> Path:
    """``SER_OUTPUT_DIR``, else ``outputs/`` of the checkout."""
    return Path(os.environ.get("SER_OUTPUT_DIR") or repository_root() / "outputs").resolve()


def manifests_dir() -> Path:
    """``outputs/manifests/``: one CSV per corpus."""
    return output_dir() / "manifests"


def manifest_path(corpus: str) -> Path:
    """``outputs/manifests/<corpus>.csv``."""
    return manifests_dir() / f"{corpus}.csv"


def summary_report_path() -> Path:
    """``outputs/report.md``: the pipeline's summary over every run directory."""
    return output_dir() / "report.md"


def features_dir() -> Path:
    """The feature cache (one file per audio file and parameters) and saved matrices."""
    return output_dir() / "features"


def _recipe_folder(recipe: Recipe) -> str:
    # The fusion recipe's networks read the improved recipe's arrays (the same audio chain and
    # input); the arrays' key still holds the chain, so a changed one is never served stale.
    name = "improved" if recipe.fusion is not None else recipe.name
    return f"{recipe.corpus}-{name}-{recipe.profile}"


def arrays_root() -> Path:
    """``outputs/arrays/``: one folder per corpus, recipe and profile."""
    return output_dir() / "arrays"


def arrays_dir(recipe: Recipe) -> Path:
    """``outputs/arrays/<corpus>-<recipe>-<profile>``."""
    return arrays_root() / _recipe_folder(recipe)


def models_dir(recipe: Recipe) -> Path:
    """``outputs/models/<corpus>-<recipe>-<profile>``."""
    return output_dir() / "models" / _recipe_folder(recipe)


def runs_dir() -> Path:
    """``outputs/runs/``: one directory per experiment."""
    return output_dir() / "runs"


def run_dir(name: str) -> Path:
    """``outputs/runs/<name>``."""
    return runs_dir() / name


def notebooks_output_dir() -> Path:
    """``outputs/notebooks/``: the notebooks ``ser run`` executed."""
    return output_dir() / "notebooks"
