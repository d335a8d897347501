"""The pipeline's summary ``outputs/report.md``: the headline first — the original protocol fold
by fold and seed by seed beside the original study's figures — then one figure comparing the
recipes and the traditional models under leave-one-session-out on the same folds, then every
run, grouped by the notebook that wrote it, under a short readable name."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import config, paths
from ..evaluation import CrossValidation, original_table
from ..storage import atomic_path
from . import plots
from .markdown import markdown_table
from .run_directory import NOTEBOOK_VARIABLE

__all__ = [
    "results_table",
    "read_runs",
    "short_name",
    "headline_table",
    "loso_comparison",
    "write_summary_report",
    "FIGURE_NAME",
    "NOTEBOOK_VARIABLE",
]

log = logging.getLogger(__name__)

#: The figure written beside ``report.md``.
FIGURE_NAME = "report_loso.png"

MODEL_NAMES = {
    "rbf_svm": "RBF SVM",
    "linear_svm": "linear SVM",
    "mlp": "MLP",
    "tree": "decision tree",
    "forest": "random forest",
    "original_cnn_convlstm": "CNN-ConvLSTM",
    "improved_tcn": "TCN",
}
PROTOCOL_NAMES = {
    "original-4fold": "original 4-fold",
    "original-random": "random 75/25",
    "loso": "LOSO",
    "speaker": "leave one speaker out",
}


def read_runs(runs_dir: str | Path) -> list[dict]:
    """Every run directory under ``runs_dir`` with scores: its ``metrics.json`` with the
    ``config.json`` under ``"config"`` and the folder under ``"directory"``, oldest first.
    Unreadable records are skipped and counted in the log."""
    runs, skipped = [], 0
    for path in sorted(Path(runs_dir).glob("*/metrics.json")):
        try:
            data = json.loads(path.read_text())
            run_config = json.loads((path.parent / "config.json").read_text())
        except (OSError, json.JSONDecodeError):
            skipped += 1
            continue
        if not isinstance(data, dict) or "ua" not in data or not isinstance(run_config, dict):
            skipped += 1
            continue
        runs.append({**data, "config": run_config, "directory": path.parent})
    if skipped:
        log.warning("%d run directories under %s have no readable metrics", skipped, runs_dir)
    return sorted(runs, key=lambda run: (run["config"].get("created") or "", run["run"]))


def _extras(run: dict) -> list[str]:
    """What the run name adds after its recipe (grid, control, variant…)."""
    name, cfg = run["directory"].name, run["config"]
    stem = f"_{run.get('protocol')}_{run.get('model')}_{cfg.get('recipe', {}).get('name')}"
    return name.split(stem, 1)[1].strip("_").split("_") if stem in name else []


def short_name(run: dict) -> str:
    """A run as a reader names it: model, recipe or features, and what else was changed.

    >>> short_name({"model": "rbf_svm", "features": "egemaps", "protocol": "loso",
    ...             "directory": Path("msp-improv_rt-4class_egemaps_loso_rbf_svm_improved_grid-grouped"),
    ...             "config": {"kind": "traditional", "recipe": {"name": "improved"}}})
    'RBF SVM · egemaps · improved audio · grid grouped'
    """
    cfg = run["config"]
    recipe = cfg.get("recipe", {}).get("name")
    model = MODEL_NAMES.get(run.get("model"), run.get("model") or "?")
    if cfg.get("kind") == "deep":
        parts = [f"{model}, {recipe} recipe" if recipe != "fusion" else "fusion (TCNs + SVM)"]
    else:
        parts = [model, run.get("features") or "frames"]
        parts += ["improved audio"] if recipe == "improved" else []
    for extra in _extras(run):
        word = extra.replace("-", " ")
        parts.append({"x3": "3 splits"}.get(extra, word))
    return " · ".join(part for part in parts if part)


def results_table(runs_dir: str | Path) -> pd.DataFrame:
    """One row per run directory under ``runs_dir`` (``outputs/runs``): the notebook that wrote
    it, its short name, what was run and its fold means."""
    records = [
        {
            "notebook": run["config"].get("notebook"),
            "name": short_name(run),
            "run": run["directory"].name,
            "corpus": run.get("corpus"),
            "subset": run.get("subset"),
            "protocol": run.get("protocol"),
            "folds": len(run.get("folds", [])),
            "UA": run.get("ua"),
            "WA": run.get("wa"),
            "macro-F1": run.get("macro_f1"),
        }
        for run in read_runs(runs_dir)
    ]
    columns = ["notebook", "name", "run", "corpus", "subset", "protocol", "folds", "UA", "WA"]
    return pd.DataFrame.from_records(records, columns=[*columns, "macro-F1"])


# ------------------------------------------------------------------------ the headline
def _headline_run(runs: list[dict]) -> dict | None:
    """The latest original-recipe CNN-ConvLSTM under the original protocol on MSP-IMPROV."""
    found = [
        run
        for run in runs
        if run["config"].get("kind") == "deep"
        and run.get("protocol") == "original-4fold"
        and run["config"].get("recipe", {}).get("name") == "original"
        and run.get("corpus") == "msp-improv"
    ]
    return found[-1] if found else None


def headline_table(run: dict) -> pd.DataFrame:
    """WA (%) of each fold for each training seed, their mean, and the original study's figure
    beside it; the last row is the mean over folds. The original's fourth fold is the one its
    mean implies (it printed three)."""
    result = CrossValidation.from_dict(run)
    frame = pd.DataFrame(
        [
            {"fold": fold.fold, "seed": fold.training_seed or 0, "wa": 100 * fold.wa}
            for fold in result.folds
        ]
    )
    table = frame.pivot_table(index="fold", columns="seed", values="wa", aggfunc="mean")
    table.columns = [f"seed {seed}" for seed in table.columns]
    summary = original_table(result, keys=("wa",))
    table["mean over seeds"] = 100 * summary.loc[table.index, "wa"].astype(float)
    original = list(config.ORIGINAL_RESULTS["cnn_convlstm_folds_wa"])
    mean = float(config.ORIGINAL_RESULTS["cnn_convlstm_mean_wa"])
    known = [value for value in original if value is not None]
    original = [
        value if value is not None else len(original) * mean - sum(known) for value in original
    ]
    table["original study"] = [
        100 * original[fold - 1] if fold <= len(original) else np.nan for fold in table.index
    ]
    table.index = table.index.astype(object)
    table.loc["mean"] = [
        *(table[c].mean() for c in table.columns[:-2]),
        100 * float(summary.loc["mean", "wa"]),
        100 * mean,
    ]
    table.index.name = "fold"
    return table


def _percent_table(table: pd.DataFrame) -> str:
    header = "| " + " | ".join([table.index.name or "", *map(str, table.columns)]) + " |"
    lines = [header, "|" + "---|" * (len(table.columns) + 1)]
    for index, row in table.iterrows():
        cells = ["" if pd.isna(v) else f"{v:.2f}" for v in row]
        label = f"**{index}**" if index == "mean" else str(index)
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------- the LOSO figure
def loso_comparison(runs: list[dict]) -> tuple[pd.DataFrame, tuple[int, ...]]:
    """UA mean and standard deviation of every MSP-IMPROV four-class LOSO run over the folds
    every one of them ran (so that all stand on the same test sessions), and those folds.

    Deep runs with several training seeds count each fold's mean over the seeds."""
    loso = [
        run
        for run in runs
        if run.get("protocol") == "loso"
        and run.get("corpus") == "msp-improv"
        and run.get("subset") == "rt-4class"
        and run["config"].get("permute_labels") is None  # a control run: chance by design
    ]
    per_run = {}
    for run in loso:
        by_fold = pd.DataFrame(run.get("folds", []))
        if by_fold.empty:
            continue
        per_run[short_name(run)] = (run["config"].get("kind"), by_fold.groupby("fold")["ua"].mean())
    if not per_run:
        return pd.DataFrame(columns=["kind", "ua", "ua_std", "n_folds"]), ()
    common = set.intersection(*(set(scores.index) for _, scores in per_run.values()))
    folds = tuple(sorted(int(fold) for fold in common))
    rows = {
        name: {
            "kind": kind,
            "ua": float(scores.loc[list(folds)].mean()) if folds else np.nan,
            "ua_std": float(scores.loc[list(folds)].std(ddof=0)) if folds else np.nan,
            "n_folds": len(folds),
        }
        for name, (kind, scores) in per_run.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "run"
    return table.sort_values(["kind", "ua"], ascending=[True, False]), folds


def _write_figure(table: pd.DataFrame, folds: tuple[int, ...], path: Path) -> None:
    ax = plots.ua_comparison(
        table,
        chance=1 / len(config.FOUR_CLASSES),
        title="MSP-IMPROV, leave one session out: UA ± sd over "
        + (f"fold {folds[0]}" if len(folds) == 1 else f"folds {', '.join(map(str, folds))}"),
    )
    plots.save_figure(ax, path)
    plt.close(ax.figure)


# ---------------------------------------------------------------------- the report
def _runs_by_notebook(runs: list[dict], report_dir: Path) -> list[str]:
    lines = []
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["config"].get("notebook") or "", []).append(run)
    for notebook in sorted(groups, key=lambda n: (n == "", n)):
        title = f"`{notebook}`" if notebook else "Other runs (the `ser` commands)"
        rows = []
        for run in groups[notebook]:
            link = Path(run["directory"], "report.md")
            where = link.relative_to(report_dir) if link.is_relative_to(report_dir) else link
            rows.append(
                {
                    "run": f"[{short_name(run)}]({where.as_posix()})",
                    "corpus": run.get("corpus"),
                    "protocol": PROTOCOL_NAMES.get(run.get("protocol"), run.get("protocol")),
                    "n_folds": float(len(run.get("folds", []))),
                    "UA": run.get("ua"),
                    "WA": run.get("wa"),
                    "macro-F1": run.get("macro_f1"),
                }
            )
        table = pd.DataFrame(rows).set_index("run")
        lines += [f"### {title}", "", markdown_table(table), ""]
    return lines


def write_summary_report(
    *, notebooks: list[Path] = (), synthetic: bool, profile: str, seconds: float | None = None
) -> Path:
    """``outputs/report.md`` (:func:`ser_utils.paths.summary_report_path`) and its figure
    (:data:`FIGURE_NAME`, beside it) over every run directory (:func:`ser_utils.paths.runs_dir`)
    and the executed notebooks, after ``ser run``."""
    report = paths.summary_report_path()
    runs = read_runs(paths.runs_dir())
    data = "synthetic corpora" if synthetic else "real corpora"
    lines = [
        "# Pipeline report",
        "",
        f"Profile `{profile}` · data: {data}"
        + (f" · run time {seconds / 60:.1f} min" if seconds else ""),
        "",
    ]
    if synthetic:
        lines += [
            "> **Synthetic corpora.** These numbers show that every stage runs; they say nothing about "
            "emotion recognition on real speech.",
            "",
        ]
    mean = float(config.ORIGINAL_RESULTS["cnn_convlstm_mean_wa"])
    lines += ["## The original protocol: CNN-ConvLSTM, original 4-fold, WA (%)", ""]
    headline = _headline_run(runs)
    if headline is None:
        lines += [
            f"No run of the original recipe under original-4fold was found (the original study: "
            f"{100 * mean:.2f} % WA on the real MSP-IMPROV).",
            "",
        ]
    else:
        table = headline_table(headline)
        ours = table.loc["mean", "mean over seeds"]
        seeds = len(table.columns) - 2
        lines += [
            f"**{ours:.2f} %** WA over {len(table) - 1} folds and {seeds} training seed(s) on "
            f"{'**synthetic** ' if headline.get('synthetic') else ''}MSP-IMPROV "
            f"(profile `{headline.get('profile')}`), beside the original study's "
            f"**{100 * mean:.2f} %** on the real corpus.",
            "",
            _percent_table(table),
            "",
            "The original printed three of its folds; its fourth is the one its mean implies. "
            "A seed column is one cross-validation; the mean row is each column's mean over "
            "the folds.",
            "",
        ]
    comparison, folds = loso_comparison(runs)
    figure = report.parent / FIGURE_NAME
    lines += ["## Leave one session out: recipes and traditional models", ""]
    if len(comparison):
        _write_figure(comparison, folds, figure)
        lines += [
            f"![UA of every LOSO run on the same folds]({FIGURE_NAME})",
            "",
            f"UA (unweighted average recall) ± its standard deviation over the folds (test "
            f"sessions) every run covered — {', '.join(map(str, folds)) or 'none in common'}"
            f"{' (one fold: no spread)' if len(folds) == 1 else ''}; chance is "
            f"{1 / len(config.FOUR_CLASSES):.2f}. A run that covered more folds is scored here "
            "on these only; its own table below has all of them.",
            "",
            markdown_table(
                comparison.rename(
                    columns={"kind": "model", "ua": "UA", "ua_std": "UA sd", "n_folds": "n_folds"}
                )
            ),
            "",
        ]
    else:
        figure.unlink(missing_ok=True)  # a figure of an earlier run would describe other runs
        lines += ["No MSP-IMPROV four-class LOSO run was found.", ""]
    lines += ["## Every run, by notebook (fold means; UA, WA = accuracy)", ""]
    lines += _runs_by_notebook(runs, report.parent) if runs else ["No results were saved.", ""]
    lines += ["## Executed notebooks", ""]
    lines += [
        f"- [{nb.name}]({nb.relative_to(report.parent) if nb.is_relative_to(report.parent) else nb})"
        for nb in notebooks
    ]
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return report
