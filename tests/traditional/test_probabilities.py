"""The SVM's class probabilities (ser_utils.traditional.probabilities)."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config
from ser_utils.experiments.fusion import unweighted_recall
from ser_utils.traditional import svm_probabilities

LABELS = config.FOUR_CLASSES


def test_svm_probabilities_keep_the_svm_prediction():
    from ser_utils.traditional import make_model

    rng = np.random.default_rng(0)
    y = np.repeat(["sad", "angry", "happy"], 20)  # no neutral in training
    features = rng.normal(size=(60, 5)) + np.repeat(np.eye(3, 5) * 2, 20, axis=0)
    test = rng.normal(size=(15, 5))
    probabilities = svm_probabilities(features, y, test, labels=LABELS, random_state=0)
    assert probabilities.shape == (15, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities[:, LABELS.index("neutral")] == 0).all()
    svm = make_model("rbf_svm", random_state=0, scaler=True).fit(features, y)
    chosen = np.asarray(LABELS)[probabilities.argmax(axis=1)]
    np.testing.assert_array_equal(chosen, svm.classes_[svm.decision_function(test).argmax(axis=1)])
    assert np.mean(chosen == svm.predict(test)) >= 0.9  # one-vs-one votes may break ties otherwise


def test_svm_probabilities_scale_the_features_and_platt_gives_probabilities():
    from ser_utils.traditional import make_model

    rng = np.random.default_rng(1)
    y = np.repeat(LABELS, 15)
    # one feature in the thousands, the informative ones near 1: unscaled, the RBF kernel sees only the first
    features = np.hstack(
        [
            rng.normal(0, 1000, size=(60, 1)),
            np.eye(4)[np.repeat(np.arange(4), 15)] * 2 + rng.normal(0, 0.5, size=(60, 4)),
        ]
    )
    test = np.hstack([rng.normal(0, 1000, size=(20, 1)), np.eye(4)[np.repeat(np.arange(4), 5)] * 2])
    softmax = svm_probabilities(features, y, test, labels=LABELS, random_state=0)
    scaled = make_model("rbf_svm", random_state=0, scaler=True).fit(features, y)
    np.testing.assert_array_equal(
        np.asarray(LABELS)[softmax.argmax(axis=1)],
        scaled.classes_[scaled.decision_function(test).argmax(axis=1)],
    )
    assert unweighted_recall(np.repeat(LABELS, 5), softmax, LABELS) == 1.0
    platt = svm_probabilities(features, y, test, labels=LABELS, random_state=0, calibration="platt")
    np.testing.assert_allclose(platt.sum(axis=1), 1.0)
    assert unweighted_recall(np.repeat(LABELS, 5), platt, LABELS) == 1.0
    assert platt.max() < 1.0 and platt.min() > 0.0
    with pytest.raises(ValueError, match="calibration"):
        svm_probabilities(features, y, test, labels=LABELS, random_state=0, calibration="isotonic")
