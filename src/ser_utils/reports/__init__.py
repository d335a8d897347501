"""Reports: the files of a run directory and its Markdown report, the pipeline's summary over
every run, and the figures.

Modules
-------
:mod:`~ser_utils.reports.run_directory`
    :func:`write_run_directory`: config, metrics, fold table, predictions, figures, report.
:mod:`~ser_utils.reports.summary`
    :func:`write_summary_report`: ``outputs/report.md`` — the headline, the LOSO figure, every
    run by notebook.
:mod:`~ser_utils.reports.plots`
    The figures of the notebooks and reports.
:mod:`~ser_utils.reports.markdown`
    Markdown tables.
"""

from __future__ import annotations

from .run_directory import (
    METRIC_NAMES,
    NOTEBOOK_VARIABLE,
    run_environment,
    write_results,
    write_run_directory,
)
from .summary import results_table, write_summary_report

__all__ = [
    "METRIC_NAMES",
    "NOTEBOOK_VARIABLE",
    "run_environment",
    "write_results",
    "write_run_directory",
    "results_table",
    "write_summary_report",
]
