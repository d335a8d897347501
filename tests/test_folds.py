"""`ser folds`: the original's folds, computed independently from the corpus folder."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

from ser_utils import config
from ser_utils.app.cli import main
from ser_utils.corpora import windows_walk


def original_folds(msp_root, msp_manifest) -> pd.DataFrame:
    """The original's steps, written out: walk the folder, keep R and T, mask other/no agreement,
    StratifiedKFold(4) unshuffled, then train_test_split(train, test_size=0.2, random_state=727)."""
    labels = dict(zip(msp_manifest["utterance_id"], msp_manifest["label"]))
    walked = [p.stem for p in windows_walk(msp_root) if p.suffix == ".wav" and p.stem[20] in "RT"]
    kept = [stem for stem in walked if labels[stem] in config.FOUR_CLASSES]
    y = np.array([labels[stem] for stem in kept])
    records = []
    for fold, (train, test) in enumerate(
        StratifiedKFold(n_splits=4).split(np.zeros(len(y)), y), start=1
    ):
        _, validation = train_test_split(train, test_size=0.2, random_state=727)
        split = {
            **dict.fromkeys(train, "train"),
            **dict.fromkeys(validation, "validation"),
            **dict.fromkeys(test, "test"),
        }
        records += [(kept[i], fold, split[i]) for i in sorted(split)]
    return pd.DataFrame(records, columns=["utterance_id", "fold", "split"])


def test_ser_folds_writes_the_originals_folds(msp_root, msp_manifest, tmp_path, capsys):
    out = tmp_path / "folds.csv"
    assert (
        main(
            [
                "folds",
                "msp-improv",
                str(msp_root),
                "--protocol",
                "original-4fold",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = pd.read_csv(out)
    expected = original_folds(msp_root, msp_manifest)
    pd.testing.assert_frame_equal(written, expected)
    assert set(written["split"]) == {"train", "validation", "test"}
    n = written["utterance_id"].nunique()
    assert (
        len(written) == 4 * n
        and (
            written.groupby("utterance_id")["split"].apply(lambda s: (s == "test").sum()) == 1
        ).all()
    )
    # In name order (the former manifest order) the same protocol cuts other test folds.
    rt4 = msp_manifest[
        msp_manifest["recording_type"].isin(["R", "T"])
        & msp_manifest["label"].isin(config.FOUR_CLASSES)
    ]
    by_name = rt4.sort_values("utterance_id")
    name_tests = [
        set(by_name["utterance_id"].iloc[test])
        for _, test in StratifiedKFold(n_splits=4).split(np.zeros(len(by_name)), by_name["label"])
    ]
    walk_tests = [
        set(written.query("fold == @f and split == 'test'")["utterance_id"]) for f in range(1, 5)
    ]
    assert name_tests != walk_tests
    assert "-> " + str(out) in capsys.readouterr().out


def test_ser_folds_for_loso_holds_out_sessions(msp_root, msp_manifest, tmp_path):
    out = tmp_path / "loso.csv"
    assert (
        main(
            [
                "folds",
                "msp-improv",
                str(msp_root),
                "--protocol",
                "loso",
                "--recipe",
                "improved",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    written = pd.read_csv(out).merge(msp_manifest[["utterance_id", "session", "speaker"]])
    assert written["fold"].nunique() == 6
    for _, fold in written.groupby("fold"):
        test = fold[fold["split"] == "test"]
        assert test["session"].nunique() == 1
        assert not set(fold.loc[fold["split"] != "test", "speaker"]) & set(test["speaker"])
        # the improved recipe holds out whole speakers for validation
        validation = fold[fold["split"] == "validation"]
        assert len(validation) and not set(validation["speaker"]) & set(
            fold.loc[fold["split"] == "train", "speaker"]
        )


def test_ser_folds_rejects_an_unknown_protocol(msp_root, tmp_path, capsys):
    assert (
        main(
            [
                "folds",
                "msp-improv",
                str(msp_root),
                "--protocol",
                "kfold",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )
        == 2
    )
    assert "unknown protocol 'kfold'" in capsys.readouterr().err


def test_fold_composition_shows_what_each_fold_tests(msp_manifest):
    from ser_utils.evaluation import fold_composition, make_protocol, select_subset

    rt4 = select_subset(msp_manifest, "rt-4class")
    table = fold_composition(rt4, make_protocol("original-4fold", rt4))
    assert list(table.index) == [1, 2, 3, 4]
    assert (table[list(config.FOUR_CLASSES)].sum(axis=1) == table["n_test"]).all()
    assert (
        table["n_test"].sum() == len(rt4) and (table["n_train"] + table["n_test"] == len(rt4)).all()
    )
    for fold, (train, test) in enumerate(
        make_protocol("original-4fold", rt4).split(rt4["label"]), start=1
    ):
        tested = set(rt4["speaker"].iloc[test])
        assert table.at[fold, "test_speakers"] == ",".join(sorted(tested))
        assert table.at[fold, "test_speakers_in_training"] == len(
            tested & set(rt4["speaker"].iloc[train])
        )
    # In the original's (walk) order the folds follow the sessions: some test speakers are unseen.
    assert (table["test_speakers_in_training"] < table["n_test_speakers"]).any()
    # In name order every speaker is in every fold, on both sides.
    by_name = rt4.sort_values("utterance_id").reset_index(drop=True)
    named = fold_composition(by_name, make_protocol("original-4fold", by_name))
    assert (named["test_speakers_in_training"] == named["n_test_speakers"]).all()
    assert (named["test_utterances_seen_speaker"] == 1.0).all()
    loso = fold_composition(rt4, make_protocol("loso", rt4))
    assert (loso["test_speakers_in_training"] == 0).all() and (loso["n_test_speakers"] == 2).all()
    assert list(loso["test_sessions"]) == [str(s) for s in range(1, 7)]
