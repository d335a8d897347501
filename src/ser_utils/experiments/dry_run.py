"""``ser dry-run``: the full-size run, tried for a few minutes before it is spent for hours.

A user with MSP-IMPROV runs this first. It goes through the same code path as
``ser evaluate`` at the recipe's real sizes (for the original: 338 368-sample clips,
442 × 382 spectrograms, the 33 148 420-parameter model): the arrays (written where the real
run will reuse them), then the first fold of the protocol for one epoch — or for
``max_steps`` training steps — with its validation part. It prints peak memory, seconds per
training step and validation, and projects the time of the whole run (every fold, every
epoch, every seed) on this machine.

The projection is arithmetic on measured numbers: ``steps per epoch × seconds per step +
validation seconds`` per epoch, summed over the protocol's folds (each fold's own training
size), times epochs and seeds, plus the arrays when they are not already on disk.
"""

from __future__ import annotations

import dataclasses
import math
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from joblib.externals.loky import get_reusable_executor

from ..config import FOUR_CLASSES, Recipe, check_choice
from ..corpora.check import check_corpus
from ..deep.arrays import generate_arrays, load_arrays, subset_rows
from ..deep.devices import device_line
from ..deep.validation import validation_split
from ..deep.views import RowView
from ..errors import SerError
from ..evaluation import PROTOCOLS, make_protocol
from ..paths import arrays_dir
from ..progress import logger as progress_log
from .network import default_training_seeds

__all__ = ["DryRun", "run_dry_run", "format_dry_run", "peak_memory_mb"]


def peak_memory_mb() -> tuple[float, float]:
    """Peak resident memory in MiB of this process and of its finished child processes
    (the array workers), from ``getrusage``."""
    scale = (
        1 / 1024 if sys.platform != "darwin" else 1 / 1024**2
    )  # ru_maxrss: KiB on Linux, bytes on macOS
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return own, children


@dataclass(frozen=True)
class DryRun:
    """What :func:`run_dry_run` measured and projected. Times in seconds, memory in MiB."""

    recipe_name: str
    profile: str
    protocol: str
    n_utterances: int
    input_shape: tuple[int, ...]
    parameters: int
    arrays_seconds: float
    arrays_were_cached: bool
    steps_measured: int
    seconds_per_step: float
    validation_seconds: float
    n_validation: int
    train_sizes: tuple[int, ...]
    batch_size: int
    epochs: int
    seeds: int
    peak_memory_mb: float
    peak_worker_memory_mb: float
    projected_seconds: float
    device: str = ""  # the device line: GPU: <name> or CPU (no GPU visible)

    @property
    def steps_per_epoch(self) -> tuple[int, ...]:
        return tuple(math.ceil(size / self.batch_size) for size in self.train_sizes)


def _end_idle_workers() -> None:
    """Shut joblib's reusable worker processes down (they stay alive, idle, after a parallel call)."""
    get_reusable_executor().shutdown(wait=True)


def _step_timer(max_steps: int | None):
    """A Keras callback timing each training batch and the validation pass; it stops
    training after ``max_steps`` batches when given."""
    # TensorFlow: the callback class derives from Keras', loaded only when the dry run trains
    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps: list[float] = []
            self.validation = 0.0

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.steps.append(time.perf_counter() - self._start)
            if max_steps is not None and len(self.steps) >= max_steps:
                self.model.stop_training = True

        def on_test_begin(self, logs=None):
            self._validation_start = time.perf_counter()

        def on_test_end(self, logs=None):
            self.validation += time.perf_counter() - self._validation_start

    return StepTimer()


def run_dry_run(
    recipe: Recipe,
    root: str | Path,
    *,
    protocol: str = "original-4fold",
    seeds: int | None = None,
    max_steps: int | None = None,
    arrays: str | Path | None = None,
    n_jobs: int = 2,
    progress: bool = True,
) -> DryRun:
    """Measure one fold and one epoch of a run at ``profile`` size and project the whole run.

    Parameters
    ----------
    recipe : Recipe
        The real run's recipe, for its corpus at its profile (``full``: the real sizes); its
        epochs and batch size are the real run's.
    root : path
        The corpus folder.
    protocol : str, default "original-4fold"
        The protocol the real run will use (:data:`ser_utils.evaluation.PROTOCOLS`).
    seeds : int, optional
        Training seeds of the real run (each repeats every fold); default, as ``ser evaluate``:
        :func:`ser_utils.experiments.network.default_training_seeds` (3 for ``original-4fold``
        in full).
    max_steps : int, optional
        Stop the measured epoch after this many training steps (the first one, which also
        builds the graph, is measured but not used for the per-step time when others exist).
    arrays : path, optional
        Arrays folder (default :func:`ser_utils.paths.arrays_dir`, which the real run reuses).
    n_jobs : int, default 2
        Array-generation workers.
    progress : bool, default True

    Returns
    -------
    DryRun
    """
    check_choice(protocol, PROTOCOLS, "protocol")
    seeds = len(default_training_seeds(recipe, protocol)) if seeds is None else seeds
    if seeds < 1 or (max_steps is not None and max_steps < 1):
        raise SerError("--seeds and --max-steps must be at least 1")
    # TensorFlow: loaded once the input is known to be good
    from ..deep.training import train_model

    manifest = check_corpus(recipe.corpus, root)
    folder = Path(arrays) if arrays else arrays_dir(recipe)
    cached = (folder / "arrays.json").is_file()
    start = time.perf_counter()
    written = generate_arrays(manifest, recipe, folder, n_jobs=n_jobs, progress=progress)
    arrays_seconds = time.perf_counter() - start
    _end_idle_workers()  # frees their memory for training, and getrusage then counts their peak
    spectrograms, _, metadata = load_arrays(written.directory)
    rows = subset_rows(metadata)
    protocol_splits = make_protocol(protocol, rows).split(rows["label"].astype(str).to_numpy())
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    positions = rows["row"].to_numpy()
    train_sizes = []
    for train, _ in protocol_splits:
        training_part, _ = validation_split(
            y[train], groups=None if speakers is None else speakers[train], config=recipe.training
        )
        train_sizes.append(len(training_part))
    train, _ = protocol_splits[0]
    training = dataclasses.replace(recipe.training, epochs=1)
    timer = _step_timer(max_steps)
    if progress:
        progress_log.info(
            f"training fold 1 of {len(protocol_splits)} for one epoch "
            f"({math.ceil(train_sizes[0] / training.batch_size)} steps of {training.batch_size})"
            + (f", stopping after {max_steps} step(s)" if max_steps else "")
        )
    model, _ = train_model(
        recipe.model,
        RowView(spectrograms, positions[train]),
        y[train],
        labels=FOUR_CLASSES,
        config=training,
        groups=None if speakers is None else speakers[train],
        verbose=0,
        callbacks=[timer],
        progress="fold 1" if progress else False,
    )
    steps = (
        timer.steps[1:] if len(timer.steps) > 1 else timer.steps
    )  # the first step also traces the graph
    # the projection is arithmetic on the figures as reported, so a reader can redo it
    arrays_seconds = round(arrays_seconds, 1)
    seconds_per_step = round(float(np.median(steps)), 3)
    validation_seconds = round(timer.validation, 2)
    n_validation = len(train) - train_sizes[0]
    epoch_seconds = [
        size_steps * seconds_per_step + validation_seconds
        for size_steps in (math.ceil(size / training.batch_size) for size in train_sizes)
    ]
    projected = sum(epoch_seconds) * recipe.training.epochs * seeds + (
        0.0 if cached else arrays_seconds
    )
    own, workers = peak_memory_mb()
    return DryRun(
        recipe_name=recipe.name,
        profile=recipe.profile,
        protocol=protocol,
        n_utterances=len(rows),
        input_shape=tuple(int(d) for d in spectrograms.shape[1:]),
        parameters=int(model.count_params()),
        arrays_seconds=arrays_seconds,
        arrays_were_cached=cached,
        steps_measured=len(timer.steps),
        seconds_per_step=seconds_per_step,
        validation_seconds=validation_seconds,
        n_validation=n_validation,
        train_sizes=tuple(train_sizes),
        batch_size=training.batch_size,
        epochs=recipe.training.epochs,
        seeds=seeds,
        peak_memory_mb=round(own),
        peak_worker_memory_mb=round(workers),
        projected_seconds=round(projected),
        device=device_line(),
    )


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def format_dry_run(result: DryRun) -> str:
    """The figures of a :class:`DryRun`, one per line, as ``ser dry-run`` prints them."""
    steps = result.steps_per_epoch
    parameters = f"{result.parameters:,}".replace(",", " ")
    arrays = (
        "already on disk (reused)"
        if result.arrays_were_cached
        else f"{result.arrays_seconds:.0f} s to generate (reused by the real run)"
    )
    return "\n".join(
        [
            f"recipe {result.recipe_name} ({result.profile} profile), protocol {result.protocol}, "
            f"{result.n_utterances} utterances",
            f"input {' × '.join(map(str, result.input_shape))}, model {parameters} parameters",
            f"arrays: {arrays}",
            f"training: {result.seconds_per_step:.2f} s per step of {result.batch_size} "
            f"(median of {max(result.steps_measured - 1, 1)} measured step(s)); validation of {result.n_validation} "
            f"utterances {result.validation_seconds:.1f} s",
            f"peak memory: {result.peak_memory_mb:.0f} MiB (array workers: {result.peak_worker_memory_mb:.0f} MiB)",
            f"projected run: {len(steps)} folds × {result.epochs} epochs × {result.seeds} seed(s), "
            f"{min(steps)}{'' if min(steps) == max(steps) else f'–{max(steps)}'} steps per epoch ≈ "
            f"{_duration(result.projected_seconds)} on this machine",
            f"device: {result.device}",
        ]
    )
