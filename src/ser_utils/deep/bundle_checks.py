"""Field-by-field checks of a model bundle's ``recipe.json`` and ``labels.json``, without
TensorFlow: a value of the wrong type or out of range is named before anything runs on it
(a ``target_sr`` of 0 would otherwise change every prediction, a huge ``target_length``
exhaust memory).

>>> from ser_utils import config
>>> recipe = config.improved_recipe("msp-improv", "smoke").to_dict()
>>> recipe_problems(recipe)
[]
>>> recipe["audio"]["target_sr"], recipe["audio"]["resample_type"] = 0, "magic"
>>> for problem in recipe_problems(recipe):
...     print(problem[:60])
unknown resample_type 'magic' (audio.resample_type: one of s
audio.target_sr 0 is not a sample rate between 1000 and 3840
>>> labels_problems(["angry", "angry"])
['labels.json names angry twice']
"""

from __future__ import annotations

import dataclasses
import json
import numbers
from pathlib import Path

from ..audio.preprocessing import SCALINGS
from ..audio.reading import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from ..audio.spectrograms import SPECTROGRAM_KINDS
from ..config import (
    CORPORA,
    PROFILES,
    AudioConfig,
    FrameFeatureConfig,
    FusionConfig,
    SpectrogramConfig,
    TrainingConfig,
)
from ..errors import SerError

__all__ = [
    "BundleError",
    "BUNDLE_FILES",
    "check_bundle_fields",
    "recipe_problems",
    "labels_problems",
    "RESAMPLE_TYPES",
    "MAX_CLIP_SECONDS",
]


#: The files of a bundle that loading cannot do without.
BUNDLE_FILES: tuple[str, ...] = ("model.keras", "labels.json", "recipe.json")


class BundleError(SerError, ValueError):
    """A saved model bundle is missing, incomplete or inconsistent."""


#: librosa.resample's ``res_type`` values.
RESAMPLE_TYPES: tuple[str, ...] = (
    "soxr_vhq",
    "soxr_hq",
    "soxr_mq",
    "soxr_lq",
    "soxr_qq",
    "kaiser_best",
    "kaiser_fast",
    "fft",
    "scipy",
    "polyphase",
    "linear",
    "zero_order_hold",
    "sinc_best",
    "sinc_medium",
    "sinc_fastest",
)
#: The longest model input a bundle may ask for (the original's clips are 7.7 s).
MAX_CLIP_SECONDS = 600

#: (section, field) -> (low, high) for numbers that must lie in a range (inclusive).
_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("audio", "trim_top_db"): (0.0, 200.0),
    ("audio", "trim_frame_length"): (1, 1 << 16),
    ("audio", "trim_hop_length"): (1, 1 << 16),
    ("features", "hop_length"): (1, 1 << 16),
    ("features", "n_mfcc"): (1, 512),
    ("features", "n_chroma"): (1, 512),
    ("features", "n_fft"): (16, 1 << 16),
    ("spectrogram", "window_seconds"): (1e-4, 1.0),
    ("spectrogram", "hop_seconds"): (1e-4, 1.0),
    ("spectrogram", "max_frequency"): (1.0, MAX_SAMPLE_RATE / 2),
    ("spectrogram", "eps"): (1e-30, 1.0),
    ("spectrogram", "n_mels"): (1, 1024),
    ("spectrogram", "n_fft"): (16, 1 << 16),
    ("spectrogram", "mel_hop_length"): (1, 1 << 16),
    ("training", "epochs"): (1, 100_000),
    ("training", "batch_size"): (1, 1 << 20),
    ("training", "learning_rate"): (0.0, 10.0),
    ("training", "validation_size"): (0.0, 1.0),
}
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("audio", "scaling"): SCALINGS,
    ("audio", "resample_type"): RESAMPLE_TYPES,
    ("spectrogram", "kind"): SPECTROGRAM_KINDS,
}
_SECTIONS = {
    "audio": AudioConfig,
    "features": FrameFeatureConfig,
    "spectrogram": SpectrogramConfig,
    "training": TrainingConfig,
    "fusion": FusionConfig,
}


def _type_problem(where: str, value, annotation: str) -> str | None:
    """``value`` against a dataclass field's annotation string (``int``, ``float | None`` …)."""
    allowed = {part.strip() for part in annotation.split("|")}
    if value is None:
        return None if "None" in allowed else f"{where} is missing (null)"
    if isinstance(value, bool):
        ok = "bool" in allowed
    elif isinstance(value, numbers.Integral):
        ok = bool(allowed & {"int", "float"})
    elif isinstance(value, numbers.Real):
        ok = "float" in allowed
    elif isinstance(value, str):
        ok = "str" in allowed
    else:
        ok = not allowed & {"bool", "int", "float", "str"}  # dicts, tuples: left to the loader
    return None if ok else f"{where} {value!r} is not of type {annotation}"


def _section_problems(name: str, section) -> list[str]:
    if not isinstance(section, dict):
        return [f"{name} is not an object"]
    fields = {field.name: field for field in dataclasses.fields(_SECTIONS[name])}
    problems = [
        f"{name}.{key} is not a setting of the recipe" for key in section if key not in fields
    ]
    for key, value in section.items():
        if key not in fields:
            continue
        where = f"{name}.{key}"
        problem = _type_problem(where, value, str(fields[key].type))
        if problem:
            problems.append(problem)
            continue
        if (name, key) in _CHOICES and value not in _CHOICES[name, key]:
            problems.append(
                f"unknown {key} {value!r} ({where}: one of {', '.join(_CHOICES[name, key])})"
            )
        if (name, key) in _RANGES and isinstance(value, numbers.Real) and value is not None:
            low, high = _RANGES[name, key]
            if not low <= value <= high:
                problems.append(f"{where} {value!r} is outside {low:g}–{high:g}")
    return problems


def _audio_problems(audio: dict) -> list[str]:
    problems = []
    rate = audio.get("target_sr")
    rate_given = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
    if rate_given and not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        problems.append(
            f"audio.target_sr {rate!r} is not a sample rate between {MIN_SAMPLE_RATE} and "
            f"{MAX_SAMPLE_RATE} Hz"
        )
    length = audio.get("target_length")
    if isinstance(length, numbers.Real) and not isinstance(length, bool):
        base = int(rate) if rate_given and not problems else 48_000
        if not 1 <= length <= MAX_CLIP_SECONDS * base:
            problems.append(
                f"audio.target_length {length!r} is outside 1–{MAX_CLIP_SECONDS * base} samples "
                f"({MAX_CLIP_SECONDS} s at {base} Hz)"
            )
    return problems


def recipe_problems(recipe: dict) -> list[str]:
    """Every problem of a ``recipe.json`` (:meth:`ser_utils.config.Recipe.to_dict`), one
    sentence each; empty when it can be used."""
    if not isinstance(recipe, dict):
        return ["the file does not hold a recipe object"]
    problems = []
    for key in (
        "name",
        "corpus",
        "profile",
        "audio",
        "features",
        "spectrogram",
        "model",
        "training",
    ):
        if key not in recipe:
            problems.append(f"{key} is missing")
    if "corpus" in recipe and recipe["corpus"] not in CORPORA:
        problems.append(f"unknown corpus {recipe['corpus']!r} (one of {', '.join(CORPORA)})")
    if "profile" in recipe and recipe["profile"] not in PROFILES:
        problems.append(f"unknown profile {recipe['profile']!r} (one of {', '.join(PROFILES)})")
    for name in _SECTIONS:
        if name in recipe and not (name == "fusion" and recipe[name] is None):
            problems += _section_problems(name, recipe[name])
    if isinstance(recipe.get("audio"), dict):
        problems += _audio_problems(recipe["audio"])
    model = recipe.get("model")
    if "model" in recipe and not (
        isinstance(model, dict)
        and isinstance(model.get("name"), str)
        and isinstance(model.get("params"), dict)
    ):
        problems.append("model is not {'name': <builder>, 'params': {…}}")
    return problems


def labels_problems(labels) -> list[str]:
    """Every problem of a ``labels.json``: a list of at least two distinct, non-empty names."""
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        return ["labels.json is not a list of class names"]
    problems = []
    if len(labels) < 2:
        problems.append(f"labels.json names {len(labels)} classes, at least 2 are needed")
    if any(not label.strip() for label in labels):
        problems.append("labels.json holds an empty class name")
    for label in sorted({label for label in labels if labels.count(label) > 1}):
        problems.append(f"labels.json names {label} twice")
    return problems


def _read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(
            f"{path}: not valid JSON ({exc}) — restore the bundle's file, or train and save "
            "the model again (ser train)"
        ) from None


def check_bundle_fields(directory: str | Path) -> None:
    """Check a bundle folder's ``recipe.json`` and ``labels.json`` field by field.

    Raises
    ------
    BundleError
        One line naming the file, every problem found in it (``; ``-separated) and the fix;
        a run directory given instead of its ``model/`` bundle is named as such.
    """
    directory = Path(directory)
    missing = [name for name in BUNDLE_FILES if not (directory / name).is_file()]
    if missing and (directory / "model" / "recipe.json").is_file():
        raise BundleError(
            f"{directory} is a run directory, not a model bundle — pass its bundle folder, "
            f"{directory / 'model'}"
        )
    if missing:
        raise BundleError(
            f"model bundle {directory} is incomplete (missing {', '.join(missing)}) — "
            "train and save the model again (ser train)"
        )
    for name, problems_of in (("recipe.json", recipe_problems), ("labels.json", labels_problems)):
        path = directory / name
        problems = problems_of(_read(path))
        if problems:
            what = "invalid recipe" if name == "recipe.json" else "invalid class list"
            raise BundleError(
                f"{path}: {what} ({'; '.join(problems)}) — restore the bundle's {name} or train "
                "and save the model again (ser train)"
            )
