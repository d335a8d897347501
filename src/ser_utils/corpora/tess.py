"""TESS — Toronto Emotional Speech Set.

Expected layout (the Kaggle copy; any nesting depth is accepted)::

    TESS/
      tess toronto emotional speech set data/          # often nested twice
        TESS Toronto emotional speech set data/
          OAF_angry/OAF_back_angry.wav
          OAF_Fear/ … OAF_Pleasant_surprise/ … YAF_pleasant_surprised/ …
      __MACOSX/…                                       # ignored, counted as junk

2800 files = 2 speakers (OAF, YAF) x 7 emotions x 200 words, named
``{OAF|YAF}_{word}_{emotion}.wav``. The label is the file-name suffix (``ps`` =
pleasant surprise -> ``surprise``), never the folder name, whose case and wording vary.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..config import TESS_LABELS
from ..errors import CorpusError
from ._scan import ScanReport, check_root, finish_manifest, list_examples, scan_wavs
from ._scan import with_copies as counted_with_copies

__all__ = ["load_tess", "parse_tess_name"]

_NAME = re.compile(r"^(OAF|YAF)_(.+)_(" + "|".join(TESS_LABELS) + r")$", re.IGNORECASE)
COLUMNS = ["path", "utterance_id", "corpus", "label", "speaker", "gender", "word"]


def parse_tess_name(stem: str) -> dict | None:
    """``OAF_back_ps`` -> ``{'speaker': 'OAF', 'word': 'back', 'label': 'surprise'}``; None if not TESS."""
    match = _NAME.match(stem)
    if not match:
        return None
    speaker, word, emotion = match.groups()
    return {"speaker": speaker.upper(), "word": word.lower(), "label": TESS_LABELS[emotion.lower()]}


def load_tess(root: str | Path, *, strict: bool = False) -> pd.DataFrame:
    """One row per TESS utterance, in the original's walk order (:mod:`ser_utils.corpora.walk_order`).

    Parameters
    ----------
    root : path
        The folder holding the corpus (at any depth below it).
    strict : bool
        Fail on wav files whose names do not parse, instead of skipping and counting them.

    Returns
    -------
    pandas.DataFrame
        Columns ``path`` (absolute), ``utterance_id`` (file stem), ``corpus`` ('tess'),
        ``label``, ``speaker`` (OAF | YAF), ``gender`` ('F'), ``word``, ``sample_rate``,
        ``n_samples``, ``duration``; ``attrs['report']`` counts what was skipped.

    Examples
    --------
    A two-file copy in the release's layout (the real one: 2800 files, 400 per emotion):

    >>> import tempfile
    >>> import numpy as np
    >>> import soundfile as sf
    >>> root = Path(tempfile.mkdtemp()) / "TESS"
    >>> for folder, name in (("OAF_angry", "OAF_back_angry"), ("YAF_pleasant_surprised", "YAF_back_ps")):
    ...     (root / folder).mkdir(parents=True)
    ...     sf.write(root / folder / f"{name}.wav", np.zeros(2400, np.int16), 24_414)
    >>> manifest = load_tess(root)
    >>> manifest[["utterance_id", "label", "speaker", "word"]].values.tolist()
    [['OAF_back_angry', 'angry', 'OAF', 'back'], ['YAF_back_ps', 'surprise', 'YAF', 'back']]
    """
    root = check_root(root, "TESS", "dataset/TESS/")
    report = ScanReport()
    wavs = scan_wavs(root, report)
    if not wavs:
        raise CorpusError(f"no .wav files found under {root} — unzip the Kaggle TESS archive there")
    rows = []
    for stem, path in wavs.items():
        parsed = parse_tess_name(stem)
        if parsed is None:
            report.unparseable.append(str(path))
            continue
        rows.append(
            {"path": str(path), "utterance_id": stem, "corpus": "tess", "gender": "F", **parsed}
        )
    if report.unparseable and (strict or not rows):
        raise CorpusError(
            f"{counted_with_copies(report.unparseable, report)} wav files under {root} are not named "
            f"{{OAF|YAF}}_{{word}}_{{emotion}}.wav: {list_examples(report.unparseable)} — "
            "rename or remove them"
        )
    return finish_manifest(rows, report, root, COLUMNS)
