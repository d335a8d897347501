"""Markdown tables of DataFrames for the reports: counts as integers, scores to three decimals.

>>> print(markdown_table(pd.DataFrame({"ua": [0.5], "n_test": [12.0]}, index=pd.Index([1], name="fold"))))
| fold | ua | n_test |
|---|---|---|
| 1 | 0.500 | 12 |
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["markdown_table"]


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table, its index first; ``n_*`` columns as integers, floats to 3 decimals."""
    frame = frame.copy()
    header = "| " + " | ".join([frame.index.name or ""] + [str(c) for c in frame.columns]) + " |"
    lines = [header, "|" + "---|" * (len(frame.columns) + 1)]
    for index, row in frame.iterrows():
        cells = [
            (f"{v:.0f}" if str(column).startswith("n_") else f"{v:.3f}")
            if isinstance(v, (float, np.floating))
            else str(v)
            for column, v in row.items()
        ]
        lines.append("| " + " | ".join([str(index)] + cells) + " |")
    return "\n".join(lines)
