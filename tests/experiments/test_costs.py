"""The unit costs of a plan, measured: a network's steps at its real input shape, one clip
through a recipe's chains; nothing written."""

from __future__ import annotations

import pytest

from ser_utils import config
from ser_utils.corpora import check_corpus, select_files
from ser_utils.experiments import costs


@pytest.fixture(scope="module")
def msp_files(msp_root):
    return select_files(check_corpus("msp-improv", msp_root))


def test_a_network_is_measured_once_for_its_training_and_prediction_steps(monkeypatch):
    pytest.importorskip("keras")
    from ser_utils.deep import models

    recipe = config.improved_recipe("msp-improv", "smoke")
    builds = []
    real_build = models.build_model
    monkeypatch.setattr(
        models, "build_model", lambda *a, **k: builds.append(a) or real_build(*a, **k)
    )
    measure = costs.step_costs("tcn", recipe.model, (64, 201), recipe)
    train, predict = measure["train"](), measure["predict"]()
    assert len(builds) == 1  # one network built for both measures
    assert train.seconds > 0 and predict.seconds > 0
    assert train.key.startswith("training step: tcn") and "2 steps" in train.how


@pytest.mark.parametrize("kind", ["arrays", "frames+functionals"])
def test_a_clip_is_measured_through_the_recipes_chain(msp_files, kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cost = costs.clip_cost("clip", msp_files, config.original_recipe("msp-improv", "smoke"), kind)()
    assert (
        cost.seconds > 0 and msp_files["path"].map(lambda p: p.split("/")[-1]).iloc[1] in cost.how
    )
    assert list(tmp_path.iterdir()) == []  # the features went to a temporary cache
