"""Speaker normalisation: every utterance measured against its own speaker's average.

Speakers differ in pitch, loudness, speaking rate and recording gain far more than one
speaker's emotions do, and under a speaker-independent protocol the model meets a voice it
has never heard. Normalising each speaker's features by that speaker's own mean (and
standard deviation) keeps what varies *within* a speaker — higher, louder, faster than
usual — and removes the speaker's baseline. It is the classic speaker normalisation of
speech emotion recognition.

The statistics use **no label**: they are taken over every utterance of the speaker in the
arrays' rows (the R+T recordings of MSP-IMPROV, whatever their label; every TESS file),
the test speaker's included — the unlabelled speech of a new speaker, which a deployed
system also has once that speaker has said a few sentences. It is therefore a departure
from a strictly inductive evaluation, and runs that use it say so in their config
(``speaker_norm``).

Two forms, one rule:

- :func:`normalise_features`: a matrix of utterance features, z-normalised per speaker;
- :class:`ser_utils.deep.views.SpeakerNormalised`: spectrograms read batch by batch (a lazy
  view of the arrays), each mel bin with its speaker's mean over the speaker's frames
  subtracted (padding frames left out of the mean).

>>> import numpy as np
>>> values = np.array([[1.0], [3.0], [10.0], [14.0]])
>>> normalise_features(values, ["F01", "F01", "M01", "M01"]).ravel().tolist()
[-1.0, 1.0, -1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["normalise_features", "speaker_array"]


def speaker_array(speakers: Sequence, n_rows: int) -> np.ndarray:
    """``speakers`` as strings, one per row of an ``n_rows``-row matrix or array."""
    speakers = np.asarray(speakers).astype(str)
    if speakers.shape != (n_rows,):
        raise ValueError(f"{len(speakers)} speakers for {n_rows} rows — give one per row")
    return speakers


def normalise_features(features: np.ndarray, speakers: Sequence) -> np.ndarray:
    """Z-normalise every column of ``features`` within each speaker.

    Parameters
    ----------
    features : array (n, d)
        Utterance features, e.g. functionals.
    speakers : sequence of str, length n
        The speaker of every row. A speaker's mean and standard deviation come from that
        speaker's rows only; a column constant within a speaker becomes 0 there.

    Returns
    -------
    np.ndarray, shape (n, d), float64

    Examples
    --------
    >>> normalise_features(np.array([[2.0, 5.0], [4.0, 5.0]]), ["A", "A"]).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"expected a feature matrix (n, d), got shape {features.shape}")
    speakers = speaker_array(speakers, len(features))
    normalised = np.empty_like(features)
    for speaker in np.unique(speakers):
        rows = speakers == speaker
        spread = features[rows].std(axis=0)
        normalised[rows] = (features[rows] - features[rows].mean(axis=0)) / np.where(
            spread > 0, spread, 1.0
        )
    return normalised
