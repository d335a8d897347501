"""Model bundles: a trained Keras model saved with its class order, recipe and learning
curves, so that ``ser predict`` and notebooks use it again without retraining.

A bundle is a folder::

    model.keras    the Keras model (weights, architecture, optimizer state)
    labels.json    the class order of the model's outputs
    recipe.json    the recipe it was trained with (:meth:`ser_utils.config.Recipe.to_dict`)
    history.json   learning curves
    bundle.json    format version, Keras version, free-form metadata

Written atomically (a temporary folder renamed into place); loading checks that the parts
agree and says which file to fix.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Recipe
from ..storage import named_os_error, new_file_mode, new_folder_mode, write_json
from .backend import keras
from .bundle_checks import BUNDLE_FILES, BundleError, check_bundle_fields
from .training import predict_proba

__all__ = ["Bundle", "BundleError", "save_bundle", "load_bundle", "bundle_bytes", "BUNDLE_FILES"]

BUNDLE_FORMAT_VERSION = 1


@dataclass
class Bundle:
    """A trained model with everything needed to use it again.

    Attributes
    ----------
    model : keras.Model
    labels : tuple of str
        Class order of the model's outputs.
    recipe : Recipe
        The recipe it was trained with.
    history : dict or None
        Learning curves (:func:`ser_utils.deep.training.fit_model`'s return value).
    extra : dict
        Free-form metadata given to :func:`save_bundle` (fold, speakers held out, …).
    directory : Path or None
    """

    model: keras.Model
    labels: tuple[str, ...]
    recipe: Recipe
    history: dict | None = None
    extra: dict = field(default_factory=dict)
    directory: Path | None = None

    def predict_proba(self, x, *, batch_size: int = 32) -> np.ndarray:
        """Probabilities, shape (n, len(labels)), column ``k`` for ``labels[k]``."""
        return predict_proba(self.model, x, batch_size=batch_size)

    def predict(self, x, *, batch_size: int = 32) -> np.ndarray:
        """The most probable label of each example, as strings."""
        return np.asarray(self.labels, dtype=object)[
            self.predict_proba(x, batch_size=batch_size).argmax(axis=1)
        ]


def _build_optimizer(model: keras.Model) -> None:
    """Create an untrained model's optimizer slots, so the saved optimizer state is complete
    (otherwise loading warns that it skipped the optimizer's variables)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    strategy = getattr(model, "distribute_strategy", None)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        optimizer.build(model.trainable_variables)


def save_bundle(
    directory: str | Path,
    model: keras.Model,
    *,
    labels: Sequence[str],
    recipe: Recipe | dict,
    history: dict | None = None,
    extra: dict | None = None,
) -> Path:
    """Save a trained model as a bundle folder, atomically.

    Everything is written into a temporary folder next to ``directory`` and renamed into
    place only when complete, so an interrupted save never leaves a half-written bundle;
    an existing bundle at ``directory`` is replaced.

    Parameters
    ----------
    directory : path
        The bundle folder, e.g. ``outputs/models/improved-fold1``.
    model : keras.Model
    labels : sequence of str
        Class order of the model's outputs (one per output unit).
    recipe : Recipe or dict
        The recipe the model was trained with (a dict must be ``Recipe.to_dict()``-shaped).
    history : dict, optional
        Learning curves, e.g. :func:`ser_utils.deep.training.fit_model`'s return value.
    extra : dict, optional
        JSON-able metadata stored in ``bundle.json``.

    Returns
    -------
    Path
        ``directory``.
    """
    directory = Path(directory)
    labels = [str(label) for label in labels]
    n_outputs = model.outputs[0].shape[-1]
    if n_outputs != len(labels):
        raise ValueError(
            f"model {model.name!r} has {n_outputs} outputs but {len(labels)} labels were given — "
            "pass the class order the model was trained with"
        )
    recipe_dict = (recipe if isinstance(recipe, Recipe) else Recipe.from_dict(recipe)).to_dict()
    _build_optimizer(model)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        # mkdtemp makes a private (0700) folder; give the bundle the mode of an ordinary new folder.
        tmp.chmod(new_folder_mode())
        model.save(tmp / "model.keras")
        tmp.joinpath("model.keras").chmod(new_file_mode())
        write_json(labels, tmp / "labels.json")
        write_json(recipe_dict, tmp / "recipe.json")
        write_json(history, tmp / "history.json")
        write_json(
            {
                "format_version": BUNDLE_FORMAT_VERSION,
                "keras_version": keras.__version__,
                "extra": extra or {},
            },
            tmp / "bundle.json",
        )
        if directory.exists():
            if not directory.is_dir():
                raise BundleError(
                    f"{directory} exists and is not a folder — remove it or choose another bundle path"
                )
            old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, directory)
    except OSError as exc:  # a full disk while saving: one line naming the bundle
        raise named_os_error(exc, directory) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return directory


def bundle_bytes(model_config, input_shape: Sequence[int], n_classes: int) -> int:
    """Roughly the bytes a bundle of this model takes on disk: its float32 weights and the
    optimizer's two slots per weight (Adam), plus 1 MB of archive and JSON files — what
    :func:`save_bundle` needs free, known before any training."""
    from .models import build_model  # the builders import every network: loaded when used

    model = build_model(model_config, tuple(input_shape), int(n_classes))
    n_weights = int(model.count_params())
    del model
    return 12 * n_weights + (1 << 20)


def load_bundle(directory: str | Path) -> Bundle:
    """Load a bundle written by :func:`save_bundle`.

    Raises
    ------
    BundleError
        The folder is missing, lacks one of :data:`BUNDLE_FILES`, holds a recipe or label list
        with an invalid field (:func:`~ser_utils.deep.bundle_checks.check_bundle_fields`), or
        its parts disagree.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleError(
            f"model bundle not found: {directory} — train a model and save it there with "
            "ser_utils.deep.bundles.save_bundle, or pass the folder that holds model.keras"
        )
    check_bundle_fields(directory)  # every file there, each field of its JSON files valid
    try:
        labels = tuple(json.loads((directory / "labels.json").read_text()))
        recipe = Recipe.from_dict(json.loads((directory / "recipe.json").read_text()))
        history_path, meta_path = directory / "history.json", directory / "bundle.json"
        history = json.loads(history_path.read_text()) if history_path.is_file() else None
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BundleError(
            f"model bundle {directory} holds an unreadable JSON file ({exc}) — "
            "save the model again with ser_utils.deep.bundles.save_bundle"
        ) from None
    from . import models  # noqa: F401 -- registers the original model's Keras 2 gate before loading

    try:
        model = keras.saving.load_model(directory / "model.keras")
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors …
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BundleError(
            f"model bundle {directory}: cannot load model.keras ({reason}) — "
            "save the model again with ser_utils.deep.bundles.save_bundle"
        ) from None
    n_outputs = model.outputs[0].shape[-1]
    if n_outputs != len(labels):
        raise BundleError(
            f"model bundle {directory}: model.keras has {n_outputs} outputs but labels.json names "
            f"{len(labels)} classes — save the model again with its own class order"
        )
    return Bundle(
        model=model,
        labels=labels,
        recipe=recipe,
        history=history,
        extra=meta.get("extra", {}),
        directory=directory,
    )
