"""Walking a corpus folder: wav files at any depth, junk counted, duplicates resolved."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import soundfile as sf

from ..errors import CorpusError
from .walk_order import original_order

log = logging.getLogger(__name__)

#: Files and folders left by archivers and file browsers, never audio.
JUNK_DIRECTORIES = frozenset({"__MACOSX", ".git", ".ipynb_checkpoints"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


@dataclass
class ScanReport:
    """What a loader found besides the utterances it returns (kept in ``DataFrame.attrs``)."""

    junk: list[str] = field(default_factory=list)  # __MACOSX, ._*, .DS_Store
    other_files: int = 0  # e.g. .avi next to the .wav in older MSP-IMPROV releases
    duplicates: list[str] = field(default_factory=list)  # same file name found twice
    unparseable: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)
    labels_without_audio: int = 0

    def skipped(self) -> dict[str, int]:
        return {"junk": len(self.junk), "duplicates": len(self.duplicates),
                "unparseable": len(self.unparseable), "unlabelled": len(self.unlabelled)}

    def as_dict(self) -> dict:
        return {**self.skipped(), "other_files": self.other_files,
                "labels_without_audio": self.labels_without_audio,
                "examples": {"junk": self.junk[:3], "duplicates": self.duplicates[:3],
                             "unparseable": self.unparseable[:3], "unlabelled": self.unlabelled[:3]}}


def check_root(root: str | Path, corpus_name: str, folder_hint: str) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise CorpusError(f"{corpus_name} folder not found: {root} — place your copy at {folder_hint} "
                          "(see dataset/README.md) or pass the folder that holds it")
    if not root.is_dir():
        raise CorpusError(f"{root} is a file, not a folder — pass the {corpus_name} folder")
    return root.resolve()


def scan_wavs(root: Path, report: ScanReport) -> dict[str, Path]:
    """Map file stem -> path for every ``.wav`` under ``root`` at any depth, sorted by path.

    Junk (``__MACOSX/``, ``._*``, ``.DS_Store``) is counted in ``report.junk``; a stem found
    again (archives nested twice hold two copies) is counted in ``report.duplicates``.
    """
    found: dict[str, Path] = {}
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        for name in list(subdirs):
            if name in JUNK_DIRECTORIES:
                subdirs.remove(name)
                for inner_dir, _, inner_files in os.walk(Path(directory) / name):
                    report.junk.extend(str(Path(inner_dir) / f) for f in inner_files)
        for name in sorted(files):
            path = Path(directory) / name
            if name.startswith("._") or name in JUNK_FILES:
                report.junk.append(str(path))
            elif name.lower().endswith(".wav"):
                stem = path.stem
                if stem in found:
                    report.duplicates.append(str(path))
                else:
                    found[stem] = path
            else:
                report.other_files += 1
    return found


def audio_info(paths: list[Path]) -> pd.DataFrame:
    """Sample rate, sample count and duration from each file's header (no samples read)."""
    rows = []
    for path in paths:
        try:
            info = sf.info(str(path))
            rows.append((info.samplerate, info.frames, info.frames / info.samplerate))
        except Exception:  # a corrupt header: the audio stage reports it when it reads the file
            rows.append((0, 0, float("nan")))
    return pd.DataFrame(rows, columns=["sample_rate", "n_samples", "duration"])


def finish_manifest(rows: list[dict], report: ScanReport, root: Path, columns: list[str]) -> pd.DataFrame:
    """Rows -> DataFrame in the original's walk order (:func:`.walk_order.original_order`),
    with header info and the scan report."""
    frame = original_order(pd.DataFrame(rows, columns=columns))
    frame = pd.concat([frame, audio_info([Path(p) for p in frame["path"]])], axis=1)
    frame.attrs["root"] = str(root)
    frame.attrs["report"] = report.as_dict()
    skipped = {k: v for k, v in report.skipped().items() if v}
    if skipped:
        log.warning("%s: %d utterances; skipped %s", root, len(frame),
                    ", ".join(f"{v} {k}" for k, v in skipped.items()))
    return frame


def list_examples(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(Path(n).name for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
