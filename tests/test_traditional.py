"""The original's scikit-learn models, grid searches and nested evaluation (ser_utils.traditional),
and the ``ser traditional`` command."""

from __future__ import annotations

import json

import librosa
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from ser_utils import config, traditional
from ser_utils.app.cli import main
from ser_utils.evaluation import make_protocol, select_subset


# ------------------------------------------------------------------------- models
def test_models_carry_the_original_hyperparameters():
    mlp = traditional.make_model("mlp", random_state=0).named_steps["model"]
    assert isinstance(mlp, MLPClassifier)
    assert (mlp.alpha, mlp.hidden_layer_sizes, mlp.learning_rate, mlp.max_iter) == (
        0.01,
        (100,),
        "adaptive",
        400,
    )
    tree = traditional.make_model("tree", random_state=0).named_steps["model"]
    assert isinstance(tree, DecisionTreeClassifier) and tree.max_depth == 15
    linear = traditional.make_model("linear_svm", random_state=0).named_steps["model"]
    assert isinstance(linear, SVC) and (linear.kernel, linear.C) == ("linear", 0.05)
    forest = traditional.make_model("forest", random_state=0).named_steps["model"]
    assert isinstance(forest, RandomForestClassifier)
    assert (forest.max_depth, forest.n_estimators, forest.max_features) == (15, 25, 5)
    rbf = traditional.make_model("rbf_svm", random_state=0).named_steps["model"]
    assert (rbf.kernel, rbf.C, rbf.gamma) == ("rbf", 10, "scale")


@pytest.mark.parametrize("name", list(traditional.MODELS))
def test_the_original_models_take_raw_features_without_a_scaler_and_the_callers_seed(name):
    pipeline = traditional.make_model(name, random_state=7)
    assert list(pipeline.named_steps) == ["model"]  # the original fed its features unscaled
    assert pipeline.named_steps["model"].random_state == 7
    scaled = traditional.make_model(name, random_state=7, scaler=True)
    assert isinstance(scaled.named_steps["scaler"], StandardScaler)


def test_original_grid_is_unscaled_and_the_grouped_grid_scales():
    X, y = make_classification(
        n_samples=60, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    labels = np.array(["angry", "happy", "sad"])[y]
    original = traditional.original_grid_search(X, labels)
    assert list(original.best_estimator_.named_steps) == ["model"]
    grouped = traditional.grouped_grid_search(
        X, labels, np.arange(60) % 3, grid={"model__C": [1.0]}
    )
    assert list(grouped.best_estimator_.named_steps) == ["scaler", "model"]


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


def test_same_random_state_gives_the_same_forest():
    X, y = make_classification(
        n_samples=80, n_features=12, n_informative=6, n_classes=3, random_state=0
    )
    first = traditional.make_model("forest", random_state=3).fit(X, y).predict_proba(X)
    second = traditional.make_model("forest", random_state=3).fit(X, y).predict_proba(X)
    other = traditional.make_model("forest", random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_unknown_model_and_mismatched_grid_are_rejected():
    with pytest.raises(ValueError, match="mlp, tree, linear_svm, forest, rbf_svm"):
        traditional.make_model("knn", random_state=0)
    with pytest.raises(ValueError, match="rbf_svm or linear_svm"):
        traditional.check_model_grid("mlp", "original")


# ------------------------------------------------------------------------- tuning
def test_original_grid_search_is_the_originals_twelve_candidates_scored_by_accuracy():
    X, y = make_classification(
        n_samples=100, n_features=8, n_informative=5, n_classes=4, random_state=1
    )
    search = traditional.original_grid_search(X, np.array(["angry", "happy", "neutral", "sad"])[y])
    assert len(search.cv_results_["params"]) == 2 * 3 * 2
    assert search.n_splits_ == config.ORIGINAL_GRID_CV and search.scoring == "accuracy"
    assert search.best_params_["model__kernel"] in ("linear", "rbf")
    assert search.best_params_["model__C"] in (1, 10, 100)


def test_inner_splitter_groups_by_speaker_and_falls_back_with_a_warning():
    y = np.array(["a", "b"] * 10)
    five_sessions = np.repeat([2, 3, 4, 5, 6], 4)
    splitter, groups, description = traditional.inner_splitter(five_sessions, y)
    assert isinstance(splitter, LeaveOneGroupOut) and description == "leave-one-group-out (5)"
    for train, test in splitter.split(np.zeros((len(y), 1)), y, groups):
        assert not set(groups[train]) & set(groups[test])
    ten = np.arange(20) // 2
    assert isinstance(traditional.inner_splitter(ten, y)[0], GroupKFold)
    with pytest.warns(UserWarning, match="single speaker"):
        splitter, groups, description = traditional.inner_splitter(np.zeros(len(y)), y)
    assert isinstance(splitter, StratifiedKFold) and groups is None


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


def test_evaluate_model_checks_the_feature_matrix(msp_frame_features):
    X, subset = msp_frame_features
    protocol = make_protocol("loso", subset)
    with pytest.raises(ValueError, match="2-D array"):
        traditional.evaluate_model(X[:, :, None], subset["label"], protocol, "rbf_svm")
    with pytest.raises(ValueError, match="179 feature rows but 180 labels"):
        traditional.evaluate_model(X[1:], subset["label"], protocol, "rbf_svm")


# ---------------------------------------------------------------------------- CLI
@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--protocol", "kfold"],
            "unknown protocol 'kfold': expected one of original-random, original-4fold, loso, speaker",
        ),
        (["--model", "knn"], "unknown model 'knn'"),
        (["--subset", "five"], "unknown subset 'five'"),
        (["--protocol", "loso"], "protocol 'loso' needs a 'session' column"),
        (["--model", "forest", "--grid", "original"], "the original grid searches SVC kernels"),
    ],
)
def test_cli_errors_are_one_line_with_exit_status_2(tess_root, capsys, arguments, message):
    assert main(["traditional", "tess", str(tess_root), *arguments]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1]
    assert not any(line.startswith("error") for line in err[:-1])


def test_cli_missing_corpus_folder(tmp_path, capsys):
    assert main(["traditional", "msp-improv", str(tmp_path / "nowhere"), "--protocol", "loso"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "MSP-IMPROV folder not found" in err


def test_cli_evaluates_and_writes_a_run_directory(tess_root, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path / "outputs"))
    # the improved recipe's audio chain is the quicker one (denoising before padding)
    status = main(
        [
            "traditional",
            "tess",
            str(tess_root),
            "--model",
            "linear_svm",
            "--protocol",
            "speaker",
            "--subset",
            "4class",
            "--recipe",
            "improved",
            "--features",
            "functionals",
            "--jobs",
            "1",
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "mean" in printed and "std" in printed
    # the default run directory is named after everything that changes the result
    run = tmp_path / "outputs" / "runs" / "tess_4class_functionals_speaker_linear_svm_improved"
    assert str(run) in printed
    data = json.loads((run / "metrics.json").read_text())
    assert data["n_folds"] == 2 and [f["test_group"] for f in data["folds"]] == ["OAF", "YAF"]
    assert 0.0 <= data["ua"] <= 1.0 and data["labels"] == list(config.FOUR_CLASSES)
    assert (
        data["model"] == "linear_svm"
        and data["features"] == "functionals"
        and data["subset"] == "4class"
    )
    run_config = json.loads((run / "config.json").read_text())
    assert run_config["kind"] == "traditional" and run_config["recipe"]["name"] == "improved"
    assert {"metrics.csv", "predictions.csv", "confusion.png", "report.md"} <= {
        p.name for p in run.iterdir()
    }
