"""The unit costs of a plan, measured on this machine (:mod:`ser_utils.experiments.plan`):
a training and a prediction step of a network at its real input shape and batch size, one clip
through a recipe's array chain or feature sets. Each measure is a function, called once when the plan is made; nothing is written
(the features go to a temporary cache).
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..audio import load_and_preprocess, spectrogram
from ..config import FOUR_CLASSES, ModelConfig, Recipe
from ..features import extract_feature_sets
from ..progress import logger as progress_log

__all__ = ["Cost", "step_costs", "clip_cost", "measure_costs"]


@dataclass(frozen=True)
class Cost:
    """Seconds of one unit, and how they were measured."""

    key: str
    seconds: float
    how: str


def step_costs(
    key: str, model: ModelConfig, shape: tuple[int, int], recipe: Recipe, steps: int = 2
) -> dict[str, Callable[[], Cost]]:
    """Measures of one training step and one prediction step of ``model`` on random batches
    of the real shape (one step of each first, which traces)."""
    measured: dict[str, Cost] = {}

    def run() -> None:
        # TensorFlow: loaded when the first network is measured
        from ..deep.models import build_model
        from ..deep.training import release_models, set_global_seed

        set_global_seed(recipe.training.seed, tensorflow_seed=False)
        network = build_model(
            model, shape, len(FOUR_CLASSES), learning_rate=recipe.training.learning_rate
        )
        rng = np.random.default_rng(0)
        batch = recipe.training.batch_size
        x = rng.standard_normal((batch, *network.inputs[0].shape[1:])).astype(np.float32)
        y = np.eye(len(FOUR_CLASSES), dtype=np.float32)[np.arange(batch) % len(FOUR_CLASSES)]
        steps_of = {
            "train": functools.partial(network.train_on_batch, x, y),
            "predict": functools.partial(network.predict_on_batch, x),
        }
        for name, step in steps_of.items():
            step()  # traces
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
            measured[name] = Cost(
                f"{'training' if name == 'train' else 'prediction'} step: {key}",
                float(np.median(times)),
                f"median of {steps} steps after one that traces",
            )
        del network, steps_of, step
        release_models()

    def get(name: str) -> Callable[[], Cost]:
        def measure() -> Cost:
            if name not in measured:
                run()
            return measured[name]

        return measure

    return {"train": get("train"), "predict": get("predict")}


def clip_cost(key: str, files: pd.DataFrame, recipe: Recipe, kind: str) -> Callable[[], Cost]:
    """One clip through ``recipe``'s audio chain and its spectrogram (``kind`` ``arrays``) or
    the feature sets ``kind`` names (``frames+functionals``), after a first clip that compiles."""

    def measure() -> Cost:
        chosen = files["path"].iloc[:2].tolist()
        seconds = []
        with tempfile.TemporaryDirectory(prefix="ser-plan-") as cache:  # nothing kept
            for path in chosen:
                start = time.perf_counter()
                if kind == "arrays":
                    samples, sr = load_and_preprocess(path, recipe.audio)
                    spectrogram(samples, sr, recipe.spectrogram)
                else:
                    extract_feature_sets(
                        [path],
                        kind.split("+"),
                        recipe=recipe,
                        n_jobs=1,
                        cache_dir=cache,
                        progress=False,
                    )
                seconds.append(time.perf_counter() - start)
        return Cost(key, seconds[-1], f"{Path(chosen[-1]).name}, after one clip that compiles")

    return measure


def measure_costs(
    measures: Mapping[str, Callable[[], Cost]], *, progress: bool = True
) -> dict[str, Cost]:
    """Each unit cost, measured once."""
    costs = {}
    for number, (key, measure) in enumerate(measures.items(), start=1):
        if progress:
            progress_log.info(f"plan: measuring {number}/{len(measures)}: {key}")
        costs[key] = measure()
    return costs
