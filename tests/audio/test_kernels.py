"""numba compiles librosa's kernels for the CPU it runs on, so a bad numba/llvmlite release can
crash on one processor and pass on another (0.68.1 / 0.50.0 segfault in ``librosa.yin`` on
AMD Zen 3). Each numba-backed function that the package or its tests use runs here in a fresh
process with an empty numba cache, compiled for Zen 3 and for a generic x86-64; ``yin`` runs on
many signal lengths and memory alignments. This machine's own CPU target is the one the rest of
the suite compiles for.

Each process first compiles what ``make`` compiles before any worker starts
(:func:`ser_utils.audio.kernels.compile_librosa_kernels`): parallel workers that found the cache empty
would each compile and write it at once, and numba's cache is not safe for that. The test checks
that this alone fills the cache with librosa's eager kernels."""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys

import pytest

#: Every numba-backed librosa / resampy path the package and its tests reach: importing librosa
#: compiles its eager (signature-typed) ufuncs; the calls compile the lazy ones.
KERNELS = r"""
import os, pathlib
from ser_utils.audio.kernels import compile_librosa_kernels
compile_librosa_kernels()
cached = {p.name.split("-")[0] for p in pathlib.Path(os.environ["NUMBA_CACHE_DIR"]).rglob("*.nbi")}
print("cached before any call:", " ".join(sorted(cached)))
import numpy as np, librosa, resampy
rng = np.random.default_rng(0)
sr = 22050
t = np.arange(sr) / sr
y = (0.5 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(sr)).astype("float32")
assert np.isfinite(librosa.yin(y, fmin=70, fmax=700, sr=sr)).all()                      # pitch._pi_wrapper
for _ in range(80):  # many lengths and alignments: vectorised loops have remainders and unaligned edges
    n, offset = int(rng.integers(8000, 40000)), int(rng.integers(0, 16))
    librosa.yin(rng.standard_normal(n + offset).astype("float32")[offset:], fmin=70, fmax=700, sr=sr,
                frame_length=1024, hop_length=256)
f0, voiced, _ = librosa.pyin(y, fmin=70, fmax=700, sr=sr)                                 # sequence.viterbi
assert voiced.any()
librosa.feature.zero_crossing_rate(y)                                                     # audio._zc_wrapper
librosa.feature.chroma_stft(y=y, sr=sr)                                                   # piptrack: localmax
librosa.util.localmin(y)
librosa.util.peak_pick(np.abs(y), pre_max=3, post_max=3, pre_avg=3, post_avg=3, delta=0.1, wait=5)
librosa.util.abs2(librosa.stft(y))                                                        # utils._cabs2
librosa.util.phasor(np.linspace(0, np.pi, 8))                                             # utils._phasor_angles
librosa.effects.trim(y, top_db=25, frame_length=256, hop_length=64)
assert resampy.resample(y, sr, 16000, filter="kaiser_best").shape == (16000,)            # interpn
print("kernels ok")
"""


CPU_TARGETS = ("znver3", "generic")


#: numba cache index names of librosa's eagerly typed kernels.
EAGER_KERNELS = {"pitch._pi_wrapper", "audio._zc_wrapper", "utils._localmax"}


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 CPU targets only")
def test_librosa_kernels_compile_into_the_cache_first_and_run_for_zen3_and_generic_x86(tmp_path):
    processes = {}
    for cpu in CPU_TARGETS:  # all at once: compiling is most of the time
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES")
        }
        env.update(NUMBA_CACHE_DIR=str(tmp_path / cpu), NUMBA_CPU_NAME=cpu)
        processes[cpu] = subprocess.Popen(
            [sys.executable, "-c", KERNELS],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    results = {
        cpu: (process, *process.communicate(timeout=600)) for cpu, process in processes.items()
    }
    failed = {
        cpu: f"exit {p.returncode}: {err[-1500:]}"
        for cpu, (p, out, err) in results.items()
        if p.returncode not in (0, -signal.SIGILL)
        or (p.returncode == 0 and "kernels ok" not in out)
    }
    assert not failed, f"numba-compiled librosa kernels failed: {failed}"
    for cpu, (p, out, _) in results.items():
        if p.returncode == 0:
            cached = set(out.split("cached before any call:")[1].split("\n")[0].split())
            assert cached >= EAGER_KERNELS, f"{cpu}: compile_librosa_kernels cached only {cached}"
    illegal = [cpu for cpu, (p, _, _) in results.items() if p.returncode == -signal.SIGILL]
    if illegal:
        pytest.skip(
            f"this processor cannot run code compiled for {', '.join(illegal)} (illegal instruction)"
        )
