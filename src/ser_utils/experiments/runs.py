"""The run directory: what one experiment wrote, named after everything that changes its result.

A **run** is one experiment — a corpus, a subset, a feature set or recipe, a protocol and a
model — and writes one **run directory** (:func:`write_run`), by default
``outputs/runs/<run name>/`` (:func:`run_name`)::

    config.json            what was run: corpus, subset, protocol, model, recipe, seeds, versions
    metrics.json           fold means (wa, ua, macro_f1), their std, every fold's record
    metrics.csv            the fold table (each fold, mean, std)
    fold_composition.csv   per fold: class counts, test sessions and speakers (deep runs)
    predictions.csv        every test prediction: utterance_id, fold, split, true, predicted
    confusion.png          the confusion matrix summed over folds (rows: true label)
    learning_curves.png    training and validation curves (deep runs)
    report.md              a Markdown report embedding the above
    model/                 the model bundle (``ser train``; ``ser predict`` reads it)

Examples
--------
>>> run_name(corpus="msp-improv", subset="rt-4class", inputs="functionals", protocol="loso",
...          model="rbf_svm", recipe_name="original", extras=["grid-grouped"])
'msp-improv_rt-4class_functionals_loso_rbf_svm_original_grid-grouped'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..config import Recipe
from ..evaluation import CrossValidation
from ..reports import write_run_directory
from ..storage import read_json

__all__ = ["Run", "run_name", "write_run", "load_run"]


@dataclass
class Run:
    """What a run wrote: its name, directory, cross-validation (None for a run without one,
    such as ``ser train`` without a protocol) and files."""

    name: str
    directory: Path
    cross_validation: CrossValidation | None
    written: dict[str, Path] = field(default_factory=dict)


def run_name(
    *,
    corpus: str,
    subset: str,
    inputs: str,
    protocol: str,
    model: str,
    recipe_name: str,
    extras: Sequence[str] = (),
) -> str:
    """A readable name, unique per run: corpus, subset, inputs (feature set or recipe input),
    protocol, model, recipe, then anything else that changes the result (grid, control…)."""
    return "_".join([corpus, subset, inputs, protocol, model, recipe_name, *extras])


def load_run(directory: str | Path) -> dict:
    """``metrics.json`` of a run directory, with its ``config.json`` under ``"config"``."""
    directory = Path(directory)
    data = read_json(directory / "metrics.json")
    data["config"] = read_json(directory / "config.json")
    return data


def write_run(
    name: str,
    cross_validation: CrossValidation | None,
    *,
    run_config: dict,
    recipe: Recipe,
    directory: str | Path | None,
    corpus_root: str | Path | None = None,
    histories: dict | None = None,
    composition: dict | None = None,
    bundle: Path | None = None,
) -> Run:
    """Write the run directory of a cross-validation (default ``outputs/runs/<name>``) and
    return it.

    Parameters
    ----------
    name : str
        :func:`run_name`.
    cross_validation : CrossValidation or None
        The run's folds (:func:`ser_utils.evaluation.cross_validate`); None for a run that only
        trained a model.
    run_config : dict
        What was run (corpus, subset, protocol, model, …), written to ``config.json``.
    recipe : Recipe
        The recipe of the audio chain (and, for deep runs, of the model).
    directory : path, optional
    corpus_root, histories, composition, bundle
        As :func:`ser_utils.reports.write_run_directory`.
    """
    directory = Path(directory) if directory is not None else paths.run_dir(name)
    corpus_root = Path(corpus_root) if corpus_root is not None else paths.corpus_root(recipe.corpus)
    written = write_run_directory(
        directory,
        name=name,
        recipe=recipe,
        corpus_root=corpus_root,
        cross_validation=cross_validation,
        run_config=run_config,
        histories=histories or {},
        bundle=bundle,
        composition=composition,
    )
    return Run(name, directory, cross_validation, written)
