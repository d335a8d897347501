"""The head over a pretrained encoder's pooled embedding (ser_utils.deep.models.heads)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("keras")

from ser_utils import config  # noqa: E402
from ser_utils.deep.models import build_model, encoder_head  # noqa: E402


def test_the_recipe_builds_a_dense_head_on_the_pooled_embedding():
    model = build_model(config.whisper_head_recipe().model, (768,), 4)
    assert model.input_shape == (None, 768) and model.output_shape == (None, 4)
    dense = model.get_layer("dense")
    assert dense.units == 128 and dense.kernel.shape == (768, 128)
    probabilities = model.predict_on_batch(np.zeros((3, 768), np.float32))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "shape, n_classes, match",
    [
        ((50, 384), 4, r"input_shape must be \(width,\)"),
        ((768,), 1, "n_classes must be at least 2"),
    ],
)
def test_the_head_refuses_a_frame_sequence_or_one_class(shape, n_classes, match):
    with pytest.raises(ValueError, match=match):
        encoder_head(shape, n_classes)
