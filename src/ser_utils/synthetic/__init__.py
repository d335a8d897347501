"""Synthetic TESS and MSP-IMPROV corpora in the exact layouts of the real ones.

The real corpora cannot be redistributed, so the project is developed and tested on
these trees. They imitate the real folder nesting, file names, sample rates and the
MSP-IMPROV label file (``Evaluation.txt``) exactly, so that a loader that passes on
synthetic data also reads the real thing (the layouts are described in ``dataset/README.md``).

The audio is speech-like and synthesised with numpy/scipy alone: a harmonic voice
source (time-varying f0 by phase accumulation, spectral tilt, jitter, shimmer, breath,
creak) shaped by per-syllable vowel formants, syllable envelopes with consonant noise
bursts and gaps, and an intonation contour (declination, pitch accents, a final fall or
rise). Emotion is carried by prosody (f0 level and range, energy, tempo, tilt, voice
quality) with per-utterance variation large enough that classes overlap; speakers differ
consistently (f0, formant scale, speaking rate, loudness). In MSP-IMPROV the prosody
follows the *perceived* (consensus) label, not the acted one, as in the real corpus.

Sizes
-----
``tiny``  TESS 70 files (5 words); MSP-IMPROV 108 files (96 R/T): what ``make test`` runs
          the notebooks on.
``mini``  TESS 140 files (10 words); MSP-IMPROV 216 files, short clips; seconds to write.
``full``  TESS 2800 files (200 words); MSP-IMPROV 620 R + 652 T files with the original
          study's consensus counts, plus a few P and S turns (1320 files).

Every file is a pure function of ``(seed, file index)``: two runs with the same seed
write byte-identical trees, whether or not the files are written in parallel. A finished
tree carries ``.synthetic.json`` (written last); a second call with the same options
returns at once.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from ser_utils import synthetic
>>> folder = Path(tempfile.mkdtemp())
>>> root = synthetic.make_msp_improv(folder / "MSP-IMPROV", layout="nested", n_jobs=1)
>>> sorted(path.name for path in root.iterdir())[:3]
['.synthetic.json', 'Evaluation.txt', 'session1']
>>> synthetic.make_msp_improv(folder / "MSP-IMPROV", layout="nested") == root  # done: returns at once
True

Modules
-------
:mod:`~ser_utils.synthetic.voice`
    The speech synthesiser: prosody, speakers, rendering one file.
:mod:`~ser_utils.synthetic.phonetics`
    Vowel formants, consonant classes, syllables, pseudo-sentences.
:mod:`~ser_utils.synthetic.tess`
    TESS layout facts, file specs, :func:`make_tess`.
:mod:`~ser_utils.synthetic.msp_improv`
    MSP-IMPROV layout facts, file specs, label-file text, :func:`make_msp_improv`.
:mod:`~ser_utils.synthetic.tree`
    Writing files in parallel, the marker, option checks, the generator version.
"""

from __future__ import annotations

# Re-exported: the public names, with the file specs and the renderer the tests read.
from .msp_improv import (  # noqa: F401
    MSP_IMPROV_LABEL_FILE_NAMES,
    MSP_IMPROV_LAYOUTS,
    MSP_IMPROV_ORIGINAL_COUNTS,
    MSP_IMPROV_SAMPLE_RATE,
    make_msp_improv,
    msp_specs,
)
from .tess import (  # noqa: F401
    TESS_FOLDERS,
    TESS_FOOD_FEAR_SAMPLE_RATE,
    TESS_MINI_WORDS,
    TESS_SAMPLE_RATE,
    TESS_WORDS,
    make_tess,
    tess_specs,
)
from .tree import GENERATOR_VERSION, MARKER_NAME, SIZES  # noqa: F401
from .voice import TESS_DURATION_RANGE, TESS_MEAN_DURATION, render  # noqa: F401

__all__ = [
    "make_tess",
    "make_msp_improv",
    "SIZES",
    "MSP_IMPROV_LAYOUTS",
    "MSP_IMPROV_LABEL_FILE_NAMES",
    "TESS_FOLDERS",
    "TESS_WORDS",
    "TESS_MINI_WORDS",
    "TESS_SAMPLE_RATE",
    "TESS_FOOD_FEAR_SAMPLE_RATE",
    "MSP_IMPROV_SAMPLE_RATE",
    "MSP_IMPROV_ORIGINAL_COUNTS",
    "MARKER_NAME",
]
