"""Scaling out: per-file work and grid searches go through joblib, so they run on a Dask
cluster under ``joblib.parallel_backend("dask")`` with the same results."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from dask.distributed import Client, LocalCluster, get_task_stream

from ser_utils import config, evaluation, features, traditional


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


def test_feature_extraction_runs_on_a_dask_cluster_with_identical_results(
    client, tess_manifest, tmp_path
):
    rows = tess_manifest.iloc[::10]
    recipe = config.original_recipe("tess", "smoke")
    local = features.extract_features(
        rows, "functionals", recipe=recipe, n_jobs=1, cache_dir=tmp_path / "local", progress=False
    )
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = features.extract_features(
            rows,
            "functionals",
            recipe=recipe,
            n_jobs=-1,
            cache_dir=tmp_path / "dask",
            progress=False,
        )
    assert len(stream.data) >= 1  # the work was submitted to the cluster
    np.testing.assert_allclose(on_dask, local, rtol=1e-5, atol=1e-5)


def test_grouped_grid_search_runs_on_a_dask_cluster_with_the_same_choice(
    client, msp_manifest, tmp_path
):
    rows = evaluation.select_subset(msp_manifest, "rt-4class")
    recipe = config.original_recipe("msp-improv", "smoke")
    matrix = features.extract_features(
        rows, "functionals", recipe=recipe, n_jobs=1, cache_dir=tmp_path, progress=False
    )
    y, groups = rows["label"].to_numpy(), rows["speaker"].to_numpy()
    local = traditional.grouped_grid_search(matrix, y, groups, model="rbf_svm", n_jobs=1)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_dask = traditional.grouped_grid_search(matrix, y, groups, model="rbf_svm", n_jobs=-1)
    assert len(stream.data) >= len(local.cv_results_["params"])
    assert on_dask.best_params_ == local.best_params_
    np.testing.assert_allclose(
        on_dask.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
