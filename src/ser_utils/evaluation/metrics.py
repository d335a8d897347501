"""Scores of one test set: **UA** (unweighted average recall = balanced accuracy) first, **WA**
(accuracy) second, macro-F1, per-class precision/recall/F1 and the confusion matrix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

__all__ = ["SCORE_KEYS", "METRICS", "class_report", "compute_metrics"]

#: The headline metrics of every fold, in report order after ``fold``.
SCORE_KEYS: tuple[str, ...] = ("wa", "ua", "macro_f1")

#: name -> ``metric(y_true, y_pred)``; ``ua`` is the unweighted average recall.
METRICS: dict[str, Callable] = {
    "wa": accuracy_score,
    "ua": balanced_accuracy_score,
    "macro_f1": partial(f1_score, average="macro", zero_division=0),
}


def class_report(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per label (in ``labels`` order), plus
    ``macro avg`` and ``weighted avg`` rows — sklearn's classification report as a DataFrame."""
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    report = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1": f1, "support": support},
        index=pd.Index(labels, name="label"),
    )
    total = support.sum()
    weights = support / total if total else np.zeros(len(labels))
    report.loc["macro avg"] = [precision.mean(), recall.mean(), f1.mean(), total]
    report.loc["weighted avg"] = [precision @ weights, recall @ weights, f1 @ weights, total]
    report["support"] = report["support"].astype(int)
    return report


def compute_metrics(y_true: Sequence, y_pred: Sequence, labels: Sequence[str]) -> dict:
    """WA, UA, macro-F1, the per-class table and the confusion matrix of one test set.

    Parameters
    ----------
    y_true, y_pred : sequence of str
        True and predicted labels.
    labels : sequence of str
        The class order of the per-class table and the confusion matrix.

    Returns
    -------
    dict
        ``wa`` accuracy; ``ua`` unweighted average recall (the mean recall over the labels
        present in ``y_true``, = ``balanced_accuracy_score``); ``macro_f1`` (mean F1 over the
        labels present in ``y_true`` or ``y_pred``, as ``f1_score(average='macro')``);
        ``per_class`` DataFrame (precision, recall, f1, support indexed by label);
        ``confusion`` (rows true, columns predicted, in ``labels`` order).

    Examples
    --------
    >>> m = compute_metrics(["a", "a", "b"], ["a", "b", "b"], ["a", "b"])
    >>> round(m["wa"], 3), m["ua"], m["confusion"].tolist()
    (0.667, 0.75, [[1, 1], [0, 1]])
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) != len(y_pred) or not len(y_true):
        raise ValueError(
            f"y_true and y_pred must be non-empty and of equal length, got {len(y_true)} and "
            f"{len(y_pred)}"
        )
    labels = list(labels)
    unknown = sorted(
        set(map(str, np.unique(np.concatenate([y_true, y_pred])))) - set(map(str, labels))
    )
    if unknown:
        raise ValueError(
            f"labels {unknown} are not in the label order {labels} — pass every class in `labels`"
        )
    confusion = confusion_matrix(y_true, y_pred, labels=labels)
    per_class = class_report(y_true, y_pred, labels).loc[labels]
    present = confusion.sum(axis=1) > 0
    used = present | (confusion.sum(axis=0) > 0)
    recall = np.diag(confusion)[present] / confusion.sum(axis=1)[present]
    return {
        "wa": float(np.trace(confusion) / confusion.sum()),
        "ua": float(recall.mean()),
        "macro_f1": float(per_class["f1"].to_numpy()[used].mean()),
        "per_class": per_class,
        "confusion": confusion,
    }
