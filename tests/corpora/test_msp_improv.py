"""The MSP-IMPROV loader (ser_utils.corpora.msp_improv): names, layouts, the label file and its quirks."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from ser_utils import config
from ser_utils.corpora import load_msp_improv, windows_walk
from ser_utils.corpora.msp_improv import parse_evaluation_file, parse_msp_improv_name
from ser_utils.errors import CorpusError
from ser_utils.synthetic.msp_improv import msp_layout_folder
from tests.helpers import write_msp_tree, write_tone

REQUIRED = ["path", "utterance_id", "corpus", "label", "speaker", "gender"]


MSP_REQUIRED = REQUIRED + [
    "session",
    "sentence",
    "acted_label",
    "recording_type",
    "arousal",
    "valence",
    "dominance",
    "naturalness",
]


# ----------------------------------------------------------------------- MSP-IMPROV
def test_msp_improv_manifest_columns_types_and_labels(msp_manifest, msp_root):
    assert list(msp_manifest.columns[: len(MSP_REQUIRED)])[: len(REQUIRED)] == REQUIRED
    assert set(MSP_REQUIRED) <= set(msp_manifest.columns)
    assert len(msp_manifest) == len(list(msp_root.rglob("MSP-IMPROV-*.wav")))
    assert msp_manifest["path"].tolist() == [
        str(p) for p in windows_walk(msp_root) if p.suffix == ".wav"
    ]
    assert not msp_manifest["utterance_id"].is_monotonic_increasing  # walk order, not name order
    assert set(msp_manifest["session"]) == set(range(1, 7))
    assert set(msp_manifest["recording_type"]) <= set(config.MSP_IMPROV_RECORDING_TYPES)
    assert set(msp_manifest["label"]) <= set(config.FOUR_CLASSES) | {"other", "no_agreement"}
    assert {"other", "no_agreement"} <= set(msp_manifest["label"])
    assert set(msp_manifest["acted_label"]) == set(config.FOUR_CLASSES)
    assert (
        msp_manifest["label"] != msp_manifest["acted_label"]
    ).any()  # consensus can differ from the scenario
    assert msp_manifest["speaker"].str.match(r"^[FM]0[1-6]$").all()
    assert (msp_manifest["speaker"].str[1:].astype(int) == msp_manifest["session"]).all()
    attributes = msp_manifest[["arousal", "valence", "dominance", "naturalness"]]
    assert all(kind == "f" for kind in attributes.dtypes.map(lambda d: d.kind))
    assert attributes.isna().any(axis=None)  # the label file writes some values as NaN
    assert (msp_manifest["n_raters"] >= 1).all()
    assert set(msp_manifest["sample_rate"]) == {44_100}


def test_parse_msp_improv_name_positions():
    parsed = parse_msp_improv_name("MSP-IMPROV-S07H-M03-T-MF12")
    assert parsed == {
        "sentence": 7,
        "acted_label": "happy",
        "gender": "M",
        "session": 3,
        "speaker": "M03",
        "recording_type": "T",
        "turn": "MF12",
    }
    assert parse_msp_improv_name("MSP-IMPROV-S07Q-M03-T-MF12") is None


@pytest.mark.parametrize("layout", ["audio", "nested"])
@pytest.mark.parametrize("label_file", ["Evaluation.txt", "Evalution.txt"])
def test_msp_improv_every_layout_and_label_file_name(
    tmp_path, msp_root, msp_manifest, layout, label_file
):
    # the session's mini tree, linked into the layout (the generator's own layouts are tested
    # in test_synthetic.py)
    root = tmp_path / "MSP-IMPROV"
    for wav in msp_root.rglob("*.wav"):
        parts = wav.relative_to(msp_root).parts  # session{k}/S01A/R/name.wav
        target = root / msp_layout_folder(layout, int(parts[0][7:])) / Path(*parts[1:])
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(wav, target)
    shutil.copyfile(msp_root / "Evaluation.txt", root / label_file)
    manifest = load_msp_improv(root)
    pd.testing.assert_frame_equal(manifest.drop(columns="path"), msp_manifest.drop(columns="path"))


def test_msp_improv_label_file_one_level_up(tmp_path):
    names = {"MSP-IMPROV-S01A-F01-R-FF01": "A", "MSP-IMPROV-S02N-M01-T-MM01": "N"}
    write_msp_tree(tmp_path, names)
    corpus = tmp_path / "audio_only"
    corpus.mkdir()
    shutil.move(str(tmp_path / "session1"), corpus / "session1")
    manifest = load_msp_improv(corpus)
    assert manifest["label"].tolist() == ["angry", "neutral"]


def test_evaluation_file_quirks_nan_duplicated_raters_and_d_space(tmp_path):
    names = {"MSP-IMPROV-S01A-F01-R-FF01": "O", "MSP-IMPROV-S02N-M01-T-MM01": "X"}
    write_msp_tree(tmp_path, names)
    labels = parse_evaluation_file(tmp_path / "Evaluation.txt")
    assert labels.loc["MSP-IMPROV-S01A-F01-R-FF01", "label"] == "other"
    assert labels.loc["MSP-IMPROV-S02N-M01-T-MM01", "label"] == "no_agreement"
    assert math.isnan(labels.loc["MSP-IMPROV-S01A-F01-R-FF01", "arousal"])
    assert labels.loc["MSP-IMPROV-S02N-M01-T-MM01", "arousal"] == 2.5
    assert labels.loc["MSP-IMPROV-S02N-M01-T-MM01", "dominance"] == 3.0
    assert labels["n_raters"].tolist() == [2, 2]  # three rater lines, one duplicated


def test_msp_improv_unlabelled_wavs_are_counted_or_fail_in_strict_mode(tmp_path):
    write_msp_tree(tmp_path, {"MSP-IMPROV-S01A-F01-R-FF01": "A"})
    write_tone(tmp_path / "session1" / "S03S" / "T" / "MSP-IMPROV-S03S-F01-T-FM01.wav")
    manifest = load_msp_improv(tmp_path)
    assert len(manifest) == 1
    assert manifest.attrs["report"]["unlabelled"] == 1
    with pytest.raises(
        CorpusError,
        match=r"1 wav files .* no entry in the label file: MSP-IMPROV-S03S-F01-T-FM01\.wav",
    ):
        load_msp_improv(tmp_path, strict=True)


def test_msp_improv_labels_without_audio_are_reported(tmp_path):
    write_msp_tree(
        tmp_path,
        {"MSP-IMPROV-S01A-F01-R-FF01": "A"},
        extra_labels={"MSP-IMPROV-S09H-M02-P-MF03": "H"},
    )
    assert load_msp_improv(tmp_path).attrs["report"]["labels_without_audio"] == 1


def test_missing_label_file(tmp_path):
    write_msp_tree(tmp_path / "corpus", {"MSP-IMPROV-S01A-F01-R-FF01": "A"}, label_file=None)
    with pytest.raises(
        CorpusError, match=r"Evaluation\.txt not found under .*corpus — place the label file"
    ):
        load_msp_improv(tmp_path / "corpus")


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "UTD-IMPROV-S01A-F01-R-FF01.avi; Q; A:1; V:1; D:1 ; N:1;\n",
            r"Evaluation\.txt line 1: cannot read consensus line",
        ),
        (
            "UTD-IMPROV-S01A-F01-R-FF01.avi; A; A:high; V:1; D:1 ; N:1;\n",
            r"A value 'high' is not a number",
        ),
        ("just some text\n", "no consensus lines found"),
    ],
    ids=["unknown letter", "value not a number", "no consensus line"],
)
def test_malformed_label_file(tmp_path, text, message):
    write_msp_tree(tmp_path, {"MSP-IMPROV-S01A-F01-R-FF01": "A"}, label_file=None)
    (tmp_path / "Evaluation.txt").write_text(text)
    with pytest.raises(CorpusError, match=message):
        load_msp_improv(tmp_path)
