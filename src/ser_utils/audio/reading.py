"""Reading any wav: PCM of any width or float, any rate, channels averaged to mono; a file that
cannot be used is named with what is wrong with it.

>>> file_problem("missing.wav")
'audio file not found'
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioError

__all__ = ["read_audio", "file_problem"]


#: libsndfile's description of a RIFF chunk whose header promises more bytes than the file holds.
_SHORT_CHUNK = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
#: Data sizes that streaming writers put in the header when the length is unknown: not truncation.
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFFFFF})
#: Channels whose average is this far below their own level cancel out (anti-phase stereo).
_CANCELLATION_RATIO = 1e-3  # -60 dB


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

    Detects a missing file, an unreadable or corrupt header, a file with no samples and a
    truncated file (bytes cut off the end: libsndfile reads it as a shorter clip, so the
    header is compared with the file size).
    """
    path = Path(path)
    if not path.is_file():
        return "audio file not found"
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"unreadable or corrupt ({reason})"
    if info.frames == 0:
        return "holds no samples"
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
        The file is missing, unreadable, corrupt, truncated, holds no samples, or its
        channels cancel out when averaged (anti-phase stereo).
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found — check the path")
    try:
        with sf.SoundFile(str(path)) as handle:
            truncated = _truncation(sf.info(str(path)))
            samples = handle.read(dtype="float32", always_2d=True)
            sample_rate = handle.samplerate
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
