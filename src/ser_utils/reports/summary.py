"""The pipeline's summary ``outputs/report.md``: one row per run directory, the executed notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import config, paths
from ..storage import atomic_path
from .markdown import markdown_table

__all__ = ["results_table", "write_summary_report"]


def results_table(runs_dir: str | Path) -> pd.DataFrame:
    """One row per run directory under ``runs_dir`` (``outputs/runs``): what was run and its fold means."""
    records = []
    for path in sorted(Path(runs_dir).glob("*/metrics.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict) or "ua" not in data:
            continue
        records.append(
            {
                "run": path.parent.name,
                "corpus": data.get("corpus"),
                "subset": data.get("subset"),
                "recipe": data.get("recipe"),
                "protocol": data.get("protocol"),
                "model": data.get("model"),
                "folds": len(data.get("folds", [])),
                "UA": data.get("ua"),
                "WA": data.get("wa"),
                "macro-F1": data.get("macro_f1"),
            }
        )
    return pd.DataFrame.from_records(
        records,
        columns=[
            "run",
            "corpus",
            "subset",
            "recipe",
            "protocol",
            "model",
            "folds",
            "UA",
            "WA",
            "macro-F1",
        ],
    )


def write_summary_report(
    *, notebooks: list[Path] = (), synthetic: bool, profile: str, seconds: float | None = None
) -> Path:
    """``outputs/report.md`` (:func:`ser_utils.paths.summary_report_path`): every run directory
    (:func:`ser_utils.paths.runs_dir`) and the executed notebooks, after ``ser run``."""
    report = paths.summary_report_path()
    table = results_table(paths.runs_dir())
    lines = [
        "# Pipeline report",
        "",
        f"Profile `{profile}` · data: {'synthetic corpora' if synthetic else 'real corpora'}"
        + (f" · run time {seconds / 60:.1f} min" if seconds else ""),
        "",
    ]
    if synthetic:
        lines += [
            "> **Synthetic corpora.** These numbers show that every stage runs; they say nothing about "
            "emotion recognition on real speech.",
            "",
        ]
    lines += ["## Results (fold means; UA = unweighted average recall, WA = accuracy)", ""]
    lines += [
        markdown_table(table.set_index("run")) if len(table) else "No results were saved.",
        "",
    ]
    lines += [
        f"The original study reported {config.ORIGINAL_RESULTS['cnn_convlstm_mean_wa']:.2%} WA for the "
        "CNN-ConvLSTM under original-4fold on the real MSP-IMPROV.",
        "",
        "## Executed notebooks",
        "",
    ]
    lines += [
        f"- [{nb.name}]({nb.relative_to(report.parent) if nb.is_relative_to(report.parent) else nb})"
        for nb in notebooks
    ]
    with atomic_path(report) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return report
