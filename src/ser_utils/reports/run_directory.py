"""The files of a run directory (:mod:`ser_utils.experiments.runs` lists them): its config,
metrics, fold table, predictions, figures and the Markdown report that embeds them."""

from __future__ import annotations

import importlib.metadata as metadata
import logging
import os
import platform
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from .. import config, evaluation, paths
from ..config import Recipe
from ..evaluation import CrossValidation
from ..storage import atomic_path, write_csv, write_json
from . import plots
from .markdown import markdown_table

__all__ = [
    "run_environment",
    "write_results",
    "write_run_directory",
    "METRIC_NAMES",
    "NOTEBOOK_VARIABLE",
]

log = logging.getLogger(__name__)

#: Set by ``ser run`` to the notebook it is executing; a run directory records it, so that the
#: summary report groups the runs by notebook.
NOTEBOOK_VARIABLE = "SER_NOTEBOOK"

METRIC_NAMES = {
    "ua": "UA (unweighted average recall)",
    "wa": "WA (accuracy)",
    "macro_f1": "macro-F1",
}


def run_environment() -> dict:
    """Versions that decide the numbers of a run."""
    versions = {}
    for package in (
        "numpy",
        "librosa",
        "scikit-learn",
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "noisereduce",
        "ser-utils",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
    }


def _learning_curve_figure(histories: dict[str, dict]):
    histories = {name: h for name, h in histories.items() if h and "loss" in h}
    if not histories:
        return None
    fig, axes = plt.subplots(len(histories), 2, figsize=(10, 2.8 * len(histories)), squeeze=False)
    for row, (name, history) in zip(axes, histories.items()):
        plots.learning_curves(history, ax=row, title="")
        row[0].set_title(f"{name}: loss")
        row[1].set_title(f"{name}: accuracy")
    fig.tight_layout()
    return fig


def write_results(
    name: str, result: CrossValidation, *, out_dir: str | Path, extra: dict | None = None
) -> tuple[dict[str, Path], pd.DataFrame]:
    """Write ``<name>.json`` (the summary, labels, summed confusion, every fold and ``extra``)
    and ``<name>.csv`` (the fold table) atomically; return both paths and the fold table."""
    table = evaluation.fold_table(result)
    data = {"name": name, **result.to_dict(), **(extra or {})}
    paths_written = {
        "json": write_json(data, Path(out_dir) / f"{name}.json"),
        "csv": write_csv(table, Path(out_dir) / f"{name}.csv", index=True),
    }
    log.info("results of %s -> %s", name, paths_written["json"])
    return paths_written, table


def write_run_directory(
    run_dir: str | Path,
    *,
    name: str,
    recipe: Recipe,
    corpus_root: str | Path,
    cross_validation: CrossValidation | None,
    run_config: dict,
    histories: dict[str, dict],
    bundle: Path | None = None,
    composition: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """Write config, metrics, figures and the Markdown report of a run into ``run_dir``.

    Parameters
    ----------
    name : str
        The run's name (:func:`ser_utils.experiments.run_name`), the report's title.
    recipe : Recipe
    corpus_root : path
        The corpus the run read.
    cross_validation : CrossValidation or None
        The run's folds (:func:`ser_utils.evaluation.cross_validate`).
    run_config : dict
        What was run: ``kind`` ("traditional" or "deep"), ``corpus``, ``subset``,
        ``protocol`` (None: no cross-validation), ``model``, … — written to ``config.json``.
    histories : dict of name -> Keras history dict
        Learning curves to plot (per fold, and/or the final model).
    bundle : Path, optional
        The saved model bundle (inside ``run_dir``).
    composition : dict of protocol name -> DataFrame, optional
        :func:`ser_utils.evaluation.fold_composition` tables: the run's protocol (written as
        ``fold_composition.csv``) and any protocol to show beside it (e.g. LOSO beside the
        original protocol).

    Returns
    -------
    dict of name -> Path
        Everything written.
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    synthetic = paths.is_synthetic(Path(corpus_root).parent)
    written: dict[str, Path] = {}
    protocol = run_config.get("protocol")
    written["config"] = write_json(
        {
            "name": name,
            **run_config,
            "notebook": os.environ.get(NOTEBOOK_VARIABLE) or None,
            "corpus_root": str(Path(corpus_root).resolve()),
            "synthetic": synthetic,
            "profile": recipe.profile,
            "recipe": recipe.to_dict(),
            "created": time.strftime("%Y-%m-%d %H:%M:%S"),
            "environment": run_environment(),
        },
        run_dir / "config.json",
    )
    table = None
    if cross_validation is not None:
        saved, table = write_results(
            "metrics",
            cross_validation,
            out_dir=run_dir,
            extra={
                "run": name,
                "corpus": recipe.corpus,
                "subset": run_config.get("subset"),
                "recipe": recipe.name,
                "profile": recipe.profile,
                "protocol": protocol,
                "features": run_config.get("features"),
                "model": run_config.get("model", recipe.model.name),
                "synthetic": synthetic,
            },
        )
        written.update(metrics=saved["json"], fold_table=saved["csv"])
        written["predictions"] = write_csv(
            evaluation.prediction_table(cross_validation), run_dir / "predictions.csv"
        )
        confusion, labels = cross_validation.confusion, list(cross_validation.labels)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        plots.confusion_matrix_heatmap(
            confusion, labels, normalise=None, ax=axes[0], title="counts, all folds"
        )
        plots.confusion_matrix_heatmap(
            confusion, labels, normalise="true", ax=axes[1], title="recall per true class"
        )
        fig.tight_layout()
        plots.save_figure(fig, run_dir / "confusion.png")
        plt.close(fig)
        written["confusion"] = run_dir / "confusion.png"
    if composition and protocol in composition:
        written["fold_composition"] = write_csv(
            composition[protocol], run_dir / "fold_composition.csv", index=True
        )
    fig = _learning_curve_figure(histories)
    if fig is not None:
        plots.save_figure(fig, run_dir / "learning_curves.png")
        plt.close(fig)
        written["learning_curves"] = run_dir / "learning_curves.png"
    written["report"] = _write_report(
        run_dir,
        name=name,
        run_config=run_config,
        recipe=recipe,
        protocol=protocol,
        cross_validation=cross_validation,
        table=table,
        written=written,
        bundle=bundle,
        synthetic=synthetic,
        composition=composition or {},
    )
    if bundle is not None:
        written["bundle"] = bundle
    return written


def _composition_lines(composition: dict[str, pd.DataFrame]) -> list[str]:
    """The fold composition tables: what each fold tests, and whether its speakers were trained on."""
    if not composition:
        return []
    lines = [
        "## What the folds test",
        "",
        "Test counts per class, the sessions and speakers in each test fold, and how many of those "
        "speakers the training part also holds.",
        "",
    ]
    for name, table in composition.items():
        shown = table.drop(columns=[c for c in ("test_speakers",) if c in table.columns])
        lines += [f"### {name}", "", markdown_table(shown.rename_axis("fold")), ""]
    return lines


def _write_report(
    run_dir: Path,
    *,
    name,
    run_config,
    recipe,
    protocol,
    cross_validation,
    table,
    written,
    bundle,
    synthetic,
    composition,
) -> Path:
    lines = [
        f"# {name}",
        "",
        f"{recipe.corpus}, subset `{run_config.get('subset')}`, {recipe.name} recipe, "
        f"{recipe.profile} profile",
        "",
    ]
    if synthetic:
        lines += [
            "> **Synthetic corpus.** These numbers show that the pipeline runs; they say nothing about "
            "emotion recognition on real speech.",
            "",
        ]
    if run_config.get("kind") == "traditional":
        lines += [
            f"- model: `{run_config.get('model')}` (scikit-learn) · features: {run_config.get('features')}"
            f" · grid: {run_config.get('grid')} · random_state {run_config.get('random_state')}"
        ]
    else:
        lines += [
            f"- model: `{recipe.model.name}` · epochs {recipe.training.epochs} · batch "
            f"{recipe.training.batch_size} · learning rate {recipe.training.learning_rate} · validation: "
            f"{recipe.training.validation_split} ({recipe.training.validation_size:.0%})",
            f"- input: {recipe.spectrogram.kind} spectrogram",
        ]
    lines += [
        f"- audio: {recipe.audio.scaling} scaling · rate {recipe.audio.target_sr or 'native'} · trim "
        f"{recipe.audio.trim} · length {recipe.audio.target_length} · denoise {recipe.audio.denoise}",
        "",
    ]
    if cross_validation is not None:
        folds, summary = cross_validation.folds, cross_validation.summary
        draws = sorted({fold.training_seed for fold in folds}, key=str)
        table = table[list(evaluation.SCORE_KEYS) + ["n_test"]]
        if len(draws) > 1:
            table.index = [f"{fold.fold} · seed {fold.training_seed}" for fold in folds] + [
                "mean",
                "std",
            ]
        runs = (
            f"{summary.n_folds // len(draws)} folds × {len(draws)} training seeds"
            if len(draws) > 1
            else f"{summary.n_folds} folds"
        )
        lines += [
            f"## {protocol}: {runs}",
            "",
            "UA " + f"{summary.ua:.3f} ± {summary.ua_std:.3f} · WA {summary.wa:.3f} ± "
            f"{summary.wa_std:.3f} · macro-F1 {summary.macro_f1:.3f}",
            "",
            markdown_table(table.rename_axis("fold")),
            "",
            "![confusion matrix](confusion.png)",
            "",
        ]
        if len(draws) > 1:
            lines += [
                f"### Over {len(draws)} training seeds",
                "",
                "Mean and standard deviation over the seeds, per fold and of the draws' fold means.",
                "",
                markdown_table(
                    evaluation.original_table(cross_validation)
                    .drop(columns="n_seeds")
                    .rename_axis("fold")
                ),
                "",
            ]
        deep_original = run_config.get("kind") == "deep" and recipe.name == "original"
        if (
            deep_original
            and protocol == "original-4fold"
            and {fold.fold for fold in folds} == set(range(1, config.ORIGINAL_N_FOLDS + 1))
        ):
            beside = (
                evaluation.compare_with_original(cross_validation)
                .rename(columns={"seeds": "n_seeds"})
                .rename_axis("fold")
            )
            lines += ["### Beside the original (%)", "", markdown_table(beside), ""]
        if deep_original and protocol == "original-4fold":
            lines += [
                f"The original study reported {config.ORIGINAL_RESULTS['cnn_convlstm_mean_wa']:.2%} mean "
                "accuracy under this protocol on the real MSP-IMPROV (R+T, 1218 utterances).",
                "",
            ]
    lines += _composition_lines(composition)
    if "learning_curves" in written:
        lines += ["## Learning curves", "", "![learning curves](learning_curves.png)", ""]
    lines += (
        ["## Files", ""]
        + [
            f"- `{path.relative_to(run_dir) if path.is_relative_to(run_dir) else path}`"
            for name, path in written.items()
        ]
        + ["- `report.md`"]
    )
    if bundle is not None:
        lines += ["", "Predict with the model: `ser predict " + str(bundle) + " clip.wav`"]
    with atomic_path(run_dir / "report.md") as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return run_dir / "report.md"
