"""Fixtures of the deep tests: learnable spectrograms of 8 speakers and a tiny CRNN trained on them."""

from __future__ import annotations

import numpy as np
import pytest

from ser_utils import config
from tests.helpers import TINY_CRNN, TINY_TRAINING

LABELS = config.FOUR_CLASSES


def learnable_spectrograms(n=64, seed=0):
    """(n, 16, 24) noise; class k raises the mean of frequency rows 4k..4k+3. 8 speakers."""
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % len(LABELS)
    x = rng.normal(size=(n, 16, 24)).astype(np.float32)
    for code in range(len(LABELS)):
        x[codes == code, 4 * code : 4 * code + 4, :] += 1.5
    speakers = np.repeat([f"spk{i}" for i in range(8)], n // 8)
    return x, np.asarray(LABELS)[codes], speakers


@pytest.fixture(scope="module")
def data():
    return learnable_spectrograms()


@pytest.fixture(scope="module")
def trained(data):
    training = pytest.importorskip(
        "ser_utils.deep.training", reason="training needs TensorFlow and Keras"
    )
    x, y, speakers = data
    return training.train_model(
        TINY_CRNN, x, y, labels=LABELS, groups=speakers, config=TINY_TRAINING, verbose=0
    )
