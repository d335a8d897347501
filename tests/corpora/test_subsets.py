"""Subsets by name (ser_utils.corpora.subsets): which utterances take part."""

from __future__ import annotations

import pandas as pd
import pytest

from ser_utils import config
from ser_utils.errors import ChoiceError, CorpusError
from ser_utils.evaluation import (
    select_subset,
)
from tests.helpers import hand_manifest


# ------------------------------------------------------------------------ subsets
def test_select_subset_counts_on_a_hand_built_manifest():
    manifest = hand_manifest()
    rt4 = select_subset(manifest, "rt-4class")
    assert rt4["utterance_id"].tolist() == [
        "u00",
        "u01",
        "u04",
        "u05",
        "u08",
        "u09",
    ]  # R/T, four classes, in order
    assert list(rt4.index) == list(range(6))
    assert len(select_subset(manifest, "4class")) == 10
    assert (
        len(select_subset(manifest, "emotions")) == 10
    )  # MSP-IMPROV has no emotion beyond the four
    assert set(select_subset(manifest, "emotions")["label"]) <= set(config.EMOTIONS)
    assert len(select_subset(manifest, "all")) == len(manifest)  # 'other' and 'no_agreement' too


def test_select_subset_on_tess_keeps_every_emotion_for_rt_emotions_and_all():
    labels = ["angry", "disgust", "fear", "happy", "neutral", "surprise", "sad"]
    manifest = pd.DataFrame(
        {"label": labels * 2, "speaker": ["OAF"] * 7 + ["YAF"] * 7, "corpus": "tess"}
    )
    assert len(select_subset(manifest, "rt")) == 14  # no recording types: R+T keeps every file
    assert len(select_subset(manifest, "emotions")) == 14
    assert len(select_subset(manifest, "all")) == 14
    assert sorted(select_subset(manifest, "4class")["label"].unique()) == list(config.FOUR_CLASSES)
    assert select_subset(manifest, "rt-4class").equals(select_subset(manifest, "4class"))


@pytest.mark.parametrize(
    "labels, subset, error, message",
    [
        (None, "five", ChoiceError, "rt, rt-4class, 4class, emotions, all"),
        ("other", "rt-4class", CorpusError, "subset 'rt-4class' of msp-improv is empty"),
    ],
    ids=["unknown subset", "empty subset"],
)
def test_select_subset_errors(labels, subset, error, message):
    manifest = hand_manifest() if labels is None else hand_manifest().assign(label=labels)
    with pytest.raises(error, match=message):
        select_subset(manifest, subset)


def test_select_subset_on_synthetic_msp_improv(msp_manifest):
    rt4 = select_subset(msp_manifest, "rt-4class")
    assert set(rt4["recording_type"]) <= set(config.ORIGINAL_RECORDING_TYPES)
    assert set(rt4["label"]) == set(config.FOUR_CLASSES)
    four = select_subset(msp_manifest, "4class")
    expected = msp_manifest["label"].isin(config.FOUR_CLASSES).sum()
    assert len(four) == expected > len(rt4)
    kept = msp_manifest["utterance_id"][msp_manifest["utterance_id"].isin(rt4["utterance_id"])]
    assert rt4["utterance_id"].tolist() == kept.tolist()  # manifest (walk) order kept
