"""Training speed and size of the seed CNN-ConvLSTM against the improved CRNN, measured together.

Both models are built from their recipes and trained on random arrays of their real input
shapes — seed log-power spectrogram (442 × 382 × 1), improved log-mel (64 × 601 × 1) for
the ``full`` profile — with the same number of examples, batch size and epochs. One
warm-up step per model traces the training function first, so the timed epochs measure
training alone, and the timed epochs alternate between the models.

    python benchmarks/training.py --epochs 1 --n 64 --profile full

prints one row per model (parameters, mean and best seconds per epoch, milliseconds per
example) and the seed / improved ratios of time per epoch and of parameters.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ser_utils import config  # noqa: E402


def input_shapes(profile: str) -> dict[str, tuple[int, int, int]]:
    """The models' real input shapes for ``profile`` (frames from the clip lengths of the recipes)."""
    spectrogram = config.SpectrogramConfig()
    if profile == "full":
        seed_shape = config.SEED_SPECTROGRAM_SHAPE
    else:
        # seed spectrogram frames: no centring, 40 ms window, 20 ms hop at 44.1 kHz
        window = round(spectrogram.window_seconds * config.SEED_SPECTROGRAM_SAMPLE_RATE)
        hop = round(spectrogram.hop_seconds * config.SEED_SPECTROGRAM_SAMPLE_RATE)
        seed_shape = (config.SEED_SPECTROGRAM_SHAPE[0], 1 + (config.SMOKE_MSP_IMPROV_LENGTH - window) // hop)
    improved_samples = config.improved_recipe(profile=profile).audio.target_length
    # log-mel frames: centred frames, one per hop plus one
    improved_shape = (spectrogram.n_mels, 1 + improved_samples // spectrogram.mel_hop_length)
    return {"seed": (*seed_shape, 1), "improved": (*improved_shape, 1)}


def prepare(recipe_name: str, shape: tuple[int, ...], *, n: int, batch_size: int, profile: str,
            seed: int = 0) -> dict:
    """Build the recipe's model, make random data of ``shape`` and trace one training step."""
    from ser_utils import models, training

    recipe = config.get_recipe(recipe_name, "msp-improv", profile)
    training_config = replace(recipe.training, epochs=1, batch_size=batch_size, validation_size=0.0,
                              early_stopping_patience=None, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype(np.float32)
    y = np.asarray(config.FOUR_CLASSES)[rng.integers(0, len(config.FOUR_CLASSES), size=n)]
    training.set_global_seed(seed)
    model = models.build_model(recipe.model, shape, len(config.FOUR_CLASSES),
                               learning_rate=training_config.learning_rate)
    training.fit_model(model, x[:batch_size], y[:batch_size], labels=config.FOUR_CLASSES,
                       config=training_config, verbose=0)
    return {"model": model, "x": x, "y": y, "config": training_config, "input": "×".join(map(str, shape)),
            "seconds": []}


def time_epoch(run: dict) -> None:
    """Train ``run``'s model for one epoch over all its data; record the epoch's wall-clock
    seconds (from Keras' epoch begin to end: batches and their reading, not fit's set-up)."""
    import keras

    from ser_utils import training

    start: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: start.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: run["seconds"].append(time.perf_counter() - start[-1]))
    training.fit_model(run["model"], run["x"], run["y"], labels=config.FOUR_CLASSES, config=run["config"],
                       verbose=0, callbacks=[timer])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per model (after one warm-up step)")
    parser.add_argument("--n", type=int, default=64, help="examples per epoch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--profile", choices=config.PROFILES, default="full",
                        help="full: the real input shapes and models; smoke: the tiny CI ones")
    args = parser.parse_args(argv)

    shapes = input_shapes(args.profile)
    import tensorflow as tf

    devices = ", ".join(device.device_type for device in tf.config.list_logical_devices()) or "CPU"
    print(f"profile {args.profile}: {args.n} examples, batch {args.batch_size}, {args.epochs} timed epoch(s), "
          f"devices {devices}, {os.cpu_count()} CPU cores", flush=True)
    runs = {name: prepare(name, shapes[name], n=args.n, batch_size=args.batch_size, profile=args.profile)
            for name in ("seed", "improved")}
    # Alternate the models epoch by epoch, so a change in machine load affects both alike.
    for _ in range(args.epochs):
        for run in runs.values():
            time_epoch(run)
    rows = [{"model": run["model"].name, "input": run["input"], "parameters": run["model"].count_params(),
             "mean": float(np.mean(run["seconds"])), "best": float(np.min(run["seconds"]))} for run in runs.values()]

    header = f"{'model':<20}{'input':>12}{'parameters':>14}{'s/epoch':>10}{'best':>8}{'ms/example':>12}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['model']:<20}{row['input']:>12}{row['parameters']:>14,}{row['mean']:>10.2f}{row['best']:>8.2f}"
              f"{1000 * row['mean'] / args.n:>12.1f}")
    seed_row, improved_row = rows
    print(f"seed / improved: {seed_row['mean'] / improved_row['mean']:.1f}× time per epoch "
          f"(best epochs: {seed_row['best'] / improved_row['best']:.1f}×), "
          f"{seed_row['parameters'] / improved_row['parameters']:.1f}× parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
