"""Seconds per epoch of the real training loop: the original CNN-ConvLSTM against the improved model.

Each recipe's model is trained by :func:`ser_utils.deep.training.train_model` — the function the
notebooks and ``ser train`` call — on a memory-mapped ``.npy`` of random spectrograms of
the recipe's real input shape (``full``: original log-power 442 × 382, improved log-mel
64 × 601), written to a temporary folder, with the recipe's own training configuration:
its validation split (20 %, by speaker for the improved recipe), class weights,
augmentation and learning-rate schedule. Only the number of epochs is set here. The first
epoch of each run traces the training and prediction functions and is not timed; an epoch
is timed from Keras' epoch begin to its end, validation included.

    python benchmarks/training.py --profile full --n 80 --epochs 3

prints one row per recipe (model, input, parameters, mean and best seconds per epoch,
milliseconds per training example) and the original / improved ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ser_utils import config  # noqa: E402
from ser_utils.audio.spectrograms import spectrogram_shape  # noqa: E402

RECIPES: tuple[str, ...] = ("original", "improved")


def input_shape(recipe: config.Recipe) -> tuple[int, int]:
    """(frequency bins, frames) of the recipe's spectrograms, from its clip length and sample rate."""
    rate = (
        recipe.audio.target_sr or config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE
    )  # the original code assumes 44.1 kHz
    return spectrogram_shape(recipe.audio.target_length, rate, recipe.spectrogram)


def write_arrays(directory: Path, shape: tuple[int, int], *, n: int, seed: int) -> np.ndarray:
    """Random spectrograms written as ``spectrograms.npy`` in ``directory``, opened as a memmap."""
    rng = np.random.default_rng(seed)
    path = directory / "spectrograms.npy"
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, *shape))
    for start in range(0, n, 16):  # in slices: the full original arrays are large
        chunk = array[start : start + 16]
        chunk[:] = rng.normal(-40.0, 10.0, size=chunk.shape)
    array.flush()
    del array
    return np.load(path, mmap_mode="r")


def time_training(
    recipe_name: str, *, profile: str, n: int, epochs: int, directory: Path, seed: int = 0
) -> dict:
    """Train the recipe's model with :func:`ser_utils.deep.training.train_model` for ``1 + epochs``
    epochs on memmapped random arrays; the seconds of every epoch after the first."""
    import keras

    from ser_utils.deep import training

    recipe = config.get_recipe(recipe_name, "msp-improv", profile)
    shape = input_shape(recipe)
    folder = directory / recipe_name
    folder.mkdir()
    x = write_arrays(folder, shape, n=n, seed=seed)
    rng = np.random.default_rng(seed)
    y = np.asarray(config.FOUR_CLASSES)[rng.integers(0, len(config.FOUR_CLASSES), size=n)]
    speakers = np.asarray([f"speaker{index % 10}" for index in range(n)])  # 10 speakers: 2 held out
    training_config = dataclasses.replace(recipe.training, epochs=1 + epochs, seed=seed)
    seconds: list[float] = []
    start: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: start.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter() - start[-1]),
    )
    keras.backend.clear_session()
    model, history = training.train_model(
        recipe.model,
        x,
        y,
        labels=config.FOUR_CLASSES,
        config=training_config,
        groups=speakers,
        callbacks=[timer],
        progress=False,
    )
    timed = seconds[1:]
    n_train = n - len(training.validation_split(y, groups=speakers, config=training_config)[1])
    return {
        "recipe": recipe_name,
        "model": model.name,
        "input": "×".join(map(str, shape)),
        "parameters": int(model.count_params()),
        "mean": float(np.mean(timed)),
        "best": float(np.min(timed)),
        "n_train": n_train,
        "validation": "val_loss" in history,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile",
        choices=config.PROFILES,
        default="full",
        help="full: the real input shapes and models; smoke: the tiny CI ones",
    )
    parser.add_argument("--n", type=int, default=80, help="examples (training + validation)")
    parser.add_argument(
        "--epochs", type=int, default=2, help="timed epochs per recipe (after one untimed)"
    )
    args = parser.parse_args(argv)

    import tensorflow as tf

    devices = ", ".join(device.device_type for device in tf.config.list_logical_devices()) or "CPU"
    print(
        f"profile {args.profile}: {args.n} examples, {args.epochs} timed epoch(s) after 1 untimed, devices "
        f"{devices}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()})",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="training-benchmark-") as folder:
        rows = [
            time_training(
                name, profile=args.profile, n=args.n, epochs=args.epochs, directory=Path(folder)
            )
            for name in RECIPES
        ]

    header = f"{'recipe':<10}{'model':<20}{'input':>10}{'parameters':>13}{'s/epoch':>9}{'best':>7}{'ms/example':>12}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['recipe']:<10}{row['model']:<20}{row['input']:>10}{row['parameters']:>13,}{row['mean']:>9.2f}"
            f"{row['best']:>7.2f}{1000 * row['mean'] / row['n_train']:>12.1f}"
        )
    original_row, improved_row = rows
    print(
        f"original / improved: {original_row['mean'] / improved_row['mean']:.1f}× time per epoch "
        f"(best epochs: {original_row['best'] / improved_row['best']:.1f}×), "
        f"{original_row['parameters'] / improved_row['parameters']:.1f}× parameters; "
        f"{original_row['n_train']} training examples per epoch, validation "
        f"{'on' if original_row['validation'] and improved_row['validation'] else 'off'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
