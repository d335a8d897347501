"""Walking a corpus folder: wav files at any depth, junk counted, duplicates resolved."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import soundfile as sf

from ..audio import file_problem, not_a_regular_file
from ..errors import CorpusError
from .walk_order import original_order

log = logging.getLogger(__name__)

#: Files and folders left by archivers and file browsers, never audio.
JUNK_DIRECTORIES = frozenset({"__MACOSX", ".git", ".ipynb_checkpoints"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
#: Audio formats the loaders do not read: counted and reported, so none is left out unseen.
OTHER_AUDIO_SUFFIXES = frozenset(
    {".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus", ".aif", ".aiff", ".wma"}
)


@dataclass
class ScanReport:
    """What a loader found besides the utterances it returns (kept in ``DataFrame.attrs``)."""

    junk: list[str] = field(default_factory=list)  # __MACOSX, ._*, .DS_Store
    other_files: int = 0  # e.g. .avi next to the .wav in older MSP-IMPROV releases
    duplicates: list[str] = field(default_factory=list)  # same file name found twice
    unparseable: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)
    not_wav: list[str] = field(default_factory=list)  # .flac, .ogg, .mp3 …: not read
    labels_without_audio: int = 0
    #: duplicates whose first copy is unusable (corrupt, truncated, empty): the good copy is used
    bad_copies_replaced: list[str] = field(default_factory=list)
    #: files with several consensus lines that disagree (the first is used)
    conflicting_labels: list[str] = field(default_factory=list)
    #: lines of the label file that are neither consensus nor rater lines (ignored)
    ignored_label_lines: int = 0
    #: ``*.wav`` names that are not regular files (FIFOs, devices): never opened, left out
    not_regular: list[str] = field(default_factory=list)
    #: folders reached through symbolic links (followed) and links back into the walk (not followed)
    linked_folders: list[str] = field(default_factory=list)
    link_loops: list[str] = field(default_factory=list)

    def skipped(self) -> dict[str, int]:
        return {
            "junk": len(self.junk),
            "duplicates": len(self.duplicates),
            "unparseable": len(self.unparseable),
            "unlabelled": len(self.unlabelled),
            "not_wav": len(self.not_wav),
            "not_regular": len(self.not_regular),
        }

    def warnings(self) -> list[str]:
        """One line per anomaly that did not drop a file but changed how it was read."""
        lines = []
        if self.bad_copies_replaced:
            lines.append(
                f"{len(self.bad_copies_replaced)} unusable copies of duplicated files replaced by a good "
                f"copy ({list_examples(self.bad_copies_replaced)})"
            )
        if self.conflicting_labels:
            lines.append(
                f"{len(self.conflicting_labels)} files with disagreeing consensus lines in the label file, "
                f"first line used ({list_examples(self.conflicting_labels)})"
            )
        if self.ignored_label_lines:
            lines.append(
                f"{self.ignored_label_lines} lines of the label file are neither consensus nor rater "
                "lines (ignored)"
            )
        if self.not_regular:
            lines.append(
                f"{len(self.not_regular)} .wav names are not regular files (named pipes, devices) "
                f"and were left out unopened ({list_examples(self.not_regular)}) — replace them "
                "with the wav files they stand for"
            )
        if self.linked_folders:
            lines.append(
                f"{len(self.linked_folders)} folders reached through symbolic links were read "
                f"({list_examples(self.linked_folders)})"
            )
        if self.link_loops:
            lines.append(
                f"{len(self.link_loops)} symbolic links lead back to a folder already read and were "
                f"not followed ({list_examples(self.link_loops)})"
            )
        if self.not_wav:
            lines.append(
                f"{len(self.not_wav)} audio files not in wav format left out "
                f"({list_examples(self.not_wav)}) — convert them to wav to use them"
            )
        return lines

    def as_dict(self) -> dict:
        return {
            **self.skipped(),
            "other_files": self.other_files,
            "labels_without_audio": self.labels_without_audio,
            "bad_copies_replaced": len(self.bad_copies_replaced),
            "conflicting_labels": len(self.conflicting_labels),
            "ignored_label_lines": self.ignored_label_lines,
            "linked_folders": len(self.linked_folders),
            "link_loops": len(self.link_loops),
            "warnings": self.warnings(),
            "examples": {
                "junk": self.junk[:3],
                "duplicates": self.duplicates[:3],
                "unparseable": self.unparseable[:3],
                "unlabelled": self.unlabelled[:3],
                "not_wav": self.not_wav[:3],
                "not_regular": self.not_regular[:3],
                "conflicting_labels": self.conflicting_labels[:3],
            },
        }


def check_root(root: str | Path, corpus_name: str, folder_hint: str) -> Path:
    root = Path(root).expanduser()
    if not root.exists():
        raise CorpusError(
            f"{corpus_name} folder not found: {root} — place your copy at {folder_hint} "
            "(see dataset/README.md) or pass the folder that holds it"
        )
    if not root.is_dir():
        raise CorpusError(f"{root} is a file, not a folder — pass the {corpus_name} folder")
    return root.resolve()


def scan_wavs(root: Path, report: ScanReport) -> dict[str, Path]:
    """Map file stem -> path for every ``.wav`` under ``root`` at any depth, sorted by path.

    Junk (``__MACOSX/``, ``._*``, ``.DS_Store``) is counted in ``report.junk``; audio in
    other formats (``.flac``, ``.ogg``, ``.mp3`` …) in ``report.not_wav``; a stem found
    again (archives nested twice hold two copies) is counted in ``report.duplicates``, and
    the first copy is kept unless it is unusable (:func:`~ser_utils.audio.file_problem`)
    while the later one is not (``report.bad_copies_replaced``). Folders that are symbolic
    links are followed (``report.linked_folders``), except those leading back to a folder
    already walked (``report.link_loops``); a ``.wav`` name that is not a regular file (a FIFO,
    a device) is never opened (``report.not_regular``).
    """
    found: dict[str, Path] = {}
    visited = {os.path.realpath(root)}
    for directory, subdirs, files in os.walk(root, followlinks=True):
        subdirs.sort()
        for name in list(subdirs):
            inner = Path(directory) / name
            if name in JUNK_DIRECTORIES:
                subdirs.remove(name)
                for inner_dir, _, inner_files in os.walk(inner):
                    report.junk.extend(str(Path(inner_dir) / f) for f in inner_files)
                continue
            real = os.path.realpath(inner)
            if real in visited:  # a link back into the walk: following it would never end
                subdirs.remove(name)
                report.link_loops.append(str(inner))
                continue
            visited.add(real)
            if inner.is_symlink():
                report.linked_folders.append(str(inner))
        for name in sorted(files):
            path = Path(directory) / name
            if name.startswith("._") or name in JUNK_FILES:
                report.junk.append(str(path))
            elif name.lower().endswith(".wav") and not_a_regular_file(path):
                report.not_regular.append(str(path))
            elif name.lower().endswith(".wav"):
                stem = path.stem
                if stem not in found:
                    found[stem] = path
                elif file_problem(found[stem]) and not file_problem(path):
                    report.bad_copies_replaced.append(str(found[stem]))
                    report.duplicates.append(str(found[stem]))
                    found[stem] = path
                else:
                    report.duplicates.append(str(path))
            elif path.suffix.lower() in OTHER_AUDIO_SUFFIXES:
                report.not_wav.append(str(path))
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


def finish_manifest(
    rows: list[dict], report: ScanReport, root: Path, columns: list[str]
) -> pd.DataFrame:
    """Rows -> DataFrame in the original's walk order (:func:`.walk_order.original_order`),
    with header info and the scan report."""
    frame = original_order(pd.DataFrame(rows, columns=columns))
    frame = pd.concat([frame, audio_info([Path(p) for p in frame["path"]])], axis=1)
    frame.attrs["root"] = str(root)
    frame.attrs["report"] = report.as_dict()
    skipped = {k: v for k, v in report.skipped().items() if v}
    if skipped:
        log.warning(
            "%s: %d utterances; skipped %s",
            root,
            len(frame),
            ", ".join(f"{v} {k}" for k, v in skipped.items()),
        )
    for line in report.warnings():
        log.warning("%s: %s", root, line)
    return frame


def list_examples(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(Path(n).name for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def with_copies(paths: list[str], report: ScanReport) -> int:
    """How many wav files ``paths`` stand for, the duplicates of their names included (a folder
    of badly named files often holds each name several times)."""
    stems = {Path(path).stem for path in paths}
    return len(paths) + sum(Path(path).stem in stems for path in report.duplicates)
