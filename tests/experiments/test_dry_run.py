"""``ser dry-run`` at the original's full sizes on a handful of clips: the real code path
(arrays, the 33 148 420-parameter model on 442 × 382 spectrograms, the protocol's first fold),
one training step, and a projection that is arithmetic on what was measured."""

from __future__ import annotations

import math

import pytest

from tests.helpers import write_msp_tree


@pytest.fixture(scope="module")
def small_full_size_corpus(tmp_path_factory):
    """16 R/T utterances, 4 per class, two sessions: enough for StratifiedKFold(4)."""
    names = {}
    for i in range(16):
        session, emotion = 1 + i % 2, "AHSN"[i % 4]
        names[
            f"MSP-IMPROV-S{i // 4 + 1:02d}{emotion}-{'FM'[i % 2]}{session:02d}-{'RT'[i // 8]}-MF{i:02d}"
        ] = emotion
    return write_msp_tree(tmp_path_factory.mktemp("msp") / "MSP-IMPROV", names)


def test_dry_run_measures_the_original_at_full_size_and_projects_the_run(
    small_full_size_corpus, tmp_path
):
    from ser_utils import config
    from ser_utils.experiments import format_dry_run, run_dry_run

    recipe = config.original_recipe("msp-improv", "full")
    result = run_dry_run(
        recipe,
        small_full_size_corpus,
        protocol="original-4fold",
        seeds=3,
        max_steps=1,
        arrays=tmp_path / "arrays",
        n_jobs=1,
        progress=False,
    )
    assert result.input_shape == config.ORIGINAL_SPECTROGRAM_SHAPE
    assert result.parameters == config.ORIGINAL_MODEL_PARAMETERS
    assert result.n_utterances == 16 and len(result.train_sizes) == config.ORIGINAL_N_FOLDS
    assert result.steps_measured == 1 and result.seconds_per_step > 0
    assert not result.arrays_were_cached and result.peak_memory_mb > 0
    epochs = sum(
        math.ceil(size / 32) * result.seconds_per_step + result.validation_seconds
        for size in result.train_sizes
    )
    expected = epochs * config.original_recipe().training.epochs * 3 + result.arrays_seconds
    assert result.projected_seconds == pytest.approx(expected, abs=0.5 + 1e-6)  # whole seconds
    text = format_dry_run(result)
    assert (
        "442 × 382" in text
        and "33 148 420 parameters" in text
        and "4 folds × 25 epochs × 3 seed(s)" in text
    )

    again = run_dry_run(
        recipe,
        small_full_size_corpus,
        max_steps=1,
        arrays=tmp_path / "arrays",
        n_jobs=1,
        progress=False,
    )
    assert again.arrays_were_cached  # the arrays the real run will use are reused, not remade
    assert again.seeds == len(config.ORIGINAL_4FOLD_TRAINING_SEEDS["full"]) == 3  # as ser evaluate


def test_dry_run_refuses_an_unknown_protocol_in_one_line(small_full_size_corpus, tmp_path):
    from ser_utils.app.cli import main

    assert (
        main(
            [
                "dry-run",
                "msp-improv",
                str(small_full_size_corpus),
                "--protocol",
                "bogus",
                "--arrays",
                str(tmp_path / "a"),
            ]
        )
        == 2
    )
