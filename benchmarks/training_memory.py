"""Three trainings of the full-size original model in one process: seconds per step and memory
after each, and the third against the first.

Each training goes through the path of ``ser evaluate`` (a fold of
:mod:`ser_utils.experiments.network`): one garbage collection,
:func:`ser_utils.deep.training.train_model` with the original recipe's training configuration
(one epoch, its 20 % random validation split, seed ``1 + k`` for training ``k``) on rows of a
memory-mapped ``.npy`` (a :class:`~ser_utils.deep.views.RowView`), then
:func:`~ser_utils.deep.training.predict_proba` on the held-out rows, and the model is dropped. The arrays are random spectrograms of the original's
442 × 382 shape, written to a temporary folder: ``--n`` rows to train on (default 176: 140
training rows, four steps of 32 and a partial one, as a fold of the real run has, and 36
validation rows) and ``--test`` rows to predict (default 48); the model, its 33 148 420
parameters and every batch are full size, only the epoch is shorter.

    python benchmarks/training_memory.py                      # 7 minutes on 2 cores under a load of 7-12
    python benchmarks/training_memory.py --without-release    # as before: what a fit left behind

After each training it prints the median seconds per step (the first step of each training,
which traces, left out), the peak resident memory of that training (Linux: the high-water mark
is reset before each one), the resident memory once the model is dropped (anonymous and
file-backed: the memory-mapped rows and the libraries), and the peak and the current bytes of
TensorFlow's own CPU allocator (where it keeps statistics: oneDNN's pool does, and keeps every page
it has touched; with ``TF_ONEDNN_USE_SYSTEM_ALLOCATOR=1``, which the package sets, tensors come
from ``malloc`` and both read 0; run with ``TF_ONEDNN_USE_SYSTEM_ALLOCATOR=0`` for the pool);
then the ratios of the third training to the first.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from training import write_arrays  # noqa: E402  (benchmarks/training.py, beside this file)

from ser_utils import config  # noqa: E402


def _status_mib(key: str) -> float | None:
    """A memory line of ``/proc/self/status`` in MiB (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset this process's resident high-water mark (Linux); False where it cannot be."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _peak_mib(reset: bool) -> float:
    if reset:
        return _status_mib("VmHWM")
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024**2  # KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _step_timer(steps: list[float]):
    """A Keras callback appending the seconds of each training batch to ``steps``."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            steps.append(time.perf_counter() - self.start)

    return StepTimer()


def train_three_times(n: int, n_test: int, runs: int, *, release: bool) -> list[dict]:
    import tensorflow as tf

    # TensorFlow: loaded after the arguments are read, so --help is instant
    from ser_utils.deep import training
    from ser_utils.deep.backend import quiet_tensorflow
    from ser_utils.deep.views import RowView

    quiet_tensorflow()  # each training retraces Keras' functions, as expected

    if not release:  # what each fit left behind before it was released
        training.fit_state_released = contextlib.nullcontext
    recipe = config.get_recipe("original", "msp-improv", "full")
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory(prefix="training-memory-") as folder:
        x = write_arrays(Path(folder), config.ORIGINAL_SPECTROGRAM_SHAPE, n=n + n_test, seed=0)
        y = np.asarray(config.FOUR_CLASSES)[rng.integers(0, len(config.FOUR_CLASSES), size=n)]
        train, test = RowView(x, np.arange(n)), RowView(x, np.arange(n, n + n_test))
        for k in range(runs):
            steps: list[float] = []
            training.release_models()  # as the fold loop does before each training
            reset = _reset_peak()
            if hasattr(tf.config.experimental, "reset_memory_stats"):
                with contextlib.suppress(ValueError):
                    tf.config.experimental.reset_memory_stats("CPU:0")
            start = time.perf_counter()
            model, _ = training.train_model(
                recipe.model,
                train,
                y,
                labels=config.FOUR_CLASSES,
                config=dataclasses.replace(recipe.training, epochs=1, seed=1 + k),
                callbacks=[_step_timer(steps)],
                progress=False,
            )
            training.predict_proba(model, test, batch_size=recipe.training.batch_size)
            seconds = time.perf_counter() - start
            del model
            gc.collect()
            try:
                allocator = tf.config.experimental.get_memory_info("CPU:0")
            except ValueError:  # an allocator that keeps no statistics (oneDNN off)
                allocator = {"peak": float("nan"), "current": float("nan")}
            rows.append(
                {
                    "seconds_per_step": float(np.median(steps[1:] if len(steps) > 1 else steps)),
                    "steps": len(steps),
                    "seconds": seconds,
                    "peak": _peak_mib(reset),
                    "rss": _status_mib("VmRSS") or float("nan"),
                    "anonymous": _status_mib("RssAnon") or float("nan"),
                    "file": _status_mib("RssFile") or float("nan"),
                    "allocator_peak": allocator["peak"] / 2**20,
                    "allocator_now": allocator["current"] / 2**20,
                }
            )
            print(_row(k + 1, rows[-1]), flush=True)
    return rows


def _row(index: int, row: dict) -> str:
    return (
        f"{index:>8} {row['seconds_per_step']:>8.2f} {row['steps']:>6} {row['seconds']:>8.1f} "
        f"{row['peak']:>9.0f} {row['rss']:>9.0f} {row['anonymous']:>9.0f} {row['file']:>7.0f} "
        f"{row['allocator_peak']:>8.0f} {row['allocator_now']:>7.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n", type=int, default=176, help="rows to train on (80 %% train, 20 %% validation)"
    )
    parser.add_argument("--test", type=int, default=48, help="held-out rows to predict")
    parser.add_argument("--runs", type=int, default=3, help="trainings in the process")
    parser.add_argument(
        "--without-release",
        action="store_true",
        help="keep what each fit leaves in TensorFlow's registries (the behaviour before it was released)",
    )
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2 (the last is compared with the first)")

    # TensorFlow: loaded after the arguments are read, so --help is instant
    from ser_utils.deep.devices import device_line

    print(
        f"original model, full size ({' × '.join(map(str, config.ORIGINAL_SPECTROGRAM_SHAPE))}): "
        f"{args.runs} trainings of one epoch on {args.n} rows, then {args.test} predicted; "
        f"{device_line()}, {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), "
        f"load {os.getloadavg()[0]:.1f}; "
        + ("what each fit leaves is kept" if args.without_release else "released after each fit"),
        flush=True,
    )
    print(
        f"{'training':>8} {'s/step':>8} {'steps':>6} {'seconds':>8} {'peak MiB':>9} {'RSS after':>9} "
        f"{'anonymous':>9} {'file':>7} {'TF peak':>8} {'TF now':>7}"
    )
    rows = train_three_times(args.n, args.test, args.runs, release=not args.without_release)
    first, last = rows[0], rows[-1]
    print(
        f"training {len(rows)} / training 1: {last['seconds_per_step'] / first['seconds_per_step']:.2f}× "
        f"seconds per step, {last['rss'] / first['rss']:.2f}× RSS after, "
        f"{last['peak'] / first['peak']:.2f}× peak; load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
