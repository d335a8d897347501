"""Writing the synthetic corpora (ser_utils.synthetic.tree): byte-identical, idempotent, never over a folder it did not write."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ser_utils import synthetic
from ser_utils.errors import CorpusError
from tests.helpers import read_blocks, wavs


def contents(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def tess_mini(tmp_path_factory) -> Path:
    return synthetic.make_tess(tmp_path_factory.mktemp("data") / "TESS", size="mini", seed=0)


@pytest.fixture(scope="module")
def msp_mini(tmp_path_factory) -> Path:
    return synthetic.make_msp_improv(
        tmp_path_factory.mktemp("data") / "MSP-IMPROV", size="mini", seed=0
    )


def rt_consensus_counts(blocks: dict, session: int) -> Counter:
    """Consensus labels of one session's R and T turns (label file blocks by file stem)."""
    return Counter(
        label
        for stem, (label, _) in blocks.items()
        if int(stem[17:19]) == session and stem[20] in "RT"
    )


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


@pytest.mark.parametrize(
    "make, options, message",
    [
        ("make_tess", {"size": "huge"}, "expected one of tiny, mini, full"),
        ("make_msp_improv", {"layout": "flat"}, "expected one of plain, audio, nested"),
        ("make_msp_improv", {"label_file_name": "labels.txt"}, "Evaluation.txt, Evalution.txt"),
        ("make_tess", {"seed": -1}, "seed"),
    ],
    ids=["size", "layout", "label file name", "seed"],
)
def test_bad_options_are_refused(tmp_path, make, options, message):
    with pytest.raises(ValueError, match=message):
        getattr(synthetic, make)(tmp_path / "corpus", **options)
    assert not (tmp_path / "corpus").exists()


def test_a_folder_it_did_not_write_is_never_overwritten(tmp_path):
    real = tmp_path / "TESS" / "OAF_angry" / "OAF_back_angry.wav"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"a user's file")
    with pytest.raises(CorpusError, match="did not write"):
        synthetic.make_tess(tmp_path / "TESS", size="mini")
    assert real.read_bytes() == b"a user's file"


def test_a_synthetic_corpus_of_one_kind_is_never_overwritten_by_the_other(tmp_path):
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
