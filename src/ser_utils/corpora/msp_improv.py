"""MSP-IMPROV (Busso et al., IEEE TAC 2017).

Expected layout (any nesting depth is accepted; archives unzipped per session often
nest twice, and some releases put everything under ``Audio/``)::

    MSP-IMPROV/
      Evaluation.txt            # or Evalution.txt (sic); here or one level up
      session1/S01A/R/MSP-IMPROV-S01A-F01-R-FF01.wav
      session1/S01A/T/…  session1/S01A/P/…  session1/S01A/S/…
      …  session6/…

File name ``MSP-IMPROV-S01A-F01-R-FF01``: [12:14] sentence, [14] the scenario's target
(acted) emotion, [16] gender, [17:19] session, [20] recording type (R read, T target
improvised, P/S the other two conditions), then a turn code.

The label is the **consensus** of ``Evaluation.txt``: the first line of each block, e.g.
``UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:3.000000; V:3.500000; D:3.000000 ; N:3.000000;``
(A angry, H happy, S sad, N neutral, O -> 'other', X -> 'no_agreement'); rater lines
follow and are counted by distinct rater id. Several consensus lines for one file: the
first is used and disagreeing ones are reported; stray lines are ignored and counted.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import MSP_IMPROV_LABELS, NO_AGREEMENT_LABEL
from ..errors import CorpusError
from ._scan import ScanReport, check_root, finish_manifest, list_examples, scan_wavs
from ._scan import with_copies as counted_with_copies

__all__ = [
    "load_msp_improv",
    "parse_msp_improv_name",
    "parse_evaluation_file",
    "find_label_file",
    "LABEL_FILE_NAMES",
    "ORIGINAL_LABEL_STRINGS",
    "original_label_strings",
]

#: The manifest's labels the original's ``labels.npy`` spelt otherwise: it kept Evaluation.txt's
#: letter for no agreement, so its own mask ``(labels == 'other') | (labels == 'X')`` works on them.
ORIGINAL_LABEL_STRINGS: dict[str, str] = {NO_AGREEMENT_LABEL: "X"}


def original_label_strings(labels) -> np.ndarray:
    """``labels`` as the original's ``labels.npy`` spelt them (``'X'`` for no agreement), strings.

    >>> original_label_strings(["angry", "no_agreement", "other"]).tolist()
    ['angry', 'X', 'other']
    """
    labels = pd.Series(np.asarray(labels, dtype=str))
    return labels.replace(ORIGINAL_LABEL_STRINGS).to_numpy(dtype=str)


LABEL_FILE_NAMES = ("Evaluation.txt", "Evalution.txt")
_NAME = re.compile(r"^MSP-IMPROV-S(\d{2})([AHSN])-([FM])(\d{2})-([PRST])-(\w+)$")
_CONSENSUS_NAME = re.compile(r"^(?:UTD|MSP)-IMPROV-(\S+?)(?:\.avi|\.wav)?$")
_RATER_LABEL = re.compile(r"^(?:angry|happy|sad|neutral|other)", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"^[AVDN]\s*:")
COLUMNS = [
    "path",
    "utterance_id",
    "corpus",
    "label",
    "speaker",
    "gender",
    "session",
    "sentence",
    "acted_label",
    "recording_type",
    "turn",
    "arousal",
    "valence",
    "dominance",
    "naturalness",
    "n_raters",
]


def parse_msp_improv_name(stem: str) -> dict | None:
    """``MSP-IMPROV-S01A-F01-R-FF01`` -> sentence 1, acted 'angry', speaker 'F01', … ; None if not."""
    match = _NAME.match(stem)
    if not match:
        return None
    sentence, acted, gender, session, recording_type, turn = match.groups()
    return {
        "sentence": int(sentence),
        "acted_label": MSP_IMPROV_LABELS[acted],
        "gender": gender,
        "session": int(session),
        "speaker": f"{gender}{session}",
        "recording_type": recording_type,
        "turn": turn,
    }


def find_label_file(root: Path) -> Path:
    """``Evaluation.txt`` or ``Evalution.txt`` at ``root`` or its parent, in any letter case."""
    wanted = {name.lower() for name in LABEL_FILE_NAMES}
    for folder in (root, root.parent):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in entries:
            if name.lower() not in wanted:
                continue
            path = folder / name
            if path.is_file():
                return path
            raise CorpusError(
                f"{path} is {'a folder' if path.is_dir() else 'not a regular file'}, not the label "
                "file — put the Evaluation.txt of the MSP-IMPROV release in its place"
            )
    raise CorpusError(
        f"Evaluation.txt not found under {root} — place the label file from the MSP-IMPROV "
        "release (Evaluation.txt or Evalution.txt) at the corpus root"
    )


def _label_text(path: Path) -> str:
    """The label file's text: UTF-8 with or without a byte-order mark, or UTF-16 (a file saved
    as "Unicode" by a Windows editor), told apart by its byte-order mark or its NUL bytes."""
    try:
        data = path.read_bytes()
    except PermissionError:
        raise CorpusError(
            f"{path}: permission denied — make the label file readable (chmod a+r)"
        ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:200]:  # UTF-16 without a byte-order mark: every other byte is NUL
        return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be", errors="replace")
    # utf-8-sig: a byte-order mark written by some editors must not hide the first consensus line.
    return data.decode("utf-8-sig", errors="replace")


def _value(field: str, key: str, source: str) -> float:
    name, _, value = field.partition(":")
    if name.strip() != key:
        raise CorpusError(
            f"{source}: expected '{key}:<value>' but found {field.strip()!r} — "
            "is this the MSP-IMPROV Evaluation.txt?"
        )
    value = value.strip()
    try:
        return float(value) if value else math.nan
    except ValueError:
        raise CorpusError(
            f"{source}: {key} value {value!r} is not a number — fix or restore the label file"
        ) from None


def _rater_id(fields: list[str]) -> str | None:
    """The rater id of a rater line ``<id>; <Angry|Happy|…>; <secondary>; A:…; V:…; …``, else None."""
    if len(fields) < 3 or not fields[0] or not _RATER_LABEL.match(fields[1]):
        return None
    if not any(_ATTRIBUTE.match(f) for f in fields[2:]):
        return None
    return fields[0]


def parse_evaluation_file(path: str | Path) -> pd.DataFrame:
    """Consensus labels and mean attributes from an MSP-IMPROV ``Evaluation.txt``.

    Read as UTF-8 with or without a byte-order mark, or as UTF-16. A block starts with a consensus line;
    the rater lines under it (``<rater id>; <Angry|Happy|Sad|Neutral|Other…>; …; A:…``) are
    counted by distinct rater id, so a rater listed twice counts once. Lines that are
    neither (headers, notes, stray text) are ignored and counted in
    ``attrs['ignored_lines']``. When one file has several consensus lines, the **first**
    (in file order) gives the label and attributes, raters of all its blocks are counted,
    and the files whose consensus lines disagree are listed in ``attrs['conflicting']``.

    Returns
    -------
    pandas.DataFrame indexed by ``utterance_id`` (``MSP-IMPROV-…`` stem) with columns
    ``consensus`` (letter), ``label``, ``arousal``, ``valence``, ``dominance``,
    ``naturalness`` (float, NaN allowed) and ``n_raters`` (distinct rater ids);
    ``attrs`` holds ``ignored_lines`` (int) and ``conflicting`` (list of utterance ids).
    """
    path = Path(path)
    entries: dict[str, dict] = {}
    raters: dict[str, set[str]] = {}
    conflicting: dict[str, None] = {}  # an ordered set
    current: str | None = None
    ignored = 0
    for number, line in enumerate(_label_text(path).splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        fields = [f.strip() for f in line.rstrip(";").split(";")]
        name = _CONSENSUS_NAME.match(fields[0])
        if name is None:
            rater = _rater_id(fields) if current is not None else None
            if rater is None:
                ignored += 1
            else:
                raters[current].add(rater)
            continue
        source = f"{path.name} line {number}"
        if len(fields) < 6 or fields[1] not in MSP_IMPROV_LABELS:
            raise CorpusError(
                f"{source}: cannot read consensus line {line[:80]!r} — expected "
                "'UTD-IMPROV-<id>.avi; <A|H|S|N|O|X>; A:…; V:…; D:… ; N:…;'"
            )
        current = "MSP-IMPROV-" + name.group(1)
        entry = {
            "consensus": fields[1],
            "label": MSP_IMPROV_LABELS[fields[1]],
            "arousal": _value(fields[2], "A", source),
            "valence": _value(fields[3], "V", source),
            "dominance": _value(fields[4], "D", source),
            "naturalness": _value(fields[5], "N", source),
        }
        if current in entries and entries[current]["consensus"] != entry["consensus"]:
            conflicting[current] = None
        entries.setdefault(current, entry)
        raters.setdefault(current, set())
    if not entries:
        raise CorpusError(
            f"{path}: no consensus lines found — is this the MSP-IMPROV Evaluation.txt?"
        )
    frame = pd.DataFrame.from_dict(entries, orient="index")
    frame["n_raters"] = [len(raters[utterance_id]) for utterance_id in frame.index]
    frame.index.name = "utterance_id"
    frame.attrs["ignored_lines"] = ignored
    frame.attrs["conflicting"] = list(conflicting)
    return frame


def load_msp_improv(root: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """One row per MSP-IMPROV speaking turn found on disk, in the original's walk order.

    Rows come as a Windows ``os.walk`` of ``root`` lists the files (session folder →
    sentence folder → type folder → file, names compared case-insensitively; see
    :mod:`ser_utils.corpora.walk_order`): the order the original study's folds were cut from.

    Parameters
    ----------
    root : path
        The corpus folder (label file at its root or one level up, audio at any depth).
    strict : bool
        Fail on wav files with no label entry or an unparseable name, instead of skipping
        and counting them.

    Returns
    -------
    pandas.DataFrame
        Columns ``path``, ``utterance_id``, ``corpus`` ('msp-improv'), ``label`` (consensus),
        ``speaker`` (e.g. 'F01'), ``gender``, ``session`` (1–6), ``sentence``,
        ``acted_label``, ``recording_type``, ``turn``, ``arousal``, ``valence``,
        ``dominance``, ``naturalness``, ``n_raters``, ``sample_rate``, ``n_samples``,
        ``duration``; ``attrs['report']`` counts what was skipped.

    Examples
    --------
    The synthetic mini corpus, written in the real layout (the real corpus has 620 R files):

    >>> import tempfile
    >>> from ser_utils import synthetic
    >>> root = synthetic.make_msp_improv(Path(tempfile.mkdtemp()) / "MSP-IMPROV", size="mini", n_jobs=1)
    >>> manifest = load_msp_improv(root)
    >>> int(manifest.recording_type.value_counts()["R"]), manifest["session"].nunique()
    (96, 6)
    """
    root = check_root(root, "MSP-IMPROV", "dataset/MSP-IMPROV/")
    labels = parse_evaluation_file(find_label_file(root))
    report = ScanReport(ignored_label_lines=labels.attrs["ignored_lines"])
    wavs = scan_wavs(root, report)
    if not wavs:
        raise CorpusError(
            f"no .wav files found under {root} — place the sessionN/ folders of MSP-IMPROV there"
        )
    rows = []
    for stem, path in wavs.items():
        parsed = parse_msp_improv_name(stem)
        if parsed is None:
            report.unparseable.append(str(path))
            continue
        if stem not in labels.index:
            report.unlabelled.append(str(path))
            continue
        entry = labels.loc[stem]
        rows.append(
            {
                "path": str(path),
                "utterance_id": stem,
                "corpus": "msp-improv",
                **parsed,
                **{
                    k: entry[k]
                    for k in ("label", "arousal", "valence", "dominance", "naturalness", "n_raters")
                },
            }
        )
    if report.unparseable and (strict or not rows):
        raise CorpusError(
            f"{counted_with_copies(report.unparseable, report)} wav files under {root} are not named "
            f"MSP-IMPROV-SxxE-Gnn-T-turn.wav: {list_examples(report.unparseable)} — rename or remove them"
        )
    if report.unlabelled and (strict or not rows):
        raise CorpusError(
            f"{counted_with_copies(report.unlabelled, report)} wav files under {root} have no entry in the label file: "
            f"{list_examples(report.unlabelled)} — use the Evaluation.txt of the same release"
        )
    report.labels_without_audio = len(set(labels.index) - set(wavs))
    report.conflicting_labels = [
        utterance_id for utterance_id in labels.attrs["conflicting"] if utterance_id in wavs
    ]
    frame = finish_manifest(rows, report, root, COLUMNS)
    frame["n_raters"] = frame["n_raters"].astype(int)
    return frame
