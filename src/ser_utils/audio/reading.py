"""Reading any wav: PCM of any width or float, any rate, channels averaged to mono; a file that
cannot be used is named with what is wrong with it, and a clip whose label would not be
meaningful (:func:`clip_problems`) is described the same way by every stage.

>>> file_problem("missing.wav")
'audio file not found'
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import SpectrogramConfig
from ..errors import AudioError

__all__ = [
    "read_audio",
    "file_problem",
    "not_a_regular_file",
    "clip_problems",
    "shortest_clip_seconds",
    "clip_problems_line",
    "MIN_SAMPLE_RATE",
    "MAX_SAMPLE_RATE",
    "NEAR_SILENT_DBFS",
]


#: libsndfile's description of a RIFF chunk whose header promises more bytes than the file holds.
_SHORT_CHUNK = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
#: Data sizes that streaming writers put in the header when the length is unknown: not truncation.
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFFFFF})
#: Channels whose average is this far below their own level cancel out (anti-phase stereo).
_CANCELLATION_RATIO = 1e-3  # -60 dB
#: Header sample rates outside this range are refused before any sample is decoded: a rate of
#: 1 Hz in a damaged header would make a second-long clip a day of audio to resample.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 384_000
#: A clip whose peak (DC offset removed) stays below this level holds no usable sound.
NEAR_SILENT_DBFS = -60.0


def not_a_regular_file(path: str | Path) -> str | None:
    """What ``path`` is when it is not a regular file (a FIFO, a device, a socket, a folder), or
    None; opening a FIFO would block for ever, so the type is read with ``stat`` alone.

    >>> not_a_regular_file("/dev/null")
    'a character device, not a regular file'
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    for test, name in (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return f"{name}, not a regular file"
    return None


def _rate_problem(sample_rate: int) -> str | None:
    if MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        return None
    return (
        f"its header gives a sample rate of {sample_rate} Hz, outside "
        f"{MIN_SAMPLE_RATE // 1000}–{MAX_SAMPLE_RATE // 1000} kHz (a damaged header)"
    )


def _unreadable(path: Path) -> str | None:
    """Why the bytes of ``path`` cannot be read (permissions), or None."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _truncation(info: sf._SoundFileInfo) -> str | None:
    """'holds N of the M data bytes its header announces' when libsndfile saw a cut-off file."""
    match = _SHORT_CHUNK.search(getattr(info, "extra_info", "") or "")
    if match is None:
        return None
    announced, present = int(match.group(1)), int(match.group(2))
    if announced in _UNKNOWN_SIZES or present >= announced:
        return None
    return f"holds {present} of the {announced} data bytes its header announces"


def file_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be used, from its header alone (no samples read); None when it can.

    Detects a missing file, a path that is not a regular file (never opened), a file this
    process may not read, an unreadable or corrupt header, a file with no samples, a header
    sample rate outside 1–384 kHz and a truncated file (bytes cut off the end: libsndfile reads it as a shorter clip, so the
    header is compared with the file size).
    """
    path = Path(path)
    if (kind := not_a_regular_file(path)) is not None:
        return kind
    if not path.is_file():
        return "audio file not found"
    if (reason := _unreadable(path)) is not None:
        return f"cannot be read ({reason})"
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"unreadable or corrupt ({reason})"
    if info.frames == 0:
        return "holds no samples"
    if (rate := _rate_problem(info.samplerate)) is not None:
        return rate
    truncated = _truncation(info)
    if truncated:
        return f"truncated: it {truncated}"
    return None


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Read any PCM (8/16/24/32-bit) or float sound file as float32 mono.

    Integer PCM is scaled to [-1, 1) the usual way (int16 / 32768); several channels are
    averaged to one. A truncated file is refused rather than read as a shorter clip.

    Returns
    -------
    samples : np.ndarray, shape (n,), float32
    sample_rate : int

    Raises
    ------
    AudioError
        The file is missing, not a regular file, not readable, corrupt, truncated, holds no
        samples, has a header sample rate outside 1–384 kHz, or its channels cancel out when
        averaged (anti-phase stereo).
    """
    path = Path(path)
    if (kind := not_a_regular_file(path)) is not None:
        raise AudioError(
            f"{path}: {kind} — remove it, or replace it with the wav file it stands for"
        )
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found — check the path")
    if _unreadable(path) == "permission denied":
        raise AudioError(
            f"{path}: permission denied — make the file readable (chmod a+r) or run as its owner"
        )
    try:
        with sf.SoundFile(str(path)) as handle:
            rate = _rate_problem(handle.samplerate)
            if rate is not None:
                raise AudioError(
                    f"{path}: {rate} — replace the file with a complete copy from the original "
                    "release"
                )
            truncated = _truncation(sf.info(str(path)))
            samples = handle.read(dtype="float32", always_2d=True)
            sample_rate = handle.samplerate
    except AudioError:
        raise
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AudioError(
            f"{path}: cannot read audio ({reason}) — replace the file with a valid wav"
        ) from None
    if truncated:
        raise AudioError(
            f"{path}: the file is truncated (it {truncated}) — replace it with a complete copy "
            "from the original release, or remove it from the corpus"
        )
    if samples.shape[0] == 0:
        raise AudioError(
            f"{path}: the file holds no samples — replace it or remove it from the corpus"
        )
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    channel_peak = float(np.max(np.abs(samples))) if samples.shape[1] > 1 else 0.0
    if channel_peak > 0 and float(np.max(np.abs(mono))) < _CANCELLATION_RATIO * channel_peak:
        raise AudioError(
            f"{path}: its {samples.shape[1]} channels cancel out when averaged to mono (anti-phase "
            "stereo) — keep one channel (e.g. `sox in.wav out.wav remix 1`) and use that file"
        )
    if not np.all(np.isfinite(mono)):
        raise AudioError(f"{path}: the file holds NaN or infinite samples — replace it")
    return np.ascontiguousarray(mono, dtype=np.float32), int(sample_rate)


def clip_problems(samples: np.ndarray, sr: int, shortest_seconds: float) -> list[str]:
    """Why the label of a readable clip would not be meaningful: the one definition that
    ``ser predict``, ``ser data check``, ``ser arrays`` and ``ser features`` warn with.

    An all-zero clip is not here: it is an error everywhere (the preprocessing refuses it).

    Parameters
    ----------
    samples, sr : the clip as :func:`read_audio` returns it
    shortest_seconds : float
        The shortest useful clip: one analysis frame of the stage's spectrogram or features.

    Returns
    -------
    list of str
        Empty for a usable clip; otherwise e.g. ``"shorter than one analysis frame (10 ms < 40 ms)"``,
        ``"a constant (DC offset) with no sound"`` or ``"near-silent (peak -90 dBFS)"``.

    Examples
    --------
    >>> clip_problems(np.full(16_000, 0.2, np.float32), 16_000, 0.032)
    ['a constant (DC offset) with no sound']
    >>> clip_problems(np.ones(1, np.float32), 16_000, 0.032)
    ['shorter than one analysis frame (0 ms < 32 ms)', 'a constant (DC offset) with no sound']
    """
    samples = np.asarray(samples, dtype=np.float64)
    found = []
    if len(samples) / sr < shortest_seconds:
        found.append(
            f"shorter than one analysis frame ({1000 * len(samples) / sr:.0f} ms < "
            f"{1000 * shortest_seconds:.0f} ms)"
        )
    sound = samples - samples.mean() if samples.size else samples
    peak = float(np.max(np.abs(sound))) if sound.size else 0.0
    if peak == 0.0 and samples.size and samples[0] != 0:
        found.append("a constant (DC offset) with no sound")
    elif 0.0 < peak < 10 ** (NEAR_SILENT_DBFS / 20):
        found.append(f"near-silent (peak {20 * np.log10(peak):.0f} dBFS)")
    return found


def shortest_clip_seconds(spectrogram: SpectrogramConfig, sr: int) -> float:
    """One analysis frame of ``spectrogram`` for clips at ``sr`` Hz (after any resampling), in
    seconds: the shortest clip :func:`clip_problems` accepts without a warning.

    >>> shortest_clip_seconds(SpectrogramConfig(), 44_100)  # the original's 40 ms window
    0.04
    """
    if spectrogram.kind == "original":
        return spectrogram.window_seconds
    return spectrogram.n_fft / sr


def clip_problems_line(problems: list[tuple[str, str]], total: int, unit: str = "files") -> str:
    """The warning every stage gives for the clips :func:`clip_problems` found:
    ``problems`` holds ``(file name, reasons)`` of each such clip among ``total``.

    >>> clip_problems_line([("a.wav", "near-silent (peak -90 dBFS)")], 4)
    '1 of 4 files: the label is not meaningful — a.wav: near-silent (peak -90 dBFS)'
    """
    name, reason = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (
        f"{len(problems)} of {total} {unit}: the label is not meaningful — {name}: {reason}{more}"
    )
