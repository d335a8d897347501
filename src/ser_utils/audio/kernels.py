"""librosa's numba kernels, compiled once in this process before worker processes start.

numba's on-disk cache (``cache=True``) is not safe for several processes that compile
different signatures of one function at the same moment: each picks the same data-file name,
and the index can end up naming another signature's machine code — a segmentation fault when
it runs. Importing the modules below compiles librosa's eagerly typed kernels (and writes them
to the cache) here, so that parallel workers only read the cache.
"""

from __future__ import annotations

import functools
import importlib

#: librosa modules whose import compiles numba kernels with explicit signatures.
LIBROSA_KERNEL_MODULES: tuple[str, ...] = (
    "librosa.core.pitch",
    "librosa.core.audio",
    "librosa.util.utils",
)


@functools.cache
def compile_librosa_kernels() -> None:
    """Import :data:`LIBROSA_KERNEL_MODULES` once per process (seconds on a cold cache, then free)."""
    for name in LIBROSA_KERNEL_MODULES:
        importlib.import_module(name)
