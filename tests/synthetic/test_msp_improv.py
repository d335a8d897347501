"""The synthetic MSP-IMPROV (ser_utils.synthetic.msp_improv): names, label file, the original's counts."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from ser_utils import synthetic
from ser_utils.config import (
    MSP_IMPROV_LABELS,
    MSP_IMPROV_ORIGINAL_LENGTH,
    MSP_IMPROV_ORIGINAL_SUBSET_COUNTS,
)
from tests.helpers import NUMBER, grouped_balanced_accuracy, read_blocks, wavs

MSP_NAME = re.compile(r"^MSP-IMPROV-S(\d{2})([AHSN])-([FM])(\d{2})-([PRST])-([FM]{2}\d{2})\.wav$")


RATER_LINE = re.compile(
    rf"^A[A-Z0-9]{{12,13}}; (Angry|Happy|Sad|Neutral|Other-[A-Za-z]+); "
    rf"(?:[A-Za-z]+(?:,[A-Za-z]+)*)?; A:{NUMBER}; V:{NUMBER}; D:{NUMBER}; N:{NUMBER};$"
)


RATER_LETTER = {"Angry": "A", "Happy": "H", "Sad": "S", "Neutral": "N"}


@pytest.fixture(scope="module")
def msp_mini(tmp_path_factory) -> Path:
    return synthetic.make_msp_improv(
        tmp_path_factory.mktemp("data") / "MSP-IMPROV", size="mini", seed=0
    )


@pytest.fixture(scope="module")
def msp_original_specs(tmp_path_factory) -> tuple[list[dict], Path]:
    """What ``make_msp_improv(size="full")`` writes — each file's spec and the label file —
    without rendering the 1320 clips (the mini tree tests cover the writing)."""
    specs, label_text = synthetic.msp_specs("full", 0, "plain")
    label_file = tmp_path_factory.mktemp("labels") / "Evaluation.txt"
    label_file.write_text(label_text, encoding="ascii")
    return specs, label_file


def rt_consensus_counts(blocks: dict, session: int) -> Counter:
    """Consensus labels of one session's R and T turns (label file blocks by file stem)."""
    return Counter(
        label
        for stem, (label, _) in blocks.items()
        if int(stem[17:19]) == session and stem[20] in "RT"
    )


# ------------------------------------------------------------------------ MSP-IMPROV
def test_msp_mini_names_and_tree(msp_mini):
    files = wavs(msp_mini)
    assert 200 <= len(files) <= 260
    for path in files:
        name = path.name
        assert MSP_NAME.match(name), name
        assert name[:12] == "MSP-IMPROV-S" and 1 <= int(name[12:14]) <= 20 and name[14] in "AHSN"
        assert name[16] in "FM" and 1 <= int(name[17:19]) <= 6 and name[20] in "PRST"
        session = int(name[17:19])
        assert path.relative_to(msp_mini).parts[:-1] == (f"session{session}", name[11:15], name[20])
    types = Counter(p.name[20] for p in files)
    assert types["R"] + types["T"] > 0.8 * len(files) and types["P"] > 0 and types["S"] > 0
    assert {p.name[16:19] for p in files} == {f"{g}{k:02d}" for g in "FM" for k in range(1, 7)}
    assert len({p.name for p in files}) == len(files)
    for path in files[::20]:
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (44_100, 1, "PCM_16")


def test_msp_mini_label_file_format(msp_mini):
    blocks = read_blocks(msp_mini / "Evaluation.txt")
    assert set(blocks) == {p.stem for p in wavs(msp_mini)}
    text = (msp_mini / "Evaluation.txt").read_text()
    assert "NaN" in text and "\n\n\n" not in text
    duplicated = 0
    for stem, (consensus, raters) in blocks.items():
        for line in raters:
            assert RATER_LINE.match(line), line
        distinct = list(dict.fromkeys(raters))
        duplicated += len(raters) > len(distinct)
        assert 3 <= len(distinct) <= 6
        votes = Counter(RATER_LETTER.get(line.split("; ")[1], "O") for line in distinct)
        top, count = votes.most_common(1)[0]
        if consensus == "X":
            assert count <= len(distinct) / 2, stem
        else:
            assert (top, count > len(distinct) / 2) == (consensus, True), stem
    assert duplicated > 0


def test_msp_mini_consensus_composition(msp_mini):
    blocks = read_blocks(msp_mini / "Evaluation.txt")
    for session in range(1, 7):
        counts = rt_consensus_counts(blocks, session)
        assert all(counts[letter] >= 3 for letter in "AHSN"), (session, counts)
    overall = Counter(label for label, _ in blocks.values())
    assert overall["O"] >= 1 and overall["X"] >= 1
    rt = [
        (stem[14], label)
        for stem, (label, _) in blocks.items()
        if stem[20] in "RT" and label in "AHSN"
    ]
    agreement = np.mean([acted == label for acted, label in rt])
    assert 0.55 < agreement < 0.9  # listeners mostly perceive the acted emotion, not always


def test_msp_mini_silence_is_trimmed_and_emotions_learnable(msp_mini):
    blocks = read_blocks(msp_mini / "Evaluation.txt")
    features, labels, speakers = [], [], []
    for path in wavs(msp_mini):
        if path.stem[20] not in "RT":
            continue
        samples, sample_rate = sf.read(path, dtype="float32")
        trimmed, (start, end) = librosa.effects.trim(
            samples, top_db=25, frame_length=256, hop_length=64
        )
        assert start >= 0.15 * sample_rate and samples.size - end >= 0.15 * sample_rate, path.name
        assert 0.5 <= trimmed.size / sample_rate <= 2.7
        assert 0.3 <= np.abs(samples).max() <= 0.9
        if blocks[path.stem][0] in "AHSN":
            features.append(librosa.feature.mfcc(y=trimmed, sr=sample_rate, n_mfcc=20).mean(axis=1))
            labels.append(blocks[path.stem][0])
            speakers.append(path.stem[16:19])
    score = grouped_balanced_accuracy(np.array(features), np.array(labels), np.array(speakers))
    print(
        f"MSP-IMPROV mini, 4 consensus classes, leave-one-speaker-out balanced accuracy: {score:.3f}"
    )
    assert 0.35 < score < 0.95


@pytest.mark.parametrize(
    ("layout", "label_file_name", "prefix"),
    [
        ("audio", "Evalution.txt", ("Audio",)),
        ("nested", "Evaluation.txt", ("session{k}",)),
    ],
)
def test_msp_layouts_and_label_file_names(msp_mini, tmp_path, layout, label_file_name, prefix):
    root = synthetic.make_msp_improv(
        tmp_path / "MSP-IMPROV", size="mini", seed=0, layout=layout, label_file_name=label_file_name
    )
    assert sorted(p.name for p in root.glob("*.txt")) == [label_file_name]
    assert (root / label_file_name).read_bytes() == (msp_mini / "Evaluation.txt").read_bytes()
    reference = {p.name: p for p in wavs(msp_mini)}
    files = wavs(root)
    assert {p.name for p in files} == set(reference)
    for path in files:
        k = int(path.name[17:19])
        expected = tuple(part.format(k=k) for part in prefix) + (
            f"session{k}",
            path.name[11:15],
            path.name[20],
        )
        assert path.relative_to(root).parts[:-1] == expected
    assert files[0].read_bytes() == reference[files[0].name].read_bytes()


def test_msp_changed_options_rewrite_the_tree(tmp_path):
    root = synthetic.make_msp_improv(tmp_path / "MSP-IMPROV", size="mini", seed=0)
    synthetic.make_msp_improv(
        root, size="mini", seed=0, layout="nested", label_file_name="Evalution.txt"
    )
    assert not (root / "Evaluation.txt").exists() and (root / "Evalution.txt").exists()
    assert {p.relative_to(root).parts[1] for p in wavs(root)} == {
        f"session{k}" for k in range(1, 7)
    }
    assert len(wavs(root)) == len(read_blocks(root / "Evalution.txt"))


def test_msp_original_has_the_original_consensus_counts(msp_original_specs):
    specs, label_file = msp_original_specs
    blocks = read_blocks(label_file)
    files = [Path(spec["path"]) for spec in specs]
    assert set(blocks) == {p.stem for p in files} and len(files) == len(blocks)
    assert all(MSP_NAME.match(p.name) and p.parts[-2] == p.name[20] for p in files)
    expected = {
        "T": {"A": 115, "S": 106, "H": 136, "N": 283, "O": 1, "X": 11},  # Busso et al. 2017
        "R": {"A": 169, "S": 80, "H": 88, "N": 241, "O": 3, "X": 39},
    }
    for recording_type, counts in expected.items():
        assert (
            Counter(label for stem, (label, _) in blocks.items() if stem[20] == recording_type)
            == counts
        )
    rt = {stem: label for stem, (label, _) in blocks.items() if stem[20] in "RT"}
    assert Counter(stem[20] for stem in rt) == {"R": 620, "T": 652}
    four = Counter(label for label in rt.values() if label in "AHSN")
    assert sum(four.values()) == 1218
    assert {MSP_IMPROV_LABELS[k]: v for k, v in four.items()} == MSP_IMPROV_ORIGINAL_SUBSET_COUNTS
    assert four == {"A": 284, "H": 224, "S": 186, "N": 524}
    for session in range(1, 7):
        assert {label for stem, label in rt.items() if int(stem[17:19]) == session} >= set("AHSN")
    assert 0.6 < np.mean([stem[14] == label for stem, label in rt.items() if label in "AHSN"]) < 0.8


def test_msp_original_clip_lengths_fit_the_originals_padding(msp_original_specs):
    # Speech 1.5-6.5 s plus 0.4-1.6 s of silence; trimmed, every clip fits the original's
    # padding length. Every 60th R/T clip is rendered exactly as make_msp_improv writes it.
    specs = [spec for spec in msp_original_specs[0] if Path(spec["path"]).name[20] in "RT"][::60]
    lengths, trimmed = [], []
    for spec in specs:
        samples, rate = synthetic.render(spec, 0)
        assert rate == 44_100
        samples = samples.astype(np.float32) / 32768
        lengths.append(samples.size)
        trimmed.append(
            librosa.effects.trim(samples, top_db=25, frame_length=256, hop_length=64)[0].size
        )
    assert min(lengths) >= 1.9 * 44_100 and max(lengths) <= 8.1 * 44_100
    assert max(trimmed) <= MSP_IMPROV_ORIGINAL_LENGTH and min(trimmed) < 0.9 * min(lengths)
