"""Trainings in one process leave nothing behind: no traced training step (which would hold
every trained model's weights and optimizer slots), no dataset, no registered gradient."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ser_utils import config

training = pytest.importorskip(
    "ser_utils.deep.training", reason="training needs TensorFlow and Keras"
)


def softmax_regression(shape, n_classes):
    """A builder function: never given a twin, so fitted directly, as the full-size original is."""
    keras = training.keras
    model = keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Flatten(),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _alive(*kinds: str) -> dict[str, int]:
    gc.collect()
    counts = dict.fromkeys(kinds, 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    return counts


def _custom_gradients() -> int:
    from tensorflow.python.framework import ops

    return sum(name.startswith("CustomGradient-") for name in ops._gradient_registry._registry)


def test_trainings_in_one_process_leave_no_traced_step_or_dataset_behind():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 16, 24)).astype(np.float32)
    y = np.asarray(config.FOUR_CLASSES)[np.arange(40) % 4]
    # 32 training rows in batches of 12: a partial last batch, so the step is traced twice
    run = config.TrainingConfig(epochs=1, batch_size=12, seed=5)

    def train_and_predict() -> list[np.ndarray]:
        model, _ = training.train_model(
            softmax_regression, x, y, labels=config.FOUR_CLASSES, config=run, progress=False
        )
        training.predict_proba(model, x[:8])
        return model.get_weights()

    first = train_and_predict()
    kinds = ("FuncGraph", "ArrayBatches", "Sequential")
    after_one, gradients = _alive(*kinds), _custom_gradients()
    again = train_and_predict()
    assert _alive(*kinds) == after_one
    assert _custom_gradients() == gradients
    for a, b in zip(first, again):  # the same seed, the same weights, whatever was released
        np.testing.assert_array_equal(a, b)


_FREED_TENSOR = """
import gc
import os
import subprocess
import sys
from pathlib import Path
from ser_utils.deep.backend import tensorflow as tf

def anonymous_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("RssAnon:"))

before = anonymous_mib()
x = tf.ones((64, 1024, 1024))  # 256 MiB, far above oneDNN's pooled size
float(x[0, 0, 0])
del x
gc.collect()
print(anonymous_mib() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/self/status")
def test_freed_tensors_go_back_to_the_system():
    # oneDNN's own pool would keep the 256 MiB resident; malloc unmaps them
    env = {k: v for k, v in os.environ.items() if k != "TF_ONEDNN_USE_SYSTEM_ALLOCATOR"}
    result = subprocess.run(
        [sys.executable, "-c", _FREED_TENSOR], env=env, capture_output=True, text=True, check=True
    )
    assert float(result.stdout.split()[-1]) < 64
