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
- :class:`SpeakerNormalised`: spectrograms read batch by batch (an array-like, as
  :class:`ser_utils.end_to_end.RowView`), each mel bin with its speaker's mean over the
  speaker's frames subtracted (padding frames left out of the mean).

>>> import numpy as np
>>> values = np.array([[1.0], [3.0], [10.0], [14.0]])
>>> normalise_features(values, ["F01", "F01", "M01", "M01"]).ravel().tolist()
[-1.0, 1.0, -1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["normalise_features", "padding_frames", "speaker_bin_means", "SpeakerNormalised"]


def _speaker_array(speakers: Sequence, n_rows: int) -> np.ndarray:
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
    speakers = _speaker_array(speakers, len(features))
    normalised = np.empty_like(features)
    for speaker in np.unique(speakers):
        rows = speakers == speaker
        spread = features[rows].std(axis=0)
        normalised[rows] = (features[rows] - features[rows].mean(axis=0)) / np.where(
            spread > 0, spread, 1.0
        )
    return normalised


def padding_frames(spectrogram: np.ndarray) -> np.ndarray:
    """Frames of one ``(n_bins, frames)`` spectrogram that are padding: every bin at the
    spectrogram's minimum (the floor that digital silence reaches in the log spectra of
    :mod:`ser_utils.spectrograms`).

    >>> padding_frames(np.array([[-80.0, -3.0, -80.0], [-80.0, -80.0, -80.0]])).tolist()
    [True, False, True]
    """
    spectrogram = np.asarray(spectrogram)
    return (spectrogram <= spectrogram.min()).all(axis=0)


def speaker_bin_means(
    spectrograms, speakers: Sequence, *, chunk: int = 64
) -> dict[str, np.ndarray]:
    """Each speaker's mean of every bin over the speaker's non-padding frames.

    Parameters
    ----------
    spectrograms : array or memmap, shape (N, n_bins, frames)
        Read ``chunk`` rows at a time.
    speakers : sequence of str, length N

    Returns
    -------
    dict
        speaker -> float32 array ``(n_bins, 1)``.
    """
    speakers = _speaker_array(speakers, len(spectrograms))
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for start in range(0, len(spectrograms), chunk):
        block = np.asarray(spectrograms[start : start + chunk], dtype=np.float64)
        for offset, spectrogram in enumerate(block):
            speaker = speakers[start + offset]
            kept = spectrogram[:, ~padding_frames(spectrogram)]
            sums[speaker] = sums.get(speaker, 0.0) + kept.sum(axis=1)
            counts[speaker] = counts.get(speaker, 0) + kept.shape[1]
    return {
        speaker: (sums[speaker] / max(counts[speaker], 1)).astype(np.float32)[:, None]
        for speaker in sums
    }


class SpeakerNormalised:
    """Spectrograms ``(N, n_bins, frames)`` minus their speaker's bin means
    (:func:`speaker_bin_means`), computed when a batch is read: an array-like (``len``,
    ``shape``, ``dtype``, integer indexing) that :class:`ser_utils.end_to_end.RowView` and
    the training loop read like the arrays themselves, without a normalised copy on disk.

    Examples
    --------
    One bin, a padding frame in each utterance (at its floor, -80): the speaker's mean is
    that of the four other frames, 5.

    >>> spectrograms = np.array([[[-80.0, 2.0, 4.0]], [[6.0, 8.0, -80.0]]], dtype=np.float32)
    >>> normalised = SpeakerNormalised(spectrograms, ["F01", "F01"])
    >>> normalised[np.array([0, 1])].tolist()
    [[[-85.0, -3.0, -1.0]], [[1.0, 3.0, -85.0]]]
    """

    def __init__(self, spectrograms, speakers: Sequence):
        self.spectrograms = spectrograms
        self.speakers = _speaker_array(speakers, len(spectrograms))
        means = speaker_bin_means(spectrograms, self.speakers)
        names = sorted(means)
        self._means = np.stack([means[name] for name in names])
        self._speaker_index = np.searchsorted(names, self.speakers)
        self.shape = tuple(spectrograms.shape)
        self.dtype = np.dtype(np.float32)
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        block = np.asarray(self.spectrograms[index], dtype=np.float32)
        return block - self._means[self._speaker_index[index]]
