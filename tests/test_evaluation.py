"""Protocols, metrics and fold reports (ser_utils.evaluation)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.model_selection import cross_validate as sklearn_cross_validate

from ser_utils import config
from ser_utils.errors import CorpusError, SerError
from ser_utils.evaluation import (
    METRICS,
    PROTOCOLS,
    SUBSETS,
    CrossValidation,
    FoldPrediction,
    FoldPredictions,
    FoldResult,
    LeakageError,
    Protocol,
    check_no_leakage,
    class_report,
    compute_metrics,
    cross_validate,
    fold_table,
    make_protocol,
    original_table,
    prediction_table,
    select_subset,
)
from ser_utils.reports import write_results


def hand_manifest() -> pd.DataFrame:
    """12 MSP-IMPROV-like rows over 3 sessions (6 speakers), with R/T/P/S and O/X labels."""
    rows = [
        # session, speaker, recording type, label
        (1, "F01", "R", "angry"),
        (1, "M01", "T", "happy"),
        (1, "F01", "P", "sad"),
        (1, "M01", "R", "other"),
        (2, "F02", "R", "neutral"),
        (2, "M02", "T", "sad"),
        (2, "F02", "S", "happy"),
        (2, "M02", "T", "no_agreement"),
        (3, "F03", "T", "angry"),
        (3, "M03", "R", "neutral"),
        (3, "F03", "S", "neutral"),
        (3, "M03", "P", "angry"),
    ]
    frame = pd.DataFrame(rows, columns=["session", "speaker", "recording_type", "label"])
    frame.insert(0, "utterance_id", [f"u{i:02d}" for i in range(len(frame))])
    frame["corpus"] = "msp-improv"
    return frame


# ------------------------------------------------------------------------ metrics
THREE_CLASS_TRUE = ["a", "a", "a", "a", "b", "b", "c", "c", "c", "c"]
THREE_CLASS_PRED = ["a", "a", "a", "b", "b", "c", "c", "c", "a", "a"]


def test_metrics_match_a_hand_computed_three_class_example():
    m = compute_metrics(THREE_CLASS_TRUE, THREE_CLASS_PRED, ["a", "b", "c"])
    # rows true a, b, c; columns predicted a, b, c
    assert m["confusion"].tolist() == [[3, 1, 0], [0, 1, 1], [2, 0, 2]]
    assert m["wa"] == pytest.approx(6 / 10)
    recall = [3 / 4, 1 / 2, 2 / 4]
    assert m["ua"] == pytest.approx(sum(recall) / 3)
    precision = [3 / 5, 1 / 2, 2 / 3]
    f1 = [2 * p * r / (p + r) for p, r in zip(precision, recall)]
    assert f1 == pytest.approx([2 / 3, 1 / 2, 4 / 7])
    assert m["macro_f1"] == pytest.approx(sum(f1) / 3)
    assert m["per_class"]["recall"].tolist() == pytest.approx(recall)
    assert m["per_class"]["precision"].tolist() == pytest.approx(precision)
    assert m["per_class"]["support"].tolist() == [4, 2, 4]
    # the named metrics of the METRICS dictionary give the same numbers
    for name in ("wa", "ua", "macro_f1"):
        assert METRICS[name](THREE_CLASS_TRUE, THREE_CLASS_PRED) == pytest.approx(m[name])


def test_confusion_follows_the_given_label_order():
    m = compute_metrics(THREE_CLASS_TRUE, THREE_CLASS_PRED, ["c", "b", "a"])
    assert m["confusion"].tolist() == [[2, 0, 2], [1, 1, 0], [0, 1, 3]]
    assert list(m["per_class"].index) == ["c", "b", "a"]


def test_ua_averages_recall_over_the_classes_present_in_the_test_set():
    # 'sad' is absent from this fold: UA is the mean recall of angry (1/2) and neutral (1)
    m = compute_metrics(
        ["angry", "angry", "neutral"], ["angry", "neutral", "neutral"], config.FOUR_CLASSES
    )
    assert m["ua"] == pytest.approx(0.75)
    assert m["confusion"].shape == (4, 4)


def test_predicting_the_majority_class_gives_chance_ua_but_flattering_wa():
    y_true = ["neutral"] * 6 + ["angry", "happy", "sad", "angry"]
    m = compute_metrics(y_true, ["neutral"] * 10, config.FOUR_CLASSES)
    assert m["wa"] == pytest.approx(0.6)
    assert m["ua"] == pytest.approx(0.25)


def test_labels_outside_the_label_order_are_rejected():
    with pytest.raises(ValueError, match="not in the label order"):
        compute_metrics(["a", "b"], ["a", "z"], ["a", "b"])


def test_class_report_adds_macro_and_weighted_rows():
    report = class_report(THREE_CLASS_TRUE, THREE_CLASS_PRED, ["a", "b", "c"])
    assert list(report.index) == ["a", "b", "c", "macro avg", "weighted avg"]
    assert report.loc["macro avg", "recall"] == pytest.approx((3 / 4 + 1 / 2 + 2 / 4) / 3)
    # the weighted average of recall is the accuracy
    assert report.loc["weighted avg", "recall"] == pytest.approx(0.6)
    assert report.loc["weighted avg", "support"] == 10


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


def test_select_subset_errors():
    with pytest.raises(ValueError, match="rt, rt-4class, 4class, emotions, all"):
        select_subset(hand_manifest(), "five")
    only_other = hand_manifest().assign(label="other")
    with pytest.raises(CorpusError, match="subset 'rt-4class' of msp-improv is empty"):
        select_subset(only_other, "rt-4class")


def test_select_subset_on_synthetic_msp_improv(msp_manifest):
    rt4 = select_subset(msp_manifest, "rt-4class")
    assert set(rt4["recording_type"]) <= set(config.ORIGINAL_RECORDING_TYPES)
    assert set(rt4["label"]) == set(config.FOUR_CLASSES)
    four = select_subset(msp_manifest, "4class")
    expected = msp_manifest["label"].isin(config.FOUR_CLASSES).sum()
    assert len(four) == expected > len(rt4)
    kept = msp_manifest["utterance_id"][msp_manifest["utterance_id"].isin(rt4["utterance_id"])]
    assert rt4["utterance_id"].tolist() == kept.tolist()  # manifest (walk) order kept


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


def test_protocol_errors():
    tess = pd.DataFrame(
        {"label": ["angry", "sad"] * 4, "speaker": ["OAF", "YAF"] * 4, "corpus": "tess"}
    )
    with pytest.raises(CorpusError, match="'session' column .* use --protocol speaker"):
        make_protocol("loso", tess)
    with pytest.raises(ValueError, match=", ".join(PROTOCOLS)):
        make_protocol("kfold", tess)
    protocol = make_protocol("speaker", tess)
    with pytest.raises(ValueError, match="made for 8 utterances but got 3"):
        protocol.split(["angry", "sad", "sad"])


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
        cross_validate(
            leaky,
            manifest["label"],
            _never_called,
            list(config.EMOTIONS) + ["other", "no_agreement"],
            progress=False,
        )
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
        cross_validate(
            leaky,
            manifest["label"],
            _never_called,
            list(config.EMOTIONS) + ["other", "no_agreement"],
            progress=False,
        )


def test_leakage_guard_lets_the_seed_protocols_share_speakers_by_design(msp_manifest):
    rt4 = select_subset(msp_manifest, "rt-4class")
    protocol = make_protocol("original-4fold", rt4)
    for train, test in protocol.split(rt4["label"]):
        check_no_leakage(
            protocol, train, test
        )  # actors may be on both sides here: allowed, not leaking
    assert protocol.speakers is not None and not protocol.speaker_independent


# ------------------------------------------------------------------ fold reports
def test_cross_validate_scores_each_fold_and_keeps_the_callables_details():
    manifest = hand_manifest()
    subset = select_subset(manifest, "4class")
    protocol = make_protocol("loso", subset)
    seen = []

    def fit_predict(fold, train, test):
        seen.append((fold, train, test))
        majority = subset["label"].iloc[train].mode().iloc[0]
        return FoldPrediction([majority] * len(test), details={"majority": majority})

    result = cross_validate(
        protocol, subset["label"], fit_predict, config.FOUR_CLASSES, progress=False
    )
    assert [fold.fold for fold in result.folds] == [number for number, _, _ in seen] == [1, 2, 3]
    assert [fold.test_group for fold in result.folds] == ["1", "2", "3"]
    for fold, (_, train, test) in zip(result.folds, seen):
        truth = subset["label"].iloc[test].to_numpy()
        assert fold.wa == pytest.approx(np.mean(truth == fold.details["majority"]))
        assert fold.n_train == len(train) and fold.n_test == len(test)
        assert fold.confusion.sum() == len(test)
        assert list(fold.per_class.index) == list(config.FOUR_CLASSES)
    assert result.summary.n_folds == 3 and result.summary.wa == pytest.approx(
        np.mean([fold.wa for fold in result.folds])
    )
    assert (result.confusion == sum(fold.confusion for fold in result.folds)).all()


def test_cross_validate_scores_each_member_alone_on_the_same_test_rows():
    manifest = hand_manifest()
    subset = select_subset(manifest, "4class")
    y = subset["label"].to_numpy()
    one_hot = np.eye(4)[[config.FOUR_CLASSES.index(label) for label in y]]

    def fit_predict(fold, train, test):
        wrong = np.roll(one_hot[test], 1, axis=1)  # always the next class: UA 0
        return FoldPrediction(
            y[test], one_hot[test], members={"right": one_hot[test], "wrong": wrong}
        )

    result = cross_validate(
        make_protocol("loso", subset), y, fit_predict, config.FOUR_CLASSES, progress=False
    )
    fold = result.folds[0]
    assert fold.members == {"right": {"ua": 1.0, "wa": 1.0}, "wrong": {"ua": 0.0, "wa": 0.0}}
    assert fold.score("ua_wrong") == 0.0 and fold.to_dict()["wa_right"] == 1.0
    assert FoldResult.from_dict(fold.to_dict()).to_dict() == fold.to_dict()


def test_cross_validate_keeps_each_test_prediction_with_its_utterance_id():
    manifest = hand_manifest()
    subset = select_subset(manifest, "4class")
    protocol = make_protocol("loso", subset)

    def fit_predict(fold, train, test):
        probabilities = np.tile([0.1, 0.2, 0.3, 0.4], (len(test), 1))  # always 'sad'
        return FoldPrediction(["sad"] * len(test), probabilities)

    result = cross_validate(
        protocol, subset["label"], fit_predict, config.FOUR_CLASSES, progress=False
    )
    table = prediction_table(result)
    assert list(table.columns) == [
        "utterance_id",
        "fold",
        "split",
        "true",
        "predicted",
        "p_angry",
        "p_happy",
        "p_neutral",
        "p_sad",
    ]
    assert sorted(table["utterance_id"]) == sorted(subset["utterance_id"])  # each tested once
    merged = table.merge(subset[["utterance_id", "label", "session"]])
    assert (merged["true"] == merged["label"]).all() and (merged["fold"] == merged["session"]).all()
    assert (table["predicted"] == "sad").all() and (table["p_sad"] == 0.4).all()
    assert "predictions" not in fold_table(result).columns


def test_cross_validate_rejects_a_wrong_number_of_predictions():
    manifest = hand_manifest()
    protocol = make_protocol("loso", manifest)
    with pytest.raises(ValueError, match="fold 1: fit_predict returned 1 predictions"):
        cross_validate(
            protocol,
            manifest["label"],
            lambda fold, train, test: ["angry"],
            list(config.EMOTIONS) + ["other", "no_agreement"],
            progress=False,
        )


def fold_result(fold, wa, ua, macro_f1, *, confusion=((1, 0), (0, 1)), **fields) -> FoldResult:
    """A fold of two classes ``a`` and ``b`` with the given scores, as the fold loop makes one."""
    return FoldResult(
        fold=fold,
        wa=wa,
        ua=ua,
        macro_f1=macro_f1,
        n_train=30,
        n_test=10,
        test_group=None,
        confusion=np.asarray(confusion),
        per_class=pd.DataFrame({"recall": [1.0, 1.0]}, index=["a", "b"]),
        predictions=FoldPredictions((), (), ()),
        **fields,
    )


FOLDS = CrossValidation(
    "loso",
    ("a", "b"),
    (
        fold_result(1, 0.5, 0.4, 0.3, details={"best_params": {"C": 1}}),
        fold_result(
            2, 0.7, 0.6, 0.5, details={"best_params": {"C": 10}}, confusion=((2, 1), (0, 3))
        ),
    ),
)


def test_original_table_gives_mean_and_sd_over_training_seeds():
    result = CrossValidation(
        "original-4fold",
        ("a", "b"),
        tuple(
            fold_result(fold, wa, wa - 0.1, wa - 0.2, training_seed=seed)
            for (seed, fold), wa in {(0, 1): 0.5, (0, 2): 0.7, (1, 1): 0.6, (1, 2): 0.5}.items()
        ),
    )
    assert result.seeds == (0, 1)
    table = original_table(result)
    assert list(table.index) == [1, 2, "mean"]
    assert table.at[1, "wa"] == pytest.approx(0.55) and table.at[1, "wa_sd"] == pytest.approx(0.05)
    assert table.at[2, "wa"] == pytest.approx(0.6) and table.at[2, "wa_sd"] == pytest.approx(0.1)
    # draws: seed 0 mean 0.6, seed 1 mean 0.55
    assert table.at["mean", "wa"] == pytest.approx(0.575) and table.at[
        "mean", "wa_sd"
    ] == pytest.approx(0.025)
    assert table.at["mean", "ua"] == pytest.approx(0.475) and (table["n_seeds"] == 2).all()


def test_fold_table_has_one_row_per_fold_then_mean_and_std():
    table = fold_table(FOLDS)
    assert list(table.index) == [1, 2, "mean", "std"]
    assert list(table.columns[:5]) == ["wa", "ua", "macro_f1", "n_train", "n_test"]
    assert table.loc["mean", "wa"] == pytest.approx(0.6)
    assert table.loc["std", "wa"] == pytest.approx(0.1)  # population std of 0.5 and 0.7
    assert table.loc["mean", "ua"] == pytest.approx(0.5)
    assert table.loc[2, "best_params"] == "C=10"
    assert "confusion" not in table.columns and "per_class" not in table.columns
    assert FOLDS.summary.macro_f1_std == pytest.approx(0.1)


def test_write_results_writes_json_and_csv(tmp_path):
    paths, _ = write_results("demo", FOLDS, out_dir=tmp_path, extra={"model": "rbf_svm"})
    assert paths == {"json": tmp_path / "demo.json", "csv": tmp_path / "demo.csv"}
    data = json.loads(paths["json"].read_text())
    assert {"name", "wa", "ua", "macro_f1", "wa_std", "folds", "model"} <= set(data)
    assert data["wa"] == pytest.approx(0.6) and data["ua"] == pytest.approx(0.5)
    assert data["confusion"] == [[3, 1], [0, 4]] and data["labels"] == ["a", "b"]
    assert data["folds"][1]["confusion"] == [[2, 1], [0, 3]]
    csv = pd.read_csv(paths["csv"], index_col="fold")
    assert list(csv.index) == ["1", "2", "mean", "std"]
    assert csv.loc["mean", "wa"] == pytest.approx(0.6)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_subsets_and_protocols_are_named_as_documented():
    assert tuple(SUBSETS) == ("rt", "rt-4class", "4class", "emotions", "all")
    assert PROTOCOLS == ("original-random", "original-4fold", "loso", "speaker")


def test_confusion_matrix_heatmap_shows_row_normalised_recall():
    from ser_utils.reports import plots

    ax = plots.confusion_matrix_heatmap(np.array([[3, 1], [0, 2]]), ["angry", "sad"])
    assert [t.get_text() for t in ax.texts] == ["0.75", "0.25", "0.00", "1.00"]
    counts = plots.confusion_matrix_heatmap(
        np.array([[3, 1], [0, 2]]), ["angry", "sad"], normalise=None
    )
    assert [t.get_text() for t in counts.texts] == ["3", "1", "0", "2"]
