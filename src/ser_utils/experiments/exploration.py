"""The original's hyperparameter exploration of its CNN-ConvLSTM: one train/validation split,
one model per variant, the validation accuracy of each (notebook 05).

By default the original's documented variants (:data:`ORIGINAL_EXPLORATION`, one change at a
time from its final model); the whole grid it drew them from only when asked
(``exploration="grid"``: 192 models of 25 epochs in the full profile, days on a CPU).

>>> len(exploration_grid("full")), len(exploration_grid("smoke"))
(192, 2)
>>> [len(exploration_variants(p, e)) for p in ("full", "smoke") for e in EXPLORATIONS]
[6, 192, 2, 2]
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .. import config
from ..config import FOUR_CLASSES, ModelConfig, Recipe, check_choice
from ..deep.arrays import subset_rows
from ..deep.validation import validation_split
from ..deep.views import RowView

__all__ = [
    "ORIGINAL_EXPLORATION",
    "EXPLORATIONS",
    "exploration_grid",
    "exploration_variants",
    "exploration_epochs",
    "explore_hyperparameters",
]

#: ``"original"``: :data:`ORIGINAL_EXPLORATION`; ``"grid"``: every combination of
#: :data:`config.ORIGINAL_EXPLORATION_GRID`.
EXPLORATIONS: tuple[str, ...] = ("original", "grid")

#: The original's exploration in compact form, one change at a time from its final model
#: (average pooling 3×3, Adam 5e-4, L1 1e-3): learning rate, pooling type and size, L1.
#: ``learning_rate`` goes to the training config, every other key to the model builder.
ORIGINAL_EXPLORATION: dict[str, dict] = {
    "final (avg pool 3, lr 5e-4, L1 1e-3)": {},
    "learning rate 1e-4": {"learning_rate": 1e-4},
    "learning rate 1e-3": {"learning_rate": 1e-3},
    "max pooling": {"pooling": "max"},
    "pool size 4": {"pool_size": 4},
    "L1 1e-2": {"l1": 1e-2},
}


def _describe(value) -> str:
    """``(16, 32)`` -> ``16/32``, ``0.0005`` -> ``0.0005``, ``'max'`` -> ``max``."""
    if isinstance(value, tuple):
        return "/".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def exploration_grid(
    profile: str = "full", grid: Mapping[str, Sequence] = config.ORIGINAL_EXPLORATION_GRID
) -> dict[str, dict]:
    """The original's CNN-ConvLSTM exploration as named variants (changes from the recipe).

    Parameters
    ----------
    profile : {"full", "smoke"}
        ``"full"``: every combination of ``grid`` — pooling max/average × size 2–5 ×
        filters 16/32/64 (first block; the second twice as many) × learning rate
        1e-5/1e-4/5e-4/1e-3 × L1 1e-3/1e-2: 192 models. ``"smoke"``: two variants of
        :data:`ORIGINAL_EXPLORATION` (the final model and max pooling), to keep CI cheap.
    grid : mapping of name -> values, default :data:`config.ORIGINAL_EXPLORATION_GRID`

    Returns
    -------
    dict of name -> changes

    """
    if profile == "smoke":
        return dict(
            list(ORIGINAL_EXPLORATION.items())[:1]
            + [("max pooling", ORIGINAL_EXPLORATION["max pooling"])]
        )
    variants = {}
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values))
        if "filters" in changes:
            first = int(changes["filters"])
            changes["filters"] = (first, 2 * first)  # the original's blocks: 32 then 64
        variants[", ".join(f"{key} {_describe(value)}" for key, value in changes.items())] = changes
    return variants


def exploration_variants(profile: str = "full", exploration: str = "original") -> dict[str, dict]:
    """The variants notebook 05 trains: ``exploration="original"`` the original's documented
    ones (:data:`ORIGINAL_EXPLORATION`), ``"grid"`` the whole grid (:func:`exploration_grid`).
    The smoke profile trains two of them either way (:func:`exploration_grid` ``("smoke")``),
    to keep CI cheap."""
    check_choice(exploration, EXPLORATIONS, "exploration")
    if profile == "smoke" or exploration == "grid":
        return exploration_grid(profile)
    return dict(ORIGINAL_EXPLORATION)


def exploration_epochs(recipe: Recipe) -> int:
    """Epochs of each variant: the recipe's in the full profile,
    :data:`config.SMOKE_EXPLORATION_EPOCHS` in smoke."""
    return config.SMOKE_EXPLORATION_EPOCHS if recipe.profile == "smoke" else recipe.training.epochs


def explore_hyperparameters(
    spectrograms,
    metadata: pd.DataFrame,
    *,
    recipe: Recipe,
    variants: Mapping[str, Mapping] | None = None,
    labels: Sequence[str] = FOUR_CLASSES,
    progress: bool = True,
    subset: str | None = None,
    epochs: int | None = None,
    exploration: str = "original",
) -> tuple[pd.DataFrame, dict[str, dict]]:
    """The original's hyperparameter exploration: one train/validation split, one model per
    variant, validation accuracy per variant.

    The split is the recipe's validation split (:func:`ser_utils.deep.validation.validation_split`)
    over the 4-class utterances — the original's 80/20, ``random_state`` 727. Nothing here
    feeds back into the cross-validation, which keeps the recipe's values.

    Parameters
    ----------
    spectrograms, metadata, recipe, labels, subset
        As in :func:`ser_utils.experiments.network.cross_validate_recipe`.
    variants : mapping of name -> changes, optional
        Changes from the recipe: ``learning_rate`` (Adam) and any keyword of the model
        builder. Default :func:`exploration_variants` of the recipe's profile and
        ``exploration``.
    progress : bool, default True
    epochs : int, optional
        Epochs per variant; default :func:`exploration_epochs`.
    exploration : {"original", "grid"}, default "original"
        Which variants, when ``variants`` is not given: the original's documented ones, or
        the whole grid (192 in the full profile).

    Returns
    -------
    table : pandas.DataFrame
        One row per variant: ``changes``, ``parameters`` (count), ``best_val_accuracy``,
        ``best_epoch``, ``final_val_accuracy``, ``final_train_accuracy``, ``seconds``.
    histories : dict of name -> Keras history
        The learning curves of each variant.
    """
    # TensorFlow: loaded when the first variant trains
    from ..deep.backend import quiet_tensorflow
    from ..deep.training import history_summary, release_models, train_model

    quiet_tensorflow()
    variants = dict(
        exploration_variants(recipe.profile, exploration) if variants is None else variants
    )
    epochs = exploration_epochs(recipe) if epochs is None else epochs
    rows = subset_rows(metadata, subset=subset, labels=labels)
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    train, validation = validation_split(y, groups=speakers, config=recipe.training)
    positions = rows["row"].to_numpy()
    # Rows in array order: sequential reads from the memory map.
    train, validation = (
        train[np.argsort(positions[train])],
        validation[np.argsort(positions[validation])],
    )
    x_train, x_val = (
        RowView(spectrograms, positions[train]),
        RowView(spectrograms, positions[validation]),
    )
    y_train, y_val = y[train], y[validation]
    records, histories = [], {}
    for name, changes in tqdm(
        variants.items(), desc="exploration", disable=not progress, leave=False
    ):
        changes = dict(changes)
        training = dataclasses.replace(
            recipe.training,
            early_stopping_patience=None,
            epochs=int(epochs),
            **(
                {"learning_rate": changes.pop("learning_rate")}
                if "learning_rate" in changes
                else {}
            ),
        )
        model_config = ModelConfig(recipe.model.name, {**recipe.model.params, **changes})
        start = time.perf_counter()
        release_models()
        model, history = train_model(
            model_config,
            x_train,
            y_train,
            labels=labels,
            config=training,
            x_val=x_val,
            y_val=y_val,
            verbose=0,
            progress=name if progress else False,
        )
        histories[name] = history
        records.append(
            {
                "variant": name,
                "changes": ", ".join(f"{k}={v}" for k, v in dict(variants[name]).items()) or "—",
                "parameters": int(model.count_params()),
                **history_summary(history),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        del model
    release_models()
    table = pd.DataFrame.from_records(records).set_index("variant")
    table.attrs.update(n_train=len(train), n_validation=len(validation))
    return table, histories
