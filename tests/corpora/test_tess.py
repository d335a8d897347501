"""The TESS loader (ser_utils.corpora.tess): labels from file names, junk, duplicates, strict mode."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ser_utils import config
from ser_utils.corpora import load_tess, windows_walk
from ser_utils.corpora.tess import parse_tess_name
from ser_utils.errors import CorpusError
from tests.helpers import write_tone

REQUIRED = ["path", "utterance_id", "corpus", "label", "speaker", "gender"]


# ----------------------------------------------------------------------------- TESS
def test_tess_manifest_has_one_row_per_file_sorted_with_labels_from_suffix(
    tess_manifest, tess_root
):
    wavs = [
        p
        for p in tess_root.rglob("*.wav")
        if "__MACOSX" not in p.parts and not p.name.startswith("._")
    ]
    assert len(tess_manifest) == len(wavs) == 140
    assert list(tess_manifest.columns[: len(REQUIRED)]) == REQUIRED
    assert tess_manifest["path"].tolist() == [
        str(p)
        for p in windows_walk(tess_root)
        if p.suffix == ".wav" and "__MACOSX" not in p.parts and not p.name.startswith("._")
    ]
    assert set(tess_manifest["corpus"]) == {"tess"}
    assert tess_manifest["label"].value_counts().to_dict() == {e: 20 for e in config.EMOTIONS}
    assert tess_manifest["speaker"].value_counts().to_dict() == {"OAF": 70, "YAF": 70}
    assert set(tess_manifest["gender"]) == {"F"}
    assert all(Path(p).is_absolute() and Path(p).exists() for p in tess_manifest["path"])
    # the label is the suffix even where the folder says "Pleasant_surprise" or "pleasant_surprised"
    surprise = tess_manifest[tess_manifest["label"] == "surprise"]
    assert all(Path(p).stem.endswith("_ps") for p in surprise["path"])


def test_tess_junk_is_ignored_and_counted(tess_manifest):
    report = tess_manifest.attrs["report"]
    assert report["junk"] >= 2  # __MACOSX/._* files and .DS_Store
    assert report["unparseable"] == 0


def test_tess_reads_the_96khz_file_rate_from_its_header(tess_manifest):
    rates = tess_manifest.set_index("utterance_id")["sample_rate"]
    assert rates["OAF_food_fear"] == 96_000
    assert set(rates.drop("OAF_food_fear")) == {24_414}


def test_tess_twice_nested_copy_counts_duplicates_once(tess_root, tmp_path):
    root = tmp_path / "TESS"
    shutil.copytree(tess_root, root)
    inner = next(root.glob("*/TESS Toronto emotional speech set data"))
    shutil.copytree(
        inner, root / "TESS Toronto emotional speech set data"
    )  # the archive's second copy
    manifest = load_tess(root)
    assert len(manifest) == 140
    assert manifest.attrs["report"]["duplicates"] == 140


@pytest.mark.parametrize(
    "stem, expected",
    [
        ("OAF_back_angry", {"speaker": "OAF", "word": "back", "label": "angry"}),
        ("YAF_pick_ps", {"speaker": "YAF", "word": "pick", "label": "surprise"}),
        ("YAF_neat_Neutral", {"speaker": "YAF", "word": "neat", "label": "neutral"}),
        ("OAF_back", None),
        ("ZZZ_back_angry", None),
    ],
)
def test_parse_tess_name(stem, expected):
    assert parse_tess_name(stem) == expected


def test_tess_unparseable_names_are_skipped_and_counted_or_fail_in_strict_mode(tmp_path):
    write_tone(tmp_path / "OAF_angry" / "OAF_back_angry.wav")
    write_tone(tmp_path / "OAF_angry" / "recording 12.wav")
    manifest = load_tess(tmp_path)
    assert len(manifest) == 1 and manifest.attrs["report"]["unparseable"] == 1
    with pytest.raises(CorpusError, match=r"1 wav files .* recording 12\.wav"):
        load_tess(tmp_path, strict=True)
