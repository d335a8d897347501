"""Model bundles (ser_utils.deep.bundles): round trips, atomic saves, missing files named."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ser_utils import config
from ser_utils.deep import (
    bundles,  # noqa: E402
)

training = pytest.importorskip(
    "ser_utils.deep.training", reason="training needs TensorFlow and Keras"
)


LABELS = config.FOUR_CLASSES


# ---------------------------------------------------------------------------- bundles
def test_bundle_round_trip(tmp_path, trained, data):
    model, history = trained
    x, _, _ = data
    recipe = config.improved_recipe(profile="smoke")
    directory = bundles.save_bundle(
        tmp_path / "improved",
        model,
        labels=LABELS,
        recipe=recipe,
        history=history,
        extra={"fold": 1},
    )
    assert sorted(p.name for p in directory.iterdir()) == [
        "bundle.json",
        "history.json",
        "labels.json",
        "model.keras",
        "recipe.json",
    ]
    bundle = bundles.load_bundle(directory)
    assert bundle.labels == LABELS
    assert bundle.recipe == recipe
    assert bundle.history == history
    assert bundle.extra == {"fold": 1}
    np.testing.assert_allclose(bundle.predict_proba(x), training.predict_proba(model, x), atol=1e-6)
    assert set(bundle.predict(x[:4])) <= set(LABELS)


def test_saving_again_replaces_the_bundle_and_leaves_no_temporary_folder(tmp_path, trained):
    model, _ = trained
    recipe = config.improved_recipe(profile="smoke")
    bundles.save_bundle(tmp_path / "b", model, labels=LABELS, recipe=recipe, extra={"run": 1})
    bundles.save_bundle(
        tmp_path / "b", model, labels=LABELS, recipe=recipe.to_dict(), extra={"run": 2}
    )
    assert [p.name for p in tmp_path.iterdir()] == ["b"]
    assert json.loads((tmp_path / "b" / "bundle.json").read_text())["extra"] == {"run": 2}


def test_a_bundle_gets_ordinary_file_and_folder_modes(tmp_path, trained):
    import os

    old = os.umask(0o022)
    try:
        path = bundles.save_bundle(
            tmp_path / "bundle", trained[0], labels=LABELS, recipe=config.improved_recipe()
        )
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o755
    assert {p.name: p.stat().st_mode & 0o777 for p in path.iterdir()} == dict.fromkeys(
        ("model.keras", "labels.json", "recipe.json", "history.json", "bundle.json"), 0o644
    )


def test_missing_bundle_names_the_folder(tmp_path):
    with pytest.raises(bundles.BundleError, match=str(tmp_path / "nowhere")):
        bundles.load_bundle(tmp_path / "nowhere")


def test_incomplete_bundle_names_the_missing_files(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "labels.json").write_text(json.dumps(list(LABELS)))
    with pytest.raises(
        bundles.BundleError, match=r"half is incomplete \(missing model.keras, recipe.json\)"
    ):
        bundles.load_bundle(tmp_path / "half")
    assert issubclass(bundles.BundleError, ValueError)


def test_saving_with_the_wrong_number_of_labels_fails(tmp_path, trained):
    model, _ = trained
    with pytest.raises(ValueError, match="4 outputs but 2 labels"):
        bundles.save_bundle(
            tmp_path / "b", model, labels=("angry", "sad"), recipe=config.original_recipe()
        )


def test_a_loaded_recipe_equals_the_saved_one(tmp_path, trained):
    model, history = trained
    recipe = config.improved_recipe(profile="smoke")
    directory = bundles.save_bundle(
        tmp_path / "b", model, labels=LABELS, recipe=recipe, history=history
    )
    assert bundles.load_bundle(directory).recipe == recipe
