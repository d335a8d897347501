"""Recipes and their settings (ser_utils.config)."""

from __future__ import annotations

from ser_utils import config, evaluation


def test_the_fusion_recipe_is_the_improved_network_with_its_ensemble_settings_and_survives_a_round_trip():
    for profile in config.PROFILES:
        recipe = config.fusion_recipe("msp-improv", profile)
        improved = config.improved_recipe("msp-improv", profile)
        assert (
            recipe.name == "fusion"
            and recipe.model == improved.model
            and recipe.training == improved.training
        )
        assert recipe.fusion.members == 5 and recipe.fusion.combiner == "stacking"
        assert config.Recipe.from_dict(recipe.to_dict()) == recipe
    assert config.Recipe.from_dict(improved.to_dict()).fusion is None


def test_old_fusion_configs_without_the_setting_read_back_as_not_normalised():
    recipe = config.fusion_recipe("msp-improv", "smoke")
    assert recipe.fusion.speaker_norm is True
    data = recipe.to_dict()
    del data["fusion"]["speaker_norm"]
    assert config.Recipe.from_dict(data).fusion.speaker_norm is False
    assert set(evaluation.UNLABELLED_SUBSETS) == set(evaluation.SUBSETS)
