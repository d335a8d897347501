"""Lazy views of the arrays: array-likes (``len``, ``shape``, ``dtype``, ``ndim``, integer
indexing) that the training loop reads batch by batch like a memory-mapped ``.npy``, without
a copy on disk or in memory.

:class:`RowView`
    Some rows of an array: a fold's training or test part.
:class:`SpeakerNormalised`
    Spectrograms minus their speaker's mean bin levels (speaker normalisation,
    :mod:`ser_utils.features.speaker_norm`), computed as each batch is read.
:class:`PackedFeatures`
    Spectrograms with each row's utterance features packed into extra frames: the second input
    of :func:`ser_utils.deep.models.improved_tcn` ``(packed_columns=…)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..features.speaker_norm import speaker_array

__all__ = [
    "RowView",
    "SpeakerNormalised",
    "padding_frames",
    "speaker_bin_means",
    "PackedFeatures",
    "packed_columns",
]


class RowView:
    """Rows ``rows`` of ``array`` as an array-like — ``len``, ``shape``, ``dtype`` and integer
    indexing — without copying: a fold's training part of a memory-mapped ``.npy`` is read
    batch by batch by :class:`ser_utils.deep.training.ArrayBatches`, never loaded whole.

    Parameters
    ----------
    array : np.ndarray or np.memmap, shape (N, ...)
    rows : array of int
        Rows of ``array``, increasing (sequential reads).
    """

    def __init__(self, array, rows: Sequence[int]):
        self.array = array
        self.rows = np.asarray(rows, dtype=np.int64)
        self.shape = (len(self.rows), *array.shape[1:])
        self.dtype = array.dtype
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):
        return self.array[self.rows[index]]


def padding_frames(spectrogram: np.ndarray) -> np.ndarray:
    """Frames of one ``(n_bins, frames)`` spectrogram that are padding: every bin at the
    spectrogram's minimum (the floor that digital silence reaches in the log spectra of
    :mod:`ser_utils.audio.spectrograms`).

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
    speakers = speaker_array(speakers, len(spectrograms))
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
    ``shape``, ``dtype``, integer indexing) that :class:`RowView` and
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
        self.speakers = speaker_array(speakers, len(spectrograms))
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


def packed_columns(n_features: int, n_mels: int) -> int:
    """Frames needed to pack ``n_features`` values under ``n_mels`` rows (:class:`PackedFeatures`)."""
    return -(-int(n_features) // int(n_mels))


class PackedFeatures:
    """Spectrograms ``(N, n_mels, frames)`` with each row's utterance features packed into
    :func:`packed_columns` extra frames at the end, column after column (zero-padded): the
    second input of :func:`ser_utils.deep.models.improved_tcn` ``(packed_columns=…)``, read batch
    by batch like the spectrograms themselves (an array-like: ``len``, ``shape``, ``dtype``,
    integer indexing).

    Examples
    --------
    >>> packed = PackedFeatures(np.zeros((2, 3, 4), np.float32), np.arange(10.0).reshape(2, 5))
    >>> packed.shape
    (2, 3, 6)
    >>> packed[np.array([1])][0, :, 4:].T.ravel()
    array([5., 6., 7., 8., 9., 0.], dtype=float32)
    """

    def __init__(self, spectrograms, features: np.ndarray):
        features = np.asarray(features, dtype=np.float32)
        if len(features) != len(spectrograms):
            raise ValueError(f"{len(features)} feature rows for {len(spectrograms)} spectrograms")
        self.spectrograms = spectrograms
        n_mels = spectrograms.shape[1]
        columns = packed_columns(features.shape[1], n_mels)
        padded = np.zeros((len(features), columns * n_mels), np.float32)
        padded[:, : features.shape[1]] = np.nan_to_num(features)
        self.packed = padded.reshape(len(features), columns, n_mels).transpose(0, 2, 1)
        self.columns = columns
        self.shape = (len(features), n_mels, spectrograms.shape[2] + columns)
        self.dtype = np.dtype(np.float32)
        self.ndim = 3

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        return np.concatenate(
            [np.asarray(self.spectrograms[index], dtype=np.float32), self.packed[index]], axis=-1
        )
