"""Class probabilities of the RBF SVM on utterance features: a softmax of its decision values,
or Platt scaling — the SVM member of the fusion recipe.

>>> import numpy as np
>>> features = np.array([[0.0], [0.1], [1.0], [1.1]])
>>> svm_probabilities(features, ["a", "a", "b", "b"], np.array([[0.05], [1.05]]), labels=["a", "b"],
...                   random_state=0).argmax(axis=1).tolist()
[0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import softmax
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV

from ..config import check_choice
from .models import make_model

__all__ = ["SVM_CALIBRATIONS", "PLATT_FOLDS", "svm_probabilities"]

#: ``"softmax"`` of the SVM's decision values or ``"platt"`` (``SVC(probability=True)``).
SVM_CALIBRATIONS: tuple[str, ...] = ("softmax", "platt")
#: Folds of the Platt calibration (stratified, in row order: no randomness).
PLATT_FOLDS = 5


def svm_probabilities(
    features_train: np.ndarray,
    y_train: Sequence[str],
    features_test: np.ndarray,
    *,
    labels: Sequence[str],
    random_state: int,
    calibration: str = "softmax",
) -> np.ndarray:
    """Fit the RBF SVM on utterance features (``StandardScaler`` fitted on the training part, SVC
    C 10, gamma 'scale': :func:`~ser_utils.traditional.models.make_model` ``("rbf_svm", scaler=True)``)
    and return class probabilities on the test part, columns in ``labels`` order (0 for a
    class absent from the training part).

    ``calibration``: ``"softmax"``, a softmax over the one-vs-rest decision values (votes
    plus a confidence in (-0.5, 0.5)), which keeps the SVM's own prediction as the most
    probable class, ties between votes aside; ``"platt"``, Platt scaling: one SVM fitted on
    the whole training part, one sigmoid per class fitted on the decision values of
    :data:`PLATT_FOLDS` stratified folds (no randomness), normalised to sum to 1 —
    :class:`~sklearn.calibration.CalibratedClassifierCV` with ``ensemble=False``, which
    scikit-learn 1.9 recommends in place of ``SVC(probability=True)``. It may change the
    predicted class.
    """
    check_choice(calibration, SVM_CALIBRATIONS, "SVM calibration")
    model = clone(make_model("rbf_svm", random_state=random_state, scaler=True))
    _, counts = np.unique(np.asarray(y_train).astype(str), return_counts=True)
    if calibration == "platt" and counts.min() >= 2:  # (a class seen once keeps the softmax)
        # one SVM on the whole training part, its sigmoids fitted on the decision values of
        # stratified folds (fewer than PLATT_FOLDS when a class has fewer examples)
        model = CalibratedClassifierCV(
            model, method="sigmoid", cv=min(PLATT_FOLDS, int(counts.min())), ensemble=False
        )
    else:
        calibration = "softmax"
    model.fit(np.asarray(features_train), np.asarray(y_train).astype(str))
    probabilities = np.zeros((len(features_test), len(labels)))
    columns = [list(labels).index(label) for label in model.classes_]
    if calibration == "platt":
        probabilities[:, columns] = model.predict_proba(np.asarray(features_test))
        return probabilities
    decision = model.decision_function(np.asarray(features_test))
    if decision.ndim == 1:  # two classes: one signed distance for classes_[1]
        decision = np.stack([-decision, decision], axis=1) / 2
    probabilities[:, columns] = softmax(decision, axis=1)
    return probabilities
