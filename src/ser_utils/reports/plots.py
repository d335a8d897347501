"""Figures for the notebooks and run reports. Each function draws on ``ax`` (a new figure
when None) and returns the axes, so notebooks can compose them and reports can save them.
"""

from __future__ import annotations

import matplotlib

if (
    not matplotlib.get_backend()
    .lower()
    .startswith(("module://", "nbagg", "ipympl", "widget", "qt", "tk", "macosx"))
):
    matplotlib.use("Agg")  # headless runs (the ser command, CI) need no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..evaluation import Summary, fold_table
from ..storage import atomic_path

__all__ = [
    "class_balance",
    "durations",
    "waveform",
    "spectrogram_image",
    "preprocessing_steps",
    "save_figure",
]


def _axes(ax, figsize=(6, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def class_balance(
    manifest: pd.DataFrame, *, by: str | None = None, ax=None, title: str | None = None
):
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
    import librosa.display  # matplotlib helpers of librosa, a second to import: this figure only

    ax = _axes(ax, (6, 3))
    power = (
        np.abs(librosa.stft(np.asarray(samples, dtype=np.float32), n_fft=1024, hop_length=256)) ** 2
    )
    image = librosa.display.specshow(
        librosa.power_to_db(power, ref=np.max),
        sr=sr,
        hop_length=256,
        x_axis="time",
        y_axis="hz",
        ax=ax,
    )
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
    fig = getattr(fig_or_ax, "figure", fig_or_ax)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")


# ------------------------------------------------------------------ results figures
__all__ += [
    "confusion_matrix_heatmap",
    "learning_curves",
    "fold_metrics_bar",
    "results_bar",
    "ua_comparison",
]


def confusion_matrix_heatmap(
    confusion,
    labels,
    *,
    normalise: str | None = "true",
    ax=None,
    title: str = "",
    cmap: str = "Blues",
):
    """Seaborn heat map of a confusion matrix (rows true, columns predicted).

    Parameters
    ----------
    confusion : array (k, k)
        Counts, in ``labels`` order (e.g. ``compute_metrics(...)["confusion"]``).
    labels : sequence of str
    normalise : {'true', 'pred', 'all', None}, default 'true'
        Divide by the row sums (recall per class on the diagonal), the column sums
        (precision), the total, or show counts.
    """
    import seaborn as sns  # a second to import: the heatmap alone needs it

    counts = np.asarray(confusion, dtype=float)
    if counts.shape != (len(labels), len(labels)):
        raise ValueError(
            f"confusion matrix of shape {counts.shape} does not match {len(labels)} labels"
        )
    if normalise not in ("true", "pred", "all", None):
        raise ValueError(f"unknown normalise {normalise!r}: expected 'true', 'pred', 'all' or None")
    values, fmt = counts, ".0f"
    if normalise is not None:
        totals = {
            "true": counts.sum(axis=1, keepdims=True),
            "pred": counts.sum(axis=0, keepdims=True),
            "all": counts.sum(),
        }[normalise]
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 0.0)
        fmt = ".2f"
    ax = _axes(ax, (4.5, 3.8))
    sns.heatmap(
        values,
        annot=True,
        fmt=fmt,
        cmap=cmap,
        xticklabels=list(labels),
        yticklabels=list(labels),
        vmin=0,
        vmax=1 if normalise else None,
        square=True,
        cbar=True,
        ax=ax,
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(
        title or ("confusion matrix" + (f" (normalised over {normalise})" if normalise else ""))
    )
    return ax


def learning_curves(
    history: dict, *, metrics: tuple[str, ...] = ("loss", "accuracy"), ax=None, title: str = ""
):
    """Training and validation curves per epoch from a Keras ``History.history`` dict.

    One panel per metric in ``metrics`` that the history holds (``val_<metric>`` dashed);
    ``ax`` may be one axes (all metrics on it) or one per metric. Returns the axes array.
    """
    present = [m for m in metrics if m in history]
    if not present:
        raise ValueError(f"history holds none of {metrics}: it has {sorted(history)}")
    if ax is None:
        _, axes = plt.subplots(1, len(present), figsize=(4.5 * len(present), 3.2), squeeze=False)
        axes = axes[0]
    else:
        axes = np.atleast_1d(ax)
        axes = np.repeat(axes, len(present)) if len(axes) == 1 else axes
    for axis, metric in zip(axes, present):
        epochs = np.arange(1, len(history[metric]) + 1)
        marker = "o" if len(epochs) < 15 else None  # a short run's points stay visible
        (line,) = axis.plot(epochs, history[metric], marker=marker, label=f"train {metric}")
        if f"val_{metric}" in history:
            axis.plot(
                epochs,
                history[f"val_{metric}"],
                linestyle="--",
                marker=marker,
                color=line.get_color(),
                label=f"validation {metric}",
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.legend(fontsize="small")
    if title:
        axes[0].figure.suptitle(title)
    return axes


def fold_metrics_bar(
    result,
    *,
    metrics: tuple[str, ...] = ("ua", "wa"),
    chance: float | None = None,
    ax=None,
    title: str = "",
):
    """Grouped bars of ``metrics`` per fold, with each metric's mean as a dotted line.

    ``result`` is a :class:`~ser_utils.evaluation.CrossValidation` or its
    :func:`~ser_utils.evaluation.fold_table` (the 'mean'/'std' rows are skipped);
    ``chance`` draws a grey line (e.g. 1 / number of classes).
    """
    table = result if isinstance(result, pd.DataFrame) else fold_table(result)
    table = table.drop(index=[i for i in ("mean", "std") if i in table.index])
    ax = _axes(ax, (max(4.0, 0.8 * len(table) + 2), 3.2))
    positions = np.arange(len(table))
    width = 0.8 / len(metrics)
    for number, metric in enumerate(metrics):
        values = table[metric].astype(float).to_numpy()
        bars = ax.bar(
            positions + (number - (len(metrics) - 1) / 2) * width,
            values,
            width,
            label=metric.upper(),
        )
        ax.axhline(values.mean(), linestyle=":", color=bars.patches[0].get_facecolor())
    if chance is not None:
        ax.axhline(chance, color="grey", linewidth=1, label="chance")
    ax.set_xticks(positions, [str(i) for i in table.index])
    ax.set_xlabel("fold")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small", ncol=len(metrics) + 1)
    ax.set_title(title)
    return ax


def results_bar(
    summaries: dict[str, Summary | dict],
    *,
    metrics: tuple[str, ...] = ("ua", "wa"),
    chance: float | None = None,
    ax=None,
    title: str = "",
):
    """Compare runs: ``{name: summary}`` — a :class:`~ser_utils.evaluation.Summary` or a dict
    ``{"ua": mean, "ua_std": std, …}`` (e.g. a saved ``metrics.json``) — as grouped bars with
    the fold standard deviation as error bars."""
    summaries = {
        name: summary.to_dict() if isinstance(summary, Summary) else summary
        for name, summary in summaries.items()
    }
    names = list(summaries)
    ax = _axes(ax, (max(4.0, 1.1 * len(names) + 2), 3.4))
    positions = np.arange(len(names))
    width = 0.8 / len(metrics)
    for number, metric in enumerate(metrics):
        means = [summaries[n].get(metric, np.nan) for n in names]
        stds = [summaries[n].get(f"{metric}_std") or 0.0 for n in names]
        ax.bar(
            positions + (number - (len(metrics) - 1) / 2) * width,
            means,
            width,
            yerr=stds,
            capsize=3,
            label=metric.upper(),
        )
    if chance is not None:
        ax.axhline(chance, color="grey", linewidth=1, label="chance")
    ax.set_xticks(positions, names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    ax.set_title(title)
    return ax


def ua_comparison(table: pd.DataFrame, *, chance: float | None = None, ax=None, title: str = ""):
    """Horizontal bars of UA ± sd, one per row of ``table`` (index: the run's name; columns
    ``ua``, ``ua_std`` and ``kind``, one colour per kind), best at the top of each kind."""
    ax = _axes(ax, (8.0, 0.42 * len(table) + 1.4))
    colours = dict(zip(dict.fromkeys(table["kind"]), ("tab:blue", "tab:orange", "tab:green")))
    positions = np.arange(len(table))[::-1]
    ax.barh(
        positions,
        table["ua"],
        xerr=table["ua_std"].fillna(0),
        capsize=3,
        color=[colours.get(kind, "tab:grey") for kind in table["kind"]],
    )
    for kind, colour in colours.items():
        ax.barh([np.nan], [np.nan], color=colour, label=str(kind))
    if chance is not None:
        ax.axvline(chance, color="grey", linewidth=1, linestyle="--", label="chance")
    ax.set_yticks(positions, table.index)
    ax.set_xlim(0, 1)
    ax.set_xlabel("UA (unweighted average recall)")
    ax.legend(fontsize="small", loc="lower right")
    ax.set_title(title)
    return ax
