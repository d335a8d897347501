"""Features of the traditional models, computed once per file and cached on disk.

Four feature sets (:data:`FEATURE_SETS`):

``frames``
    The original study's 34 frame features — MFCC (20), chroma_stft (12), RMS (1) and
    zero-crossing rate (1) — over every frame of the padded clip, flattened to one
    vector per clip (623 × 34 = 21 182 values for MSP-IMPROV, 239 × 34 = 8126 for TESS).
``functionals``
    A compact alternative: 9 statistics of each of the 34 frame features over the frames
    that are not padding (34 × 9 = 306 values).
``egemaps``
    The 88 eGeMAPSv02 functionals of openSMILE, the standard SER baseline set.
``whisper``
    A frozen pretrained speech encoder (Whisper in CTranslate2, :mod:`~ser_utils.features.encoders`;
    the bundled tiny.en unless the recipe names another): the mean and standard deviation of
    its frames over the whole clip at 16 kHz (2 × 384 = 768 values for tiny.en); the cache key
    includes the encoder's identity (its weights and compute type).

:func:`frame_features` gives the same numbers as the original's four plain librosa calls
(``librosa.feature.mfcc``, ``chroma_stft``, ``rms``, ``zero_crossing_rate`` with the hop
of the recipe) but computes one STFT for MFCC and chroma, and only the frames that touch
non-zero samples: the trailing frames of a zero-padded clip are filled with the values
librosa gives for a silent frame.

:func:`extract_features` runs the audio chain and a feature function over a manifest in
parallel, caching each (file, parameters) result as one small ``.npy`` under
``outputs/features/<set>/``; the cache key hashes every parameter and the file's identity
(absolute path, size, modification time), so a changed file or parameter is recomputed.

Examples
--------
On the real MSP-IMPROV, ``extract_features(manifest, "frames", recipe=original)`` gives the
original's 1272 × 21 182 matrix (623 frames × 34 features per padded clip). On two tones in
TESS's layout, at the smoke profile's length:

>>> import tempfile
>>> from pathlib import Path
>>> import numpy as np
>>> import soundfile as sf
>>> from ser_utils import config, features
>>> from ser_utils.corpora import load_tess
>>> root = Path(tempfile.mkdtemp()) / "TESS"
>>> for pitch, (folder, name) in zip((220, 330), [("OAF_angry", "OAF_back_angry"), ("YAF_sad", "YAF_back_sad")]):
...     (root / folder).mkdir(parents=True)
...     tone = 0.3 * np.sin(2 * np.pi * pitch * np.arange(24_414) / 24_414)
...     sf.write(root / folder / f"{name}.wav", tone, 24_414)
>>> recipe = config.original_recipe("tess", "smoke")
>>> X = features.extract_features(load_tess(root), "functionals", recipe=recipe, n_jobs=1, progress=False,
...                               cache_dir=root.parent / "cache")
>>> X.shape
(2, 306)

Modules
-------
:mod:`~ser_utils.features.frames`
    The 34 frame features, frame counts and padding, flattening, column names.
:mod:`~ser_utils.features.functionals`
    Utterance-level functionals of frame features.
:mod:`~ser_utils.features.egemaps`
    openSMILE's eGeMAPSv02 functionals.
:mod:`~ser_utils.features.encoders`
    Whisper's log-mel front end, its frozen encoder, pooling, ``--encoder`` names.
:mod:`~ser_utils.features.cache`
    Feature sets, the per-file cache and the extraction of a manifest.
:mod:`~ser_utils.features.store`
    Saved matrices: save, load, load-or-extract, row selection.
"""

from __future__ import annotations

from ..audio.spectrograms import log_mel_spectrogram, original_spectrogram
from .cache import (
    CACHE_VERSION,
    FEATURE_SETS,
    HANDCRAFTED_FEATURE_SETS,
    ExtractionInfo,
    PreloadedAudio,
    cache_key,
    cache_path,
    extract_feature_sets,
    extract_features,
    feature_names,
    feature_vector,
)
from .egemaps import egemaps_functionals, egemaps_names
from .frames import (
    flatten_frames,
    frame_feature_names,
    frame_features,
    n_active_frames,
    n_frames,
    strip_padding,
)
from .functionals import FUNCTIONALS, frame_functionals, functional_names
from .store import (
    features_path,
    load_features,
    load_or_extract,
    read_description,
    save_features,
    select_rows,
)

__all__ = [
    "FEATURE_SETS",
    "HANDCRAFTED_FEATURE_SETS",
    "FUNCTIONALS",
    "CACHE_VERSION",
    "frame_features",
    "flatten_frames",
    "frame_feature_names",
    "n_frames",
    "n_active_frames",
    "strip_padding",
    "frame_functionals",
    "functional_names",
    "egemaps_functionals",
    "egemaps_names",
    "feature_vector",
    "feature_names",
    "extract_features",
    "extract_feature_sets",
    "ExtractionInfo",
    "PreloadedAudio",
    "cache_key",
    "cache_path",
    "save_features",
    "load_features",
    "read_description",
    "features_path",
    "load_or_extract",
    "select_rows",
    "original_spectrogram",
    "log_mel_spectrogram",
]
