"""Checking a copy of a corpus (``ser data check``): every file usable, the counts a reader
compares with the corpus's own, and the manifest saved under ``outputs/manifests``."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from .. import config, paths
from ..audio.reading import file_problem
from ..errors import CorpusError
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
]

log = logging.getLogger(__name__)


def available_corpora(base: Path | None = None) -> list[str]:
    """The corpora present under ``base`` (default :func:`ser_utils.paths.data_dir`)."""
    base = Path(base or paths.data_dir())
    return [corpus for corpus in config.CORPORA if paths.has_corpus(base, corpus)]


def check_corpus(corpus: str, root: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """Load ``corpus`` and fail with one line if any file is unusable — missing, unreadable,
    empty or truncated (:func:`~ser_utils.audio.file_problem`) — or the corpus is empty."""
    manifest = load_corpus(corpus, root, strict=strict)
    problems = [
        (Path(path).name, problem) for path in manifest["path"] if (problem := file_problem(path))
    ]
    if problems:
        shown = "; ".join(f"{name}: {problem}" for name, problem in problems[:3])
        raise CorpusError(
            f"{len(problems)} wav files under {root} are unusable ({shown}"
            f"{' …' if len(problems) > 3 else ''}) — replace them from the original release"
        )
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
        for k in ("junk", "duplicates", "unparseable", "unlabelled", "not_wav")
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
