"""Emotion prediction on new audio with a saved model bundle (``ser predict``).

A clip goes through the bundle's own recipe, so prediction sees what training saw: the
same scaling, resampling and trimming, then windows of the training length. A clip no
longer than that length is one window, padded (and denoised) exactly as in training;
a longer clip is cut into half-overlapping windows whose class probabilities are averaged.

Usage: ``predict_files(load_bundle("outputs/runs/<run>/model"), ["clip.wav"])`` gives one row
per clip (``ser predict`` prints it); ``tests/deep/test_prediction.py`` trains a small bundle and
predicts with it. The inputs are checked before TensorFlow is imported:

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> collect_audio_paths([folder / "missing.wav"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
ser_utils.errors.AudioError: .../missing.wav: audio file not found — check the path
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..audio import (
    clip_problems,
    pad_or_crop,
    preprocess,
    read_audio,
    reduce_noise,
    shortest_clip_seconds,
)
from ..audio.reading import NEAR_SILENT_DBFS
from ..audio.spectrograms import spectrogram
from ..config import ORIGINAL_SPECTROGRAM_SAMPLE_RATE, AudioConfig, Recipe
from ..errors import AudioError, SerError
from ..features.encoders import WhisperEncoder, whisper_embedding
from .bundle_checks import check_bundle_fields

log = logging.getLogger(__name__)

__all__ = [
    "audio_windows",
    "collect_audio_paths",
    "check_bundle_files",
    "clip_warnings",
    "predict_samples",
    "predict_files",
    "bundle_encoder",
    "AUDIO_SUFFIXES",
    "NEAR_SILENT_DBFS",
]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
#: Audio formats found in a folder but not read: counted and reported.
OTHER_AUDIO_SUFFIXES = frozenset({".mp3", ".m4a", ".aac", ".opus", ".aif", ".aiff", ".wma"})


def check_bundle_files(directory: str | Path) -> Recipe:
    """Check a bundle's recipe and model file without loading TensorFlow; returns the recipe.

    Catches what :func:`ser_utils.deep.bundles.load_bundle` would report late or obscurely: a
    missing folder, a ``recipe.json`` with invalid values, an empty or corrupt ``model.keras``
    (a Keras file is a zip archive; its checksums are verified).

    Raises
    ------
    SerError
        Naming the file and the fix.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise SerError(
            f"model bundle not found: {directory} — pass the folder written by `ser train` "
            "(it holds model.keras)"
        )
    recipe_path, model_path = directory / "recipe.json", directory / "model.keras"
    check_bundle_fields(directory)
    try:
        recipe = Recipe.from_dict(json.loads(recipe_path.read_text()))
        meta_path = directory / "bundle.json"
        extra = json.loads(meta_path.read_text()).get("extra", {}) if meta_path.is_file() else {}
        # Recipe.from_dict takes any value: running the chain on a test tone finds the invalid ones.
        tone = (0.5 * np.sin(np.arange(8_000) * 0.2)).astype(np.float32)
        windows, _, sr = audio_windows(tone, 16_000, chain_config(recipe, extra))
        spectrogram(windows[0], sr, recipe.spectrogram)
    except FileNotFoundError:
        raise SerError(
            f"model bundle {directory} is incomplete (missing recipe.json) — "
            "train and save the model again (ser train)"
        ) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SerError(
            f"{recipe_path}: invalid recipe ({reason}) — restore the bundle's recipe.json or "
            "train and save the model again (ser train)"
        ) from None
    if not model_path.is_file():
        raise SerError(
            f"model bundle {directory} is incomplete (missing model.keras) — "
            "train and save the model again (ser train)"
        )
    try:
        with zipfile.ZipFile(model_path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        damaged = "the archive"
    if damaged is not None:
        what = "empty" if model_path.stat().st_size == 0 else f"damaged: {damaged}"
        raise SerError(
            f"{model_path}: the model file is corrupt ({what}) — copy the bundle again, or train "
            "and save the model again (ser train)"
        )
    return recipe


def clip_warnings(samples: np.ndarray, sr: int, recipe: Recipe) -> list[str]:
    """:func:`~ser_utils.audio.clip_problems` of a clip read at ``sr`` Hz, the shortest useful
    clip being one frame of the bundle's spectrogram ``recipe``.

    >>> from ser_utils import config
    >>> clip_warnings(np.full(16_000, 0.2, np.float32), 16_000, config.improved_recipe())
    ['a constant (DC offset) with no sound']
    """
    return clip_problems(
        samples, sr, shortest_clip_seconds(recipe.spectrogram, recipe.audio.target_sr or sr)
    )


def audio_windows(
    samples: np.ndarray, sr: int, config: AudioConfig, *, hop_fraction: float = 0.5
) -> tuple[list[np.ndarray], list[tuple[int, int]], int]:
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
        window = pad_or_crop(clip[start : start + length], length)
        if config.denoise and not denoise_whole:
            window = reduce_noise(window, sr)
        windows.append(window)
        spans.append((start, min(start + length, len(clip))))
    return windows, spans, sr


def collect_audio_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders searched recursively for audio; one-line errors for the rest.

    Audio in a folder that is not read (``.mp3``, ``.m4a`` …) is counted in a warning."""
    paths: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found, other = [], []
            for p in sorted(item.rglob("*")):
                if p.name.startswith("._") or "__MACOSX" in p.parts:
                    continue
                if p.suffix.lower() in AUDIO_SUFFIXES:
                    found.append(p)
                elif p.suffix.lower() in OTHER_AUDIO_SUFFIXES:
                    other.append(p)
            if other:
                log.warning(
                    "%s: %d audio files not in %s format left out (%s) — convert them to .wav "
                    "(e.g. ffmpeg -i in.mp3 out.wav)",
                    item,
                    len(other),
                    "/".join(suffix.lstrip(".") for suffix in AUDIO_SUFFIXES),
                    ", ".join(p.name for p in other[:3]) + (" …" if len(other) > 3 else ""),
                )
            if not found:
                raise SerError(
                    f"no audio files (.wav) found under {item}"
                    + (f" ({len(other)} in other formats)" if other else "")
                    + " — pass wav files or a folder holding them"
                )
            paths.extend(found)
        elif not item.exists():
            raise AudioError(f"{item}: audio file not found — check the path")
        elif item.suffix.lower() not in AUDIO_SUFFIXES:
            raise AudioError(
                f"{item}: not a wav file — convert it to .wav first (e.g. ffmpeg -i in.mp3 out.wav)"
            )
        else:
            paths.append(item)
    return paths


def bundle_encoder(bundle, name_or_path: str | Path | None = None) -> WhisperEncoder | None:
    """The pretrained encoder a head bundle was trained on (None for a spectrogram network):
    ``name_or_path`` (default the one the bundle names), in the compute type of training.

    Raises
    ------
    SerError
        The encoder found is not the one the bundle was trained on (other weights or compute
        type: the head would read embeddings it never saw).
    """
    recorded = bundle.extra.get("encoder_identity")
    if recorded is None:
        return None
    name = name_or_path or bundle.extra.get("encoder") or bundle.recipe.encoder
    encoder = WhisperEncoder(name, compute_type=bundle.extra.get("encoder_compute_type"))
    if encoder.identity != recorded:
        raise SerError(
            f"{bundle.directory or 'the bundle'}: its model was trained on the encoder "
            f"{bundle.extra.get('encoder')} (identity {recorded[:12]}), and {name} is another "
            f"(identity {encoder.identity[:12]}) — predict with the encoder it was trained on "
            "(--encoder NAME_OR_PATH), or train the bundle again on this one"
        )
    return encoder


def _model_input(
    bundle, windows: Sequence[np.ndarray], sr: int, encoder: WhisperEncoder | None = None
) -> np.ndarray:
    if encoder is not None:  # a head over a frozen encoder reads its pooled embedding
        return np.stack([whisper_embedding(w, sr, encoder=encoder) for w in windows])
    images = np.stack([spectrogram(w, sr, bundle.recipe.spectrogram) for w in windows]).astype(
        np.float32
    )
    expected = bundle.model.inputs[0].shape
    if len(expected) == images.ndim + 1:
        images = images[..., np.newaxis]
    if tuple(expected[1:3]) != images.shape[1:3] and None not in tuple(expected[1:3]):
        raise SerError(
            f"the bundle's model expects inputs {tuple(expected[1:])} but its recipe gives "
            f"{images.shape[1:]} — the bundle is inconsistent; train and save it again"
        )
    return images


def chain_config(recipe: Recipe, extra: dict) -> AudioConfig:
    """The audio chain of a bundle with recipe ``recipe`` and metadata ``extra``: the recipe's,
    resampling to the rate it was trained at when the recipe kept each file's own rate (the
    original recipe: the spectrogram's window is 40 ms of *that* rate)."""
    config = recipe.audio
    if config.target_sr is None:
        rate = int(extra.get("sample_rate") or ORIGINAL_SPECTROGRAM_SAMPLE_RATE)
        config = dataclasses.replace(config, target_sr=rate)
    return config


def prediction_config(bundle) -> AudioConfig:
    """:func:`chain_config` of a loaded bundle."""
    return chain_config(bundle.recipe, bundle.extra)


def predict_samples(
    bundle, samples: np.ndarray, sr: int, *, encoder: WhisperEncoder | None = None
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]], int]:
    """Class probabilities of a clip: ``(mean over windows, per window, spans, sample_rate)``;
    a head bundle's ``encoder`` is :func:`bundle_encoder`'s."""
    windows, spans, out_sr = audio_windows(samples, sr, prediction_config(bundle))
    images = _model_input(bundle, windows, out_sr, encoder)
    # predict_on_batch runs the compiled graph without Model.predict's per-call set-up (an eager
    # call of a recurrent model is ~30x slower): the warm path stays in milliseconds.
    per_window = np.asarray(bundle.model.predict_on_batch(images), dtype=np.float64)
    return per_window.mean(axis=0), per_window, spans, out_sr


def predict_files(
    bundle,
    inputs: Iterable[str | Path],
    *,
    per_window: bool = False,
    encoder: str | Path | None = None,
) -> pd.DataFrame:
    """One row per file (or per window with ``per_window``): file, predicted label,
    probability of each class (the bundle's label order), number of windows, and
    ``warning`` — empty, or why the label is not meaningful (:func:`clip_warnings`).
    ``encoder``: for a head over a pretrained encoder, where to find it (default the name the
    bundle records); it must be the encoder the bundle was trained on (:func:`bundle_encoder`)."""
    model_encoder = bundle_encoder(bundle, encoder)
    rows = []
    for path in collect_audio_paths(inputs):
        samples, sr = read_audio(path)
        warning = "; ".join(clip_warnings(samples, sr, bundle.recipe))
        try:
            mean, windows, spans, out_sr = predict_samples(
                bundle, samples, sr, encoder=model_encoder
            )
        except AudioError as exc:
            raise AudioError(f"{path}: {exc}") from None
        base = {"file": str(path), "n_windows": len(spans)}
        if per_window:
            for index, (probabilities, (start, end)) in enumerate(zip(windows, spans)):
                rows.append(
                    {
                        **base,
                        "window": index,
                        "start_s": round(start / out_sr, 3),
                        "end_s": round(end / out_sr, 3),
                        "label": bundle.labels[int(np.argmax(probabilities))],
                        **dict(zip(bundle.labels, probabilities.round(4))),
                        "warning": warning,
                    }
                )
        else:
            rows.append(
                {
                    **base,
                    "label": bundle.labels[int(np.argmax(mean))],
                    **dict(zip(bundle.labels, mean.round(4))),
                    "warning": warning,
                }
            )
    return pd.DataFrame(rows)
