"""openSMILE's eGeMAPS functionals (ser_utils.features.egemaps)."""

from __future__ import annotations

import signal

import numpy as np
import pytest

from ser_utils import audio, config, features
from ser_utils.features import egemaps


@pytest.fixture(scope="module")
def tess_original_clip(tess_manifest) -> tuple[np.ndarray, int]:
    return audio.load_and_preprocess(
        tess_manifest["path"].iloc[0], config.original_recipe("tess", "full").audio
    )


def test_egemaps_gives_88_finite_functionals(tess_original_clip):
    samples, sr = tess_original_clip
    values = features.egemaps_functionals(features.strip_padding(samples), sr)
    names = features.egemaps_names()
    assert values.shape == (88,) and len(names) == 88
    assert np.all(np.isfinite(values))
    assert names[0].startswith("F0semitoneFrom27.5Hz")


def test_egemaps_works_in_a_process_that_loaded_tensorflow_first():
    import subprocess
    import sys

    code = (
        "import numpy as np; from ser_utils import features; from ser_utils.deep import training; "
        "x = (0.1 * np.sin(np.arange(16000) / 10)).astype(np.float32); "
        "v = features.egemaps_functionals(x, 16000); print(v.shape, bool(np.isfinite(v).all()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("(88,) True")


def test_the_worker_beside_tensorflow_leaves_sigint_to_its_parent():
    # A Jupyter kernel's shutdown sends SIGINT to its process group: the idle worker must not die of it.
    worker = egemaps._spawned_worker()
    assert worker.submit(signal.getsignal, signal.SIGINT).result() == signal.SIG_IGN
