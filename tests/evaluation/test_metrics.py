"""WA, UA, macro-F1 and the per-class report (ser_utils.evaluation.metrics), on hand-computed examples."""

from __future__ import annotations

import pytest

from ser_utils import config
from ser_utils.evaluation import (
    METRICS,
    class_report,
    compute_metrics,
)

# ------------------------------------------------------------------------ metrics
THREE_CLASS_TRUE = ["a", "a", "a", "a", "b", "b", "c", "c", "c", "c"]


THREE_CLASS_PRED = ["a", "a", "a", "b", "b", "c", "c", "c", "a", "a"]


def test_metrics_match_a_hand_computed_three_class_example():
    m = compute_metrics(THREE_CLASS_TRUE, THREE_CLASS_PRED, ["a", "b", "c"])
    # rows true a, b, c; columns predicted a, b, c
    assert m["confusion"].tolist() == [[3, 1, 0], [0, 1, 1], [2, 0, 2]]
    assert m["wa"] == pytest.approx(6 / 10)
    recall = [3 / 4, 1 / 2, 2 / 4]
    assert m["ua"] == pytest.approx(sum(recall) / 3)
    precision = [3 / 5, 1 / 2, 2 / 3]
    f1 = [2 * p * r / (p + r) for p, r in zip(precision, recall)]
    assert f1 == pytest.approx([2 / 3, 1 / 2, 4 / 7])
    assert m["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert m["per_class"]["recall"].tolist() == pytest.approx(recall)
    assert m["per_class"]["precision"].tolist() == pytest.approx(precision)
    assert m["per_class"]["support"].tolist() == [4, 2, 4]
    # the named metrics of the METRICS dictionary give the same numbers
    for name in ("wa", "ua", "macro_f1"):
        assert METRICS[name](THREE_CLASS_TRUE, THREE_CLASS_PRED) == pytest.approx(m[name])


def test_confusion_follows_the_given_label_order():
    m = compute_metrics(THREE_CLASS_TRUE, THREE_CLASS_PRED, ["c", "b", "a"])
    assert m["confusion"].tolist() == [[2, 0, 2], [1, 1, 0], [0, 1, 3]]
    assert list(m["per_class"].index) == ["c", "b", "a"]


def test_ua_averages_recall_over_the_classes_present_in_the_test_set():
    # 'sad' is absent from this fold: UA is the mean recall of angry (1/2) and neutral (1)
    m = compute_metrics(
        ["angry", "angry", "neutral"], ["angry", "neutral", "neutral"], config.FOUR_CLASSES
    )
    assert m["ua"] == pytest.approx(0.75)
    assert m["confusion"].shape == (4, 4)


def test_predicting_the_majority_class_gives_chance_ua_but_flattering_wa():
    y_true = ["neutral"] * 6 + ["angry", "happy", "sad", "angry"]
    m = compute_metrics(y_true, ["neutral"] * 10, config.FOUR_CLASSES)
    assert m["wa"] == pytest.approx(0.6)
    assert m["ua"] == pytest.approx(0.25)


def test_labels_outside_the_label_order_are_rejected():
    with pytest.raises(ValueError, match="not in the label order"):
        compute_metrics(["a", "b"], ["a", "z"], ["a", "b"])


def test_class_report_adds_macro_and_weighted_rows():
    report = class_report(THREE_CLASS_TRUE, THREE_CLASS_PRED, ["a", "b", "c"])
    assert list(report.index) == ["a", "b", "c", "macro avg", "weighted avg"]
    assert report.loc["macro avg", "recall"] == pytest.approx((3 / 4 + 1 / 2 + 2 / 4) / 3)
    # the weighted average of recall is the accuracy
    assert report.loc["weighted avg", "recall"] == pytest.approx(0.6)
    assert report.loc["weighted avg", "support"] == 10
