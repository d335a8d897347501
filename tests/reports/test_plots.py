"""Figures (ser_utils.reports.plots)."""

from __future__ import annotations

import numpy as np


def test_confusion_matrix_heatmap_shows_row_normalised_recall():
    from ser_utils.reports import plots

    ax = plots.confusion_matrix_heatmap(np.array([[3, 1], [0, 2]]), ["angry", "sad"])
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.00", "1.00"]
    counts = plots.confusion_matrix_heatmap(
        np.array([[3, 1], [0, 2]]), ["angry", "sad"], normalise=None
    )
    assert [t.get_text() for t in counts.texts] == ["3", "1", "0", "2"]
