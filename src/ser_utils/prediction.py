"""Emotion prediction on new audio with a saved model bundle (``ser predict``).

A clip goes through the bundle's own recipe, so prediction sees what training saw: the
same scaling, resampling and trimming, then windows of the training length. A clip no
longer than that length is one window, padded (and denoised) exactly as in training;
a longer clip is cut into half-overlapping windows whose class probabilities are averaged.

Examples
--------
>>> from ser_utils.training import load_bundle
>>> from ser_utils.prediction import predict_files
>>> bundle = load_bundle("outputs/runs/improved/model")  # doctest: +SKIP
>>> predict_files(bundle, ["clip.wav"])  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .audio import pad_or_crop, preprocess, read_audio, reduce_noise
from .config import SEED_SPECTROGRAM_SAMPLE_RATE, AudioConfig
from .errors import AudioError, SerError
from .spectrograms import spectrogram

__all__ = ["audio_windows", "collect_audio_paths", "predict_samples", "predict_files", "AUDIO_SUFFIXES"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def audio_windows(samples: np.ndarray, sr: int, config: AudioConfig, *,
                  hop_fraction: float = 0.5) -> tuple[list[np.ndarray], list[tuple[int, int]], int]:
    """Cut a preprocessed clip into model-input windows, preprocessing each like training did.

    Parameters
    ----------
    samples, sr : the clip as read by :func:`~ser_utils.audio.read_audio`
    config : AudioConfig
        The recipe's chain; ``config.target_length`` is the window length.
    hop_fraction : float
        Window hop as a fraction of the window length (0.5: half-overlapping).

    Returns
    -------
    windows : list of np.ndarray, each ``config.target_length`` long
    spans : list of (start, end) sample indices in the scaled/resampled/trimmed clip
    sample_rate : int
    """
    denoise_whole = config.denoise and config.denoise_before_pad
    head = dataclasses.replace(config, target_length=None, denoise=denoise_whole)
    clip, sr = preprocess(samples, sr, head)
    length = config.target_length or len(clip)
    hop = max(1, int(length * hop_fraction))
    starts = list(range(0, max(len(clip) - length, 0) + 1, hop))
    if starts[-1] + length < len(clip):  # the last window ends with the clip
        starts.append(len(clip) - length)
    windows, spans = [], []
    for start in starts:
        window = pad_or_crop(clip[start:start + length], length)
        if config.denoise and not denoise_whole:
            window = reduce_noise(window, sr)
        windows.append(window)
        spans.append((start, min(start + length, len(clip))))
    return windows, spans, sr


def collect_audio_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders searched recursively for audio; one-line errors for the rest."""
    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES
                           and not p.name.startswith("._") and "__MACOSX" not in p.parts)
            if not found:
                raise SerError(f"no audio files (.wav) found under {item} — pass wav files or a folder holding them")
            paths.extend(found)
        elif not item.exists():
            raise AudioError(f"{item}: audio file not found — check the path")
        elif item.suffix.lower() not in AUDIO_SUFFIXES:
            raise AudioError(f"{item}: not a wav file — convert it to .wav first (e.g. ffmpeg -i in.mp3 out.wav)")
        else:
            paths.append(item)
    return paths


def _model_input(bundle, windows: Sequence[np.ndarray], sr: int) -> np.ndarray:
    images = np.stack([spectrogram(w, sr, bundle.recipe.spectrogram) for w in windows]).astype(np.float32)
    expected = bundle.model.inputs[0].shape
    if len(expected) == images.ndim + 1:
        images = images[..., np.newaxis]
    if tuple(expected[1:3]) != images.shape[1:3] and None not in tuple(expected[1:3]):
        raise SerError(f"the bundle's model expects inputs {tuple(expected[1:])} but its recipe gives "
                       f"{images.shape[1:]} — the bundle is inconsistent; train and save it again")
    return images


def prediction_config(bundle) -> AudioConfig:
    """The bundle's chain, resampling to the rate it was trained at when the recipe kept
    each file's own rate (the seed recipe: the spectrogram's window is 40 ms of *that* rate)."""
    config = bundle.recipe.audio
    if config.target_sr is None:
        rate = int(bundle.extra.get("sample_rate") or SEED_SPECTROGRAM_SAMPLE_RATE)
        config = dataclasses.replace(config, target_sr=rate)
    return config


def predict_samples(bundle, samples: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]], int]:
    """Class probabilities of a clip: ``(mean over windows, per window, spans, sample_rate)``."""
    windows, spans, out_sr = audio_windows(samples, sr, prediction_config(bundle))
    images = _model_input(bundle, windows, out_sr)
    # predict_on_batch runs the compiled graph without Model.predict's per-call set-up (an eager
    # call of a recurrent model is ~30x slower): the warm path stays in milliseconds.
    per_window = np.asarray(bundle.model.predict_on_batch(images), dtype=np.float64)
    return per_window.mean(axis=0), per_window, spans, out_sr


def predict_files(bundle, inputs: Iterable[str | Path], *, per_window: bool = False) -> pd.DataFrame:
    """One row per file (or per window with ``per_window``): file, predicted label,
    probability of each class (the bundle's label order), number of windows."""
    rows = []
    for path in collect_audio_paths(inputs):
        samples, sr = read_audio(path)
        try:
            mean, windows, spans, out_sr = predict_samples(bundle, samples, sr)
        except AudioError as exc:
            raise AudioError(f"{path}: {exc}") from None
        base = {"file": str(path), "n_windows": len(spans)}
        if per_window:
            for index, (probabilities, (start, end)) in enumerate(zip(windows, spans)):
                rows.append({**base, "window": index, "start_s": round(start / out_sr, 3),
                             "end_s": round(end / out_sr, 3), "label": bundle.labels[int(np.argmax(probabilities))],
                             **dict(zip(bundle.labels, probabilities.round(4)))})
        else:
            rows.append({**base, "label": bundle.labels[int(np.argmax(mean))], **dict(zip(bundle.labels, mean.round(4)))})
    return pd.DataFrame(rows)
