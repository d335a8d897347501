"""Traditional models under a protocol (ser_utils.traditional.evaluate): controls, nested search, the original's evaluations."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from ser_utils import config, traditional
from ser_utils.evaluation import make_protocol, select_subset


# ------------------------------------------------------- synthetic MSP-IMPROV data
def mfcc_statistics(path: str) -> np.ndarray:
    """Mean and standard deviation of 20 MFCCs over a file at 16 kHz: a simple, honest feature."""
    samples, sr = librosa.load(path, sr=16_000)
    mfcc = librosa.feature.mfcc(y=samples, sr=sr, n_mfcc=20)
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)])


@pytest.fixture(scope="module")
def msp_frame_features(msp_manifest):
    subset = select_subset(msp_manifest, "rt-4class")
    return np.stack([mfcc_statistics(path) for path in subset["path"]]), subset


def test_evaluate_model_scales_only_for_the_grouped_grid(monkeypatch):
    X, y = make_classification(
        n_samples=60, n_features=6, n_informative=4, n_classes=2, random_state=0
    )
    labels = np.array(["angry", "sad"])[y]
    fitted = []
    original_fit = Pipeline.fit

    def spy(self, *args, **kwargs):
        fitted.append(list(self.named_steps))
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "fit", spy)
    protocol = make_protocol("original-random", None)
    traditional.evaluate_model(X, labels, protocol, "mlp", progress=False)
    assert fitted == [["model"]]


def test_permuted_training_labels_give_chance_ua_under_loso(msp_frame_features):
    """The permuted-label control: a model trained on labels shuffled within the training part
    is at chance (0.25 for 4 classes) while the true labels are clearly learnable.

    Measured on the synthetic mini corpus (seed 0), RBF SVM without scaler: true UA 0.453;
    permuted 0.246-0.264 over 8 seeds.
    """
    X, subset = msp_frame_features
    y = subset["label"].to_numpy()
    protocol = make_protocol("loso", subset)
    true_ua = traditional.evaluate_model(X, y, protocol, "rbf_svm", progress=False).summary.ua
    permuted = []
    for seed in range(config.CONTROL_PERMUTATION_SEED, config.CONTROL_PERMUTATION_SEED + 3):
        result = traditional.evaluate_model(
            X, y, protocol, "rbf_svm", progress=False, permute_labels=seed
        )
        assert [fold.details["permuted_seed"] for fold in result.folds] == [
            seed + fold for fold in range(1, 7)
        ]
        permuted.append(result.summary.ua)
    assert abs(np.mean(permuted) - 0.25) < 0.10
    assert true_ua > 0.40
    assert true_ua - np.mean(permuted) > 0.12


def test_permuting_shuffles_only_the_training_labels(msp_frame_features, monkeypatch):
    X, subset = msp_frame_features
    y = subset["label"].to_numpy()
    seen = []
    original_fit = Pipeline.fit
    monkeypatch.setattr(
        Pipeline,
        "fit",
        lambda self, X_, y_, **kw: (seen.append(np.asarray(y_)), original_fit(self, X_, y_, **kw))[
            1
        ],
    )
    protocol = make_protocol("original-random", subset)
    (fold,) = traditional.evaluate_model(
        X, y, protocol, "tree", progress=False, permute_labels=5
    ).folds
    ((train, test),) = protocol.split(y)
    assert sorted(seen[0]) == sorted(y[train]) and not np.array_equal(seen[0], y[train])
    assert fold.n_test == len(test)


def test_nested_search_never_sees_the_test_session(msp_frame_features, monkeypatch):
    X, subset = msp_frame_features
    seen_groups = []
    search = traditional.grouped_grid_search

    def spy(features, y, groups, **kwargs):
        seen_groups.append(set(groups))
        return search(features, y, groups, **kwargs)

    monkeypatch.setattr(traditional.evaluate, "grouped_grid_search", spy)
    result = traditional.nested_evaluation(
        X, subset, model="rbf_svm", protocol="loso", grid="grouped", progress=False
    )
    assert len(result.folds) == len(seen_groups) == 6
    for fold, groups in zip(result.folds, seen_groups):
        assert int(fold.test_group) not in groups and len(groups) == 5
        assert fold.details["inner_cv"] == "leave-one-group-out (5)"
        assert set(fold.details["best_params"]) == {"C", "gamma", "class_weight"}
        assert 0.0 <= fold.details["inner_score"] <= 1.0


def test_evaluate_random_splits_repeats_the_original_split_per_random_state(msp_frame_features):
    X, subset = msp_frame_features
    result = traditional.evaluate_random_splits(X, subset, "linear_svm")
    states = [fold.details["random_state"] for fold in result.folds]
    assert states == list(config.ORIGINAL_EVALUATION_RANDOM_STATES)
    assert [fold.fold for fold in result.folds] == [1, 2, 3]
    for fold, state in zip(result.folds, states):
        protocol = make_protocol("original-random", subset, random_state=state)
        (single,) = traditional.evaluate_model(
            X, subset["label"], protocol, "linear_svm", progress=False
        ).folds
        assert fold.ua == single.ua and fold.n_test == round(
            len(subset) * config.ORIGINAL_SPLIT_TEST_SIZE
        )


def test_untrimmed_recipe_pads_to_the_longest_untrimmed_r_and_t_clip(msp_manifest):
    files = msp_manifest[msp_manifest["recording_type"].isin(["R", "T"])]
    full = traditional.untrimmed_recipe(config.original_recipe("msp-improv", "full"), files)
    assert full.audio.trim is False and full.audio.target_length == files["n_samples"].max()
    assert full.audio.target_length != config.MSP_IMPROV_ORIGINAL_LENGTH
    assert (
        full.audio.scaling == "original" and full.audio.denoise
    )  # the rest of the chain unchanged
    smoke = traditional.untrimmed_recipe(config.original_recipe("msp-improv", "smoke"), files)
    assert smoke.audio.trim is False and smoke.audio.target_length == config.SMOKE_MSP_IMPROV_LENGTH


def test_original_cross_validation_is_five_unshuffled_stratified_folds_in_row_order():
    X, y = make_classification(
        n_samples=120, n_features=8, n_informative=5, n_classes=4, random_state=2
    )
    labels = np.array(["angry", "happy", "neutral", "sad"])[y]
    scores = traditional.original_cross_validation(X, labels)
    assert scores.shape == (config.ORIGINAL_ACTED_CV,)
    expected = [
        np.mean(
            SVC(C=10, gamma="scale").fit(X[train], labels[train]).predict(X[test]) == labels[test]
        )
        for train, test in StratifiedKFold(n_splits=5).split(X, labels)
    ]
    np.testing.assert_allclose(scores, expected)
    reordered = traditional.original_cross_validation(X[::-1], labels[::-1])
    assert not np.allclose(reordered, scores)  # the row order decides the folds


@pytest.mark.parametrize(
    "rows, message",
    [
        (lambda X: X[:, :, None], "2-D array"),
        (lambda X: X[1:], "179 feature rows but 180 labels"),
    ],
    ids=["three axes", "a row short"],
)
def test_evaluate_model_checks_the_feature_matrix(msp_frame_features, rows, message):
    X, subset = msp_frame_features
    protocol = make_protocol("loso", subset)
    with pytest.raises(ValueError, match=message):
        traditional.evaluate_model(rows(X), subset["label"], protocol, "rbf_svm")
