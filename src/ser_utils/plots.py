"""Figures for the notebooks and run reports. Each function draws on ``ax`` (a new figure
when None) and returns the axes, so notebooks can compose them and reports can save them.
"""

from __future__ import annotations

import matplotlib

if not matplotlib.get_backend().lower().startswith(("module://", "nbagg", "ipympl", "widget", "qt", "tk", "macosx")):
    matplotlib.use("Agg")  # headless runs (the ser command, CI) need no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["class_balance", "durations", "waveform", "spectrogram_image", "preprocessing_steps", "save_figure"]


def _axes(ax, figsize=(6, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def class_balance(manifest: pd.DataFrame, *, by: str | None = None, ax=None, title: str | None = None):
    """Bar chart of utterances per label (stacked by ``by``, e.g. 'speaker' or 'recording_type')."""
    ax = _axes(ax)
    if by is None:
        manifest["label"].value_counts().sort_index().plot.bar(ax=ax, color="tab:blue")
    else:
        pd.crosstab(manifest["label"], manifest[by]).plot.bar(ax=ax, stacked=True)
    ax.set_xlabel("label")
    ax.set_ylabel("utterances")
    ax.set_title(title or f"{manifest['corpus'].iloc[0]}: class balance")
    return ax


def durations(manifest: pd.DataFrame, *, by: str = "label", ax=None, bins: int = 30):
    """Histogram of clip durations (s), one colour per value of ``by``."""
    ax = _axes(ax)
    for value, group in manifest.groupby(by):
        ax.hist(group["duration"], bins=bins, alpha=0.5, label=str(value))
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("utterances")
    ax.legend(fontsize="small", ncol=2)
    ax.set_title(f"{manifest['corpus'].iloc[0]}: durations by {by}")
    return ax


def waveform(samples: np.ndarray, sr: int, *, ax=None, title: str = ""):
    """Waveform against time in seconds."""
    ax = _axes(ax, (6, 2.5))
    ax.plot(np.arange(len(samples)) / sr, samples, linewidth=0.5)
    ax.set_xlabel("time (s)")
    ax.set_title(title)
    return ax


def spectrogram_image(samples: np.ndarray, sr: int, *, ax=None, title: str = ""):
    """Log-power STFT (dB) with librosa.display."""
    import librosa
    import librosa.display

    ax = _axes(ax, (6, 3))
    power = np.abs(librosa.stft(np.asarray(samples, dtype=np.float32), n_fft=1024, hop_length=256)) ** 2
    image = librosa.display.specshow(librosa.power_to_db(power, ref=np.max), sr=sr, hop_length=256,
                                     x_axis="time", y_axis="hz", ax=ax)
    ax.figure.colorbar(image, ax=ax, format="%+2.0f dB")
    ax.set_title(title)
    return ax


def preprocessing_steps(steps: dict[str, tuple[np.ndarray, int]], *, title: str = ""):
    """One waveform row per preprocessing step (``{"raw": (samples, sr), …}``), shared time axis."""
    fig, axes = plt.subplots(len(steps), 1, figsize=(7, 1.7 * len(steps)), sharex=True)
    for ax, (name, (samples, sr)) in zip(np.atleast_1d(axes), steps.items()):
        waveform(samples, sr, ax=ax)
        ax.set_xlabel("")
        ax.set_ylabel(name, rotation=0, ha="right")
    np.atleast_1d(axes)[-1].set_xlabel("time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_figure(fig_or_ax, path) -> None:
    """Save a figure (or the figure of an axes) as PNG, atomically."""
    from .storage import atomic_path

    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
