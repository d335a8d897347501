from __future__ import annotations

import json

import pytest

from ser_utils import config
from ser_utils.deep.bundle_checks import (
    BundleError,
    check_bundle_fields,
    labels_problems,
    recipe_problems,
)


def _recipe(**sections) -> dict:
    recipe = config.improved_recipe("msp-improv", "smoke").to_dict()
    for section, values in sections.items():
        recipe[section].update(values)
    return recipe


def test_the_recipes_of_the_package_have_no_problem():
    for name in config.RECIPES:
        for profile in config.PROFILES:
            assert recipe_problems(config.get_recipe(name, "msp-improv", profile).to_dict()) == []


@pytest.mark.parametrize(
    ("recipe", "problem"),
    [
        (_recipe(audio={"target_sr": 0}), "audio.target_sr 0 is not a sample rate"),
        (_recipe(audio={"target_sr": 16_000.5}), "audio.target_sr 16000.5 is not of type int"),
        (_recipe(audio={"resample_type": "magic"}), "unknown resample_type 'magic'"),
        (_recipe(audio={"scaling": "loudest"}), "unknown scaling 'loudest'"),
        (_recipe(audio={"target_length": 10**12}), "audio.target_length 1000000000000 is outside"),
        (_recipe(audio={"target_length": 0}), "audio.target_length 0 is outside"),
        (_recipe(audio={"trim": "yes"}), "audio.trim 'yes' is not of type bool"),
        (_recipe(audio={"louder": True}), "audio.louder is not a setting of the recipe"),
        (_recipe(spectrogram={"kind": "mfcc"}), "unknown kind 'mfcc'"),
        (_recipe(spectrogram={"n_fft": 0}), "spectrogram.n_fft 0 is outside"),
        (_recipe(training={"epochs": "many"}), "training.epochs 'many' is not of type int"),
        (_recipe(training={"batch_size": 0}), "training.batch_size 0 is outside"),
        ({**_recipe(), "corpus": "iemocap"}, "unknown corpus 'iemocap'"),
        ({**_recipe(), "model": "cnn"}, "model is not {'name'"),
        ({k: v for k, v in _recipe().items() if k != "audio"}, "audio is missing"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_invalid_field_is_named(recipe, problem):
    assert any(found.startswith(problem) for found in recipe_problems(recipe)), recipe_problems(
        recipe
    )


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (["angry"], "labels.json names 1 classes, at least 2 are needed"),
        (["angry", "angry", "sad"], "labels.json names angry twice"),
        (["angry", " "], "labels.json holds an empty class name"),
        ({"angry": 0}, "labels.json is not a list of class names"),
    ],
)
def test_each_problem_of_the_class_list_is_named(labels, problem):
    assert problem in labels_problems(labels)


def _folder(tmp_path, recipe=None, labels=("angry", "happy")):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.keras").write_bytes(b"")
    (folder / "labels.json").write_text(json.dumps(list(labels)))
    (folder / "recipe.json").write_text(json.dumps(recipe or _recipe()))
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda tmp: _folder(tmp, _recipe(audio={"target_sr": 0, "resample_type": "x"})),
            r"recipe.json: invalid recipe \(unknown resample_type 'x' .*; audio.target_sr 0 is not",
        ),
        (lambda tmp: _folder(tmp, labels=["sad"]), r"labels.json: invalid class list"),
        (lambda tmp: _folder(tmp).parent, r"is a run directory, not a model bundle"),
        (lambda tmp: tmp, r"is incomplete \(missing model.keras, labels.json, recipe.json\)"),
    ],
    ids=["recipe", "labels", "run_directory", "empty_folder"],
)
def test_check_bundle_fields_raises_one_line(tmp_path, make, message):
    folder = make(tmp_path)
    with pytest.raises(BundleError, match=message):
        check_bundle_fields(folder)


def test_a_recipe_that_is_not_json_is_named(tmp_path):
    folder = _folder(tmp_path)
    (folder / "recipe.json").write_text("{not json")
    with pytest.raises(BundleError, match=r"recipe.json: not valid JSON"):
        check_bundle_fields(folder)
