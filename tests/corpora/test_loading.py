"""Loading a corpus by name (ser_utils.corpora.loading) and the errors of every loader's folder."""

from __future__ import annotations

import pandas as pd
import pytest

from ser_utils.corpora import load_corpus, load_msp_improv, load_tess
from ser_utils.errors import CorpusError


# ---------------------------------------------------------------------- error paths
@pytest.mark.parametrize(
    "load, message",
    [
        (load_msp_improv, r"MSP-IMPROV folder not found: .*nowhere — place your copy"),
        (load_tess, r"TESS folder not found"),
    ],
)
def test_missing_root_names_the_folder_and_the_fix(tmp_path, load, message):
    with pytest.raises(CorpusError, match=message):
        load(tmp_path / "nowhere")


def test_root_that_is_a_file(tmp_path):
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(CorpusError, match="is a file, not a folder"):
        load_tess(tmp_path / "x.txt")


@pytest.mark.parametrize("load", [load_tess, load_msp_improv])
def test_no_wav_files(tmp_path, load):
    (tmp_path / "readme.txt").write_text("nothing")
    (tmp_path / "Evaluation.txt").write_text(
        "UTD-IMPROV-S01A-F01-R-FF01.avi; A; A:1; V:1; D:1 ; N:1;\n"
    )
    with pytest.raises(CorpusError, match=r"no \.wav files found under"):
        load(tmp_path)


def test_load_corpus_dispatches_and_rejects_unknown_names(tess_root, tess_manifest):
    pd.testing.assert_frame_equal(load_corpus("tess", tess_root), tess_manifest)
    with pytest.raises(
        ValueError, match="unknown corpus 'iemocap': expected one of tess, msp-improv"
    ):
        load_corpus("iemocap", tess_root)
