"""Protocols as scikit-learn splitters and the leakage guard (ser_utils.evaluation.protocols)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.model_selection import cross_validate as sklearn_cross_validate

from ser_utils import config
from ser_utils.errors import CorpusError, SerError
from ser_utils.evaluation import (
    PROTOCOLS,
    SUBSETS,
    LeakageError,
    Protocol,
    check_no_leakage,
    cross_validate,
    make_protocol,
    select_subset,
)
from tests.helpers import hand_manifest


# ------------------------------------------------------------------ leakage guard
class LeakySplitter:
    """A deliberately broken splitter: yields the given (train, test) pairs as they are."""

    def __init__(self, *splits):
        self.splits = [(np.asarray(a), np.asarray(b)) for a, b in splits]

    def get_n_splits(self, X=None, y=None, groups=None):
        return len(self.splits)

    def split(self, X, y=None, groups=None):
        yield from self.splits


def _never_called(fold, train, test):
    raise AssertionError("fit_predict must not run on a leaking fold")


def cross_validate_without_fitting(protocol, manifest):
    """The fold loop over every label of ``manifest``; the leakage guard stops it before a fit."""
    return cross_validate(
        protocol,
        manifest["label"],
        _never_called,
        list(config.EMOTIONS) + ["other", "no_agreement"],
        progress=False,
    )


# ---------------------------------------------------------------------- protocols
def test_original_random_equals_train_test_split():
    manifest = pd.DataFrame({"label": ["angry", "happy", "neutral", "sad"] * 10})
    protocol = make_protocol("original-random", manifest)
    ((train, test),) = protocol.split(manifest["label"])
    expected_train, expected_test = train_test_split(np.arange(40), test_size=0.25, random_state=1)
    assert train.tolist() == expected_train.tolist()
    assert test.tolist() == expected_test.tolist()
    other = make_protocol("original-random", manifest, random_state=3).split(manifest["label"])[0][
        1
    ]
    assert (
        other.tolist()
        == train_test_split(np.arange(40), test_size=0.25, random_state=3)[1].tolist()
    )


def test_original_4fold_equals_unshuffled_stratified_kfold():
    y = np.array(["neutral"] * 9 + ["angry"] * 5 + ["happy"] * 4 + ["sad"] * 6)
    manifest = pd.DataFrame({"label": y})
    protocol = make_protocol("original-4fold", manifest)
    expected = list(StratifiedKFold(n_splits=4).split(np.zeros(len(y)), y))
    got = protocol.split(y)
    assert protocol.n_splits == 4
    assert [(a.tolist(), b.tolist()) for a, b in got] == [
        (a.tolist(), b.tolist()) for a, b in expected
    ]


@pytest.mark.parametrize("name, column, folds", [("loso", "session", 3), ("speaker", "speaker", 6)])
def test_grouped_protocols_hold_out_whole_groups(name, column, folds):
    manifest = hand_manifest()
    protocol = make_protocol(name, manifest)
    splits = protocol.split(manifest["label"])
    assert protocol.n_splits == len(splits) == folds
    tested = np.concatenate([test for _, test in splits])
    assert sorted(tested.tolist()) == list(
        range(len(manifest))
    )  # every utterance tested exactly once
    for train, test in splits:
        assert not set(manifest[column].iloc[train]) & set(manifest[column].iloc[test])


def test_loso_and_speaker_on_synthetic_corpora(msp_manifest, tess_manifest):
    rt4 = select_subset(msp_manifest, "rt-4class")
    loso = make_protocol("loso", rt4)
    assert loso.n_splits == rt4["session"].nunique() == 6
    for train, test in loso.split(rt4["label"]):
        assert not set(rt4["session"].iloc[train]) & set(rt4["session"].iloc[test])
        assert not set(rt4["speaker"].iloc[train]) & set(rt4["speaker"].iloc[test])
    tess = select_subset(tess_manifest, "emotions")
    speaker = make_protocol("speaker", tess)
    assert speaker.n_splits == 2
    held_out = [set(tess["speaker"].iloc[test]) for _, test in speaker.split(tess["label"])]
    assert sorted(map(sorted, held_out)) == [["OAF"], ["YAF"]]


def test_protocols_plug_into_cross_validate():
    manifest = hand_manifest()
    protocol = make_protocol("loso", manifest)
    X = np.zeros((len(manifest), 1))
    scores = sklearn_cross_validate(
        DummyClassifier(strategy="most_frequent"),
        X,
        manifest["label"],
        cv=protocol.splitter,
        groups=protocol.groups,
    )
    assert len(scores["test_score"]) == 3


TESS_LIKE = pd.DataFrame(
    {"label": ["angry", "sad"] * 4, "speaker": ["OAF", "YAF"] * 4, "corpus": "tess"}
)


@pytest.mark.parametrize(
    "run, error, message",
    [
        (
            lambda: make_protocol("loso", TESS_LIKE),
            CorpusError,
            "'session' column .* use --protocol speaker",
        ),
        (lambda: make_protocol("kfold", TESS_LIKE), ValueError, ", ".join(PROTOCOLS)),
        (
            lambda: make_protocol("speaker", TESS_LIKE).split(["angry", "sad", "sad"]),
            ValueError,
            "made for 8 utterances but got 3",
        ),
    ],
    ids=["no sessions", "unknown protocol", "labels of another subset"],
)
def test_protocol_errors(run, error, message):
    with pytest.raises(error, match=message):
        run()


def test_leakage_guard_stops_a_fold_whose_test_rows_are_also_trained_on():
    manifest = hand_manifest()
    protocol = make_protocol("original-4fold", manifest)
    leaky = Protocol(
        "original-4fold",
        LeakySplitter(([0, 1, 2, 3], [3, 4])),
        speakers=protocol.speakers,
        utterance_ids=protocol.utterance_ids,
    )
    with pytest.raises(
        LeakageError, match="protocol 'original-4fold' fold 1: 1 rows in training and test"
    ):
        cross_validate_without_fitting(leaky, manifest)
    assert issubclass(LeakageError, SerError)  # the ser command prints it as one line, exit 2


def test_leakage_guard_catches_the_same_utterance_id_on_both_sides():
    ids = np.array(["u0", "u1", "u0", "u2"])  # one utterance listed twice
    protocol = Protocol("original-random", None, utterance_ids=ids)
    with pytest.raises(LeakageError, match="utterance u0 in training and test"):
        check_no_leakage(protocol, np.array([0, 1]), np.array([2, 3]))


@pytest.mark.parametrize("name", ["loso", "speaker"])
def test_leakage_guard_stops_a_speaker_independent_protocol_sharing_a_speaker(name):
    manifest = hand_manifest()
    real = make_protocol(name, manifest)
    for train, test in real.split(manifest["label"]):  # the real folds pass
        check_no_leakage(real, train, test)
    # Rows 0 and 2 are both F01 (session 1): a splitter that separates them leaks a speaker.
    leaky = Protocol(
        name,
        LeakySplitter(([1, 2, 3, 4, 5], [0, 6, 7])),
        real.groups,
        real.group_column,
        real.speakers,
        real.utterance_ids,
    )
    with pytest.raises(LeakageError, match=f"protocol '{name}' fold 1: (session 1|speaker F01)"):
        cross_validate_without_fitting(leaky, manifest)


def test_leakage_guard_lets_the_original_protocols_share_speakers_by_design(msp_manifest):
    rt4 = select_subset(msp_manifest, "rt-4class")
    protocol = make_protocol("original-4fold", rt4)
    for train, test in protocol.split(rt4["label"]):
        check_no_leakage(
            protocol, train, test
        )  # actors may be on both sides here: allowed, not leaking
    assert protocol.speakers is not None and not protocol.speaker_independent


def test_subsets_and_protocols_are_named_as_documented():
    assert tuple(SUBSETS) == ("rt", "rt-4class", "4class", "emotions", "all")
    assert PROTOCOLS == ("original-random", "original-4fold", "loso", "speaker")
