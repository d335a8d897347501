"""Synthetic corpora: the exact real layouts, deterministic, idempotent, and learnable."""

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
    TESS_LABELS,
)
from ser_utils.errors import CorpusError

TESS_NESTING = ("tess toronto emotional speech set data", "TESS Toronto emotional speech set data")
TESS_FOLDERS = {
    "OAF_angry",
    "OAF_disgust",
    "OAF_Fear",
    "OAF_happy",
    "OAF_neutral",
    "OAF_Pleasant_surprise",
    "OAF_Sad",
    "YAF_angry",
    "YAF_disgust",
    "YAF_fear",
    "YAF_happy",
    "YAF_neutral",
    "YAF_pleasant_surprised",
    "YAF_sad",
}
TESS_NAME = re.compile(r"^(OAF|YAF)_([a-z]+)_(angry|disgust|fear|happy|neutral|ps|sad)\.wav$")
MSP_NAME = re.compile(r"^MSP-IMPROV-S(\d{2})([AHSN])-([FM])(\d{2})-([PRST])-([FM]{2}\d{2})\.wav$")
NUMBER = r"(?:[1-5]\.\d{6}|NaN)"
CONSENSUS_LINE = re.compile(
    rf"^UTD-IMPROV-(S\d{{2}}[AHSN]-[FM]\d{{2}}-[PRST]-[FM]{{2}}\d{{2}})\.avi; ([AHSNOX]); "
    rf"A:{NUMBER}; V:{NUMBER}; D:{NUMBER} ; N:{NUMBER};$"
)
RATER_LINE = re.compile(
    rf"^A[A-Z0-9]{{12,13}}; (Angry|Happy|Sad|Neutral|Other-[A-Za-z]+); "
    rf"(?:[A-Za-z]+(?:,[A-Za-z]+)*)?; A:{NUMBER}; V:{NUMBER}; D:{NUMBER}; N:{NUMBER};$"
)
RATER_LETTER = {"Angry": "A", "Happy": "H", "Sad": "S", "Neutral": "N"}


def wavs(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.wav") if not p.name.startswith("._") and "__MACOSX" not in p.parts
    )


def read_blocks(label_file: Path) -> dict[str, tuple[str, list[str]]]:
    """``MSP-IMPROV-…`` stem -> (consensus letter, rater lines) straight from the text."""
    text = label_file.read_text(encoding="ascii")
    blocks = {}
    for block in text.rstrip("\n").split("\n\n"):
        header, *raters = block.split("\n")
        match = CONSENSUS_LINE.match(header)
        assert match, f"malformed consensus line: {header!r}"
        blocks["MSP-IMPROV-" + match.group(1)] = (match.group(2), raters)
    return blocks


def contents(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def grouped_balanced_accuracy(
    features: np.ndarray, labels: np.ndarray, groups: np.ndarray
) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    predicted = cross_val_predict(model, features, labels, groups=groups, cv=LeaveOneGroupOut())
    return balanced_accuracy_score(labels, predicted)


def mean_mfcc(path: Path, *, trim: bool) -> np.ndarray:
    samples, sample_rate = sf.read(path, dtype="float32")
    if trim:
        samples, _ = librosa.effects.trim(samples, top_db=25, frame_length=256, hop_length=64)
    return librosa.feature.mfcc(y=samples, sr=sample_rate, n_mfcc=20).mean(axis=1)


@pytest.fixture(scope="module")
def tess_mini(tmp_path_factory) -> Path:
    return synthetic.make_tess(tmp_path_factory.mktemp("data") / "TESS", size="mini", seed=0)


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


# ------------------------------------------------------------------------------ TESS
def test_tess_mini_has_the_kaggle_tree_and_names(tess_mini):
    files = wavs(tess_mini)
    assert len(files) == 140
    inner = tess_mini.joinpath(*TESS_NESTING)
    assert {p.name for p in inner.iterdir() if p.is_dir()} == TESS_FOLDERS
    for path in files:
        assert path.parent.parent == inner, path
        match = TESS_NAME.match(path.name)
        assert match, path.name
        speaker, _, emotion = match.groups()
        assert path.parent.name.startswith(speaker + "_")
        assert synthetic.TESS_FOLDERS[speaker, emotion] == path.parent.name
    suffixes = Counter(TESS_NAME.match(p.name).group(3) for p in files)
    assert suffixes == {emotion: 20 for emotion in TESS_LABELS}
    assert Counter(p.name[:3] for p in files) == {"OAF": 70, "YAF": 70}
    assert "food" in {TESS_NAME.match(p.name).group(2) for p in files}


def test_tess_audio_rates_and_durations(tess_mini):
    durations = []
    for path in wavs(tess_mini):
        info = sf.info(path)
        assert (info.channels, info.subtype, info.format) == (1, "PCM_16", "WAV")
        expected = 96_000 if path.name == "OAF_food_fear.wav" else 24_414
        assert info.samplerate == expected, path.name
        assert 1.25 <= info.duration <= 2.98, (path.name, info.duration)
        durations.append(info.duration)
    assert 1.8 < np.mean(durations) < 2.3


def test_tess_has_macos_junk(tess_mini):
    junk = list((tess_mini / "__MACOSX").joinpath(*TESS_NESTING).rglob("._*.wav"))
    assert 3 <= len(junk) <= 20
    assert (tess_mini / "__MACOSX").joinpath(
        *TESS_NESTING, "OAF_angry", "._OAF_back_angry.wav"
    ) in junk
    for path in junk:
        data = path.read_bytes()
        assert 0 < len(data) < 4096 and not data.startswith(b"RIFF")
    assert len(list(tess_mini.rglob(".DS_Store"))) == 1


def test_tess_word_lists():
    assert len(synthetic.TESS_WORDS) == len(set(synthetic.TESS_WORDS)) == 200
    assert len(synthetic.TESS_MINI_WORDS) == 10
    assert {"food", "back"} <= set(synthetic.TESS_MINI_WORDS) <= set(synthetic.TESS_WORDS)


def test_tess_prosody_follows_speaker_and_emotion(tess_mini):
    pitch, brightness = {}, {}
    for path in wavs(tess_mini):
        speaker, word, emotion = path.stem.split("_")
        if path.name == "OAF_food_fear.wav" or emotion not in ("angry", "happy", "neutral", "sad"):
            continue
        samples, sample_rate = sf.read(path, dtype="float32")
        f0 = librosa.yin(
            samples, fmin=70, fmax=700, sr=sample_rate, frame_length=1024, hop_length=256
        )
        rms = librosa.feature.rms(y=samples, frame_length=1024, hop_length=256)[0]
        centroid = librosa.feature.spectral_centroid(
            y=samples, sr=sample_rate, n_fft=1024, hop_length=256
        )[0]
        voiced = rms > 0.1 * rms.max()
        pitch.setdefault((speaker, emotion), []).append(np.median(f0[voiced]))
        brightness.setdefault((speaker, emotion), []).append(np.median(centroid[voiced]))
    pitch = {key: np.median(values) for key, values in pitch.items()}
    brightness = {key: np.median(values) for key, values in brightness.items()}
    assert pitch["OAF", "neutral"] < pitch["YAF", "neutral"]  # the older speaker's voice is lower
    for speaker in ("OAF", "YAF"):
        assert (
            pitch[speaker, "sad"]
            < pitch[speaker, "neutral"]
            < min(pitch[speaker, "angry"], pitch[speaker, "happy"])
        )
        assert (
            brightness[speaker, "sad"]
            < brightness[speaker, "neutral"]
            < brightness[speaker, "angry"]
        )


def test_tess_emotions_are_learnable_across_speakers(tess_mini):
    files = wavs(tess_mini)
    features = np.array([mean_mfcc(p, trim=False) for p in files])
    labels = np.array([TESS_NAME.match(p.name).group(3) for p in files])
    speakers = np.array([p.name[:3] for p in files])
    for speaker in ("OAF", "YAF"):  # per-speaker normalisation: only two speakers to learn from
        rows = speakers == speaker
        features[rows] = (features[rows] - features[rows].mean(axis=0)) / features[rows].std(axis=0)
    score = grouped_balanced_accuracy(features, labels, speakers)
    print(f"TESS mini, 7 classes, leave-one-speaker-out balanced accuracy: {score:.3f}")
    assert 0.35 < score < 0.95


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


def rt_consensus_counts(blocks: dict, session: int) -> Counter:
    """Consensus labels of one session's R and T turns (label file blocks by file stem)."""
    return Counter(
        label
        for stem, (label, _) in blocks.items()
        if int(stem[17:19]) == session and stem[20] in "RT"
    )


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


# ------------------------------------------------------------- determinism and reuse
def test_same_seed_same_bytes_different_seed_different_bytes(tess_mini, msp_mini, tmp_path):
    again = synthetic.make_tess(
        tmp_path / "a" / "TESS", size="mini", seed=0, n_jobs=2
    )  # parallel path
    assert contents(again) == contents(tess_mini)
    other = synthetic.make_tess(tmp_path / "b" / "TESS", size="mini", seed=1)
    assert contents(other).keys() == contents(tess_mini).keys()
    differing = sum(a != b for a, b in zip(contents(other).values(), contents(tess_mini).values()))
    assert differing >= 140
    msp_again = synthetic.make_msp_improv(tmp_path / "a" / "MSP-IMPROV", size="mini", seed=0)
    assert contents(msp_again) == contents(msp_mini)
    msp_other = synthetic.make_msp_improv(tmp_path / "b" / "MSP-IMPROV", size="mini", seed=1)
    assert (msp_other / "Evaluation.txt").read_bytes() != (msp_mini / "Evaluation.txt").read_bytes()


def test_second_call_does_not_rewrite(tess_mini, msp_mini):
    for make, root in ((synthetic.make_tess, tess_mini), (synthetic.make_msp_improv, msp_mini)):
        before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
        assert make(root, size="mini", seed=0) == root
        assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == before
        marker = (root / synthetic.MARKER_NAME).read_text()
        assert '"complete": true' in marker and '"size": "mini"' in marker


def test_an_incomplete_tree_is_rewritten(tmp_path):
    root = synthetic.make_tess(tmp_path / "TESS", size="mini", seed=0)
    victim = wavs(root)[0]
    reference = victim.read_bytes()
    victim.unlink()
    synthetic.make_tess(root, size="mini", seed=0)
    assert victim.read_bytes() == reference and len(wavs(root)) == 140


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(ValueError, match="expected one of tiny, mini, full"):
        synthetic.make_tess(tmp_path / "TESS", size="huge")
    with pytest.raises(ValueError, match="expected one of plain, audio, nested"):
        synthetic.make_msp_improv(tmp_path / "MSP", layout="flat")
    with pytest.raises(ValueError, match="Evaluation.txt, Evalution.txt"):
        synthetic.make_msp_improv(tmp_path / "MSP", label_file_name="labels.txt")
    with pytest.raises(ValueError, match="seed"):
        synthetic.make_tess(tmp_path / "TESS", seed=-1)
    assert not (tmp_path / "TESS").exists() and not (tmp_path / "MSP").exists()


def test_a_folder_it_did_not_write_is_never_overwritten(tmp_path):
    real = tmp_path / "TESS" / "OAF_angry" / "OAF_back_angry.wav"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"a user's file")
    with pytest.raises(CorpusError, match="did not write"):
        synthetic.make_tess(tmp_path / "TESS", size="mini")
    assert real.read_bytes() == b"a user's file"
    tess = synthetic.make_tess(tmp_path / "synthetic" / "TESS", size="mini")
    with pytest.raises(CorpusError, match="synthetic tess corpus"):
        synthetic.make_msp_improv(tess, size="mini")


def test_tiny_corpora_are_half_of_mini_with_every_class_in_every_session(tmp_path):
    """The 'tiny' size ``make test`` runs the notebooks on: what it writes (specs and label
    file, without rendering), and the mini corpus unchanged by its existence."""
    specs, label_text = synthetic.msp_specs("tiny", 0, "plain")
    label_file = tmp_path / "Evaluation.txt"
    label_file.write_text(label_text, encoding="ascii")
    blocks = read_blocks(label_file)
    stems = [Path(spec["path"]).stem for spec in specs]
    assert len(stems) == 108 and set(stems) == set(blocks)
    assert sum(stem[20] in "RT" for stem in stems) == 96
    for session in range(1, 7):
        counts = rt_consensus_counts(blocks, session)
        assert all(counts[letter] >= 1 for letter in "AHSN"), (session, counts)
        assert sum(counts[letter] for letter in "AHSN") == 14
    tess = synthetic.tess_specs("tiny", 0)
    names = {Path(spec["path"]).name for spec in tess}
    assert len(tess) == 70 and "OAF_food_fear.wav" in names
    # the mini corpus, which every README figure on synthetic data comes from, is as before
    mini_specs, _ = synthetic.msp_specs("mini", 0, "plain")
    assert len(mini_specs) == 216 and len(synthetic.tess_specs("mini", 0)) == 140
