"""What a network reads (ser_utils.experiments.stages.network_inputs): the whisper-head recipe
on a pretrained encoder's cached embeddings, cross-validated through the one fold loop, saved
as a bundle that predicts new clips and refuses another encoder."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ser_utils import config, experiments
from ser_utils.errors import SerError
from ser_utils.experiments.stages import network_inputs, uses_encoder

pytest.importorskip("keras")
pytest.importorskip("ctranslate2")

from tests.features.test_encoders import RandomWhisper  # noqa: E402


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    from ser_utils import synthetic

    root = tmp_path_factory.mktemp("tiny") / "MSP-IMPROV"
    synthetic.make_msp_improv(root, size="tiny", seed=0)
    return root


@pytest.fixture(scope="module")
def toy_encoders(tmp_path_factory):
    """Two randomly initialised encoders of Whisper's interface (d = 32): other weights."""
    folder = tmp_path_factory.mktemp("encoders")
    return [RandomWhisper(seed=seed).convert(str(folder / f"random-{seed}")) for seed in (0, 1)]


def head_recipe(encoder: str) -> config.Recipe:
    recipe = config.get_recipe("whisper-head", "msp-improv", "smoke")
    training = dataclasses.replace(recipe.training, epochs=2)
    return dataclasses.replace(recipe, encoder=encoder, training=training)


def test_only_the_head_reads_the_encoder():
    assert uses_encoder(config.get_recipe("whisper-head", "msp-improv", "full"))
    for name in ("original", "improved", "fusion", "fusion-whisper"):
        assert not uses_encoder(config.get_recipe(name, "msp-improv", "smoke"))
    assert config.get_recipe("fusion-whisper", "msp-improv", "smoke").fusion.features == "whisper"


def test_the_head_reads_pooled_embeddings_of_the_rt_files(
    tiny_corpus, toy_encoders, tmp_path, monkeypatch
):
    from ser_utils.corpora import load_corpus

    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path))
    sources = network_inputs(
        head_recipe(toy_encoders[0]),
        load_corpus("msp-improv", tiny_corpus),
        tmp_path / "arrays",
        progress=False,
    )
    assert sources.inputs.shape == (96, 64)  # the R + T files, mean and sd of 32 dimensions
    assert set(sources.metadata["recording_type"]) == {"R", "T"}
    assert sources.sample_rate == 16_000 and len(sources.encoder["encoder_identity"]) == 64
    assert not (tmp_path / "arrays").exists()  # no spectrogram arrays for a head


def test_the_head_recipe_runs_the_fold_loop_and_its_bundle_predicts(
    tiny_corpus, toy_encoders, tmp_path, monkeypatch
):
    from ser_utils.deep.bundles import load_bundle
    from ser_utils.deep.prediction import predict_files

    monkeypatch.setenv("SER_OUTPUT_DIR", str(tmp_path))
    recipe = head_recipe(toy_encoders[0])
    run = experiments.run_deep(
        recipe,
        tiny_corpus,
        protocol="loso",
        folds=[1],
        train_final=True,
        out=tmp_path / "run",
        progress=False,
    )
    folds = run.cross_validation.folds
    assert len(folds) == 1 and folds[0].n_test > 0 and 0.0 <= folds[0].ua <= 1.0
    bundle = load_bundle(tmp_path / "run" / "model")
    assert bundle.extra["encoder"] == toy_encoders[0] and bundle.extra["sample_rate"] == 16_000
    clips = sorted(tiny_corpus.rglob("*.wav"))[:2]
    table = predict_files(bundle, clips)
    assert list(table["label"].isin(config.FOUR_CLASSES)) == [True, True]
    np.testing.assert_allclose(table[list(bundle.labels)].sum(axis=1), 1.0, atol=1e-3)
    with pytest.raises(SerError, match="its model was trained on the encoder .* is another"):
        predict_files(bundle, clips, encoder=toy_encoders[1])
