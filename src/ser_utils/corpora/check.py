"""Checking a copy of a corpus (``ser data check``): every file usable, the counts a reader
compares with the corpus's own, and the manifest saved under ``outputs/manifests``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .. import config, paths
from ..audio import (
    clip_problems,
    clip_problems_line,
    file_problem,
    read_audio,
    shortest_clip_seconds,
)
from ..config import SpectrogramConfig
from ..errors import AudioError, CorpusError
from ..storage import write_csv
from .loading import load_corpus
from .subsets import select_subset

__all__ = [
    "check_corpus",
    "format_summary",
    "manifest_path",
    "build_manifest",
    "read_or_build_manifest",
    "available_corpora",
    "clip_report",
]

log = logging.getLogger(__name__)


def available_corpora(base: Path | None = None) -> list[str]:
    """The corpora present under ``base`` (default :func:`ser_utils.paths.data_dir`)."""
    base = Path(base or paths.data_dir())
    return [corpus for corpus in config.CORPORA if paths.has_corpus(base, corpus)]


def clip_report(
    manifest: pd.DataFrame,
    spectrogram: SpectrogramConfig | None = None,
    target_sr: int | None = None,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Read every file of ``manifest``: ``(warned, silent)``, the ``(file name, reason)`` of each
    clip whose label would not be meaningful (:func:`~ser_utils.audio.clip_problems`, a frame of
    ``spectrogram`` at ``target_sr`` or the file's rate; default the original's 40 ms) and of each
    all-zero clip, which every stage refuses. Unreadable files are left to :func:`check_corpus`."""
    spectrogram = spectrogram or SpectrogramConfig()
    warned, silent = [], []
    for path in manifest["path"]:
        try:
            samples, sr = read_audio(path)
        except AudioError:
            continue
        name = Path(path).name
        if not samples.any():
            silent.append((name, "silent (all samples are zero)"))
        elif problems := clip_problems(
            samples, sr, shortest_clip_seconds(spectrogram, target_sr or sr)
        ):
            warned.append((name, "; ".join(problems)))
    return warned, silent


def check_corpus(corpus: str, root: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Load ``corpus`` and fail with one line if any file is unusable — missing, not a regular
    file, unreadable, empty, truncated, at a header rate outside 1–384 kHz
    (:func:`~ser_utils.audio.file_problem`) or all zero — or the corpus is empty; the clips
    whose label would not be meaningful (:func:`clip_report`) are counted in a warning."""
    manifest = load_corpus(corpus, root, strict=strict)
    problems = [
        (Path(path).name, problem) for path in manifest["path"] if (problem := file_problem(path))
    ]
    warned, silent = clip_report(manifest) if not problems else ([], [])
    problems += silent
    if problems:
        shown = "; ".join(f"{name}: {problem}" for name, problem in problems[:3])
        raise CorpusError(
            f"{len(problems)} wav files under {root} are unusable ({shown}"
            f"{' …' if len(problems) > 3 else ''}) — replace them from the original release"
        )
    if warned:
        line = clip_problems_line(warned, len(manifest))
        log.warning("%s: %s", root, line)
        manifest.attrs["report"]["warnings"].append(line)
    return manifest


def _counts(series: pd.Series) -> str:
    counts = series.value_counts().sort_index()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def format_summary(manifest: pd.DataFrame) -> str:
    """Counts by label, speaker, session and recording type, rates, durations, skipped files."""
    corpus = manifest["corpus"].iloc[0]
    lines = [
        f"{corpus}: {len(manifest)} utterances in {manifest.attrs.get('root', '?')}",
        f"  labels:          {_counts(manifest['label'])}",
        f"  speakers:        {_counts(manifest['speaker'])}",
    ]
    if corpus == "msp-improv":
        lines += [
            f"  sessions:        {_counts(manifest['session'])}",
            f"  recording types: {_counts(manifest['recording_type'])}",
        ]
        try:
            rt4 = select_subset(manifest, "rt-4class")
        except CorpusError:
            rt4 = manifest.iloc[:0]
        lines.append(
            f"  rt-4class:       {len(rt4)} ({_counts(rt4['label'])}; the original study: 1218)"
        )
    durations = manifest["duration"]
    lines += [
        f"  sample rates:    {_counts(manifest['sample_rate'])}",
        f"  durations:       {durations.min():.2f}–{durations.max():.2f} s, mean {durations.mean():.2f} s, "
        f"total {durations.sum() / 60:.1f} min",
    ]
    report = manifest.attrs.get("report", {})
    skipped = ", ".join(
        f"{report.get(k, 0)} {k}"
        for k in ("junk", "duplicates", "unparseable", "unlabelled", "not_wav", "not_regular")
    )
    lines.append(f"  skipped files:   {skipped}")
    for warning in report.get("warnings", []):
        lines.append(f"  warning:         {warning}")
    if report.get("labels_without_audio"):
        lines.append(f"  label entries without audio: {report['labels_without_audio']}")
    return "\n".join(lines)


def manifest_path(corpus: str) -> Path:
    return paths.manifest_path(corpus)


def build_manifest(corpus: str, root: str | Path | None = None) -> pd.DataFrame:
    """Load ``corpus`` from ``root`` (default: under the data directory) and save its manifest CSV."""
    manifest = check_corpus(corpus, root or paths.corpus_root(corpus))
    write_csv(manifest, manifest_path(corpus))
    return manifest


def read_or_build_manifest(corpus: str) -> pd.DataFrame:
    """The saved manifest of ``corpus``, built first if missing."""
    path = manifest_path(corpus)
    if path.exists():
        return pd.read_csv(path)
    return build_manifest(corpus)
