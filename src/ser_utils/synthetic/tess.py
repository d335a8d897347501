"""Synthetic TESS: the layout facts of the Kaggle copy (nested folders, the 14 folder names,
words, sample rates, macOS junk), the spec of every file, and :func:`make_tess`."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..config import TESS_LABELS
from .phonetics import Syllable, word_syllable
from .tree import (
    GENERATOR_VERSION,
    check_options,
    finish_tree,
    is_complete,
    start_tree,
    write_bytes,
    write_files,
)
from .voice import TESS_CODE, speaker_params

log = logging.getLogger(__name__)

TESS_SAMPLE_RATE = 24_414
TESS_FOOD_FEAR_SAMPLE_RATE = 96_000

_TESS_OUTER = "tess toronto emotional speech set data"
_TESS_INNER = "TESS Toronto emotional speech set data"
#: (speaker, file-name emotion) -> folder, with the Kaggle copy's inconsistent case and wording.
TESS_FOLDERS: dict[tuple[str, str], str] = {
    ("OAF", "angry"): "OAF_angry",
    ("OAF", "disgust"): "OAF_disgust",
    ("OAF", "fear"): "OAF_Fear",
    ("OAF", "happy"): "OAF_happy",
    ("OAF", "neutral"): "OAF_neutral",
    ("OAF", "ps"): "OAF_Pleasant_surprise",
    ("OAF", "sad"): "OAF_Sad",
    ("YAF", "angry"): "YAF_angry",
    ("YAF", "disgust"): "YAF_disgust",
    ("YAF", "fear"): "YAF_fear",
    ("YAF", "happy"): "YAF_happy",
    ("YAF", "neutral"): "YAF_neutral",
    ("YAF", "ps"): "YAF_pleasant_surprised",
    ("YAF", "sad"): "YAF_sad",
}
_TESS_SPEAKERS = ("OAF", "YAF")
_TESS_EMOTIONS = tuple(
    TESS_LABELS
)  # file-name suffixes: angry, disgust, fear, happy, neutral, ps, sad

# The NU-6 words of TESS ("Say the word ___"); topped up to 200 by _tess_words().
_TESS_WORD_LIST = [
    "back",
    "bar",
    "base",
    "bath",
    "bean",
    "beg",
    "bite",
    "boat",
    "bone",
    "book",
    "bought",
    "burn",
    "cab",
    "calm",
    "came",
    "cause",
    "chain",
    "chair",
    "chalk",
    "chat",
    "check",
    "cheek",
    "chief",
    "choice",
    "cool",
    "dab",
    "dead",
    "deep",
    "dime",
    "dip",
    "ditch",
    "dodge",
    "dog",
    "doll",
    "door",
    "fail",
    "fall",
    "far",
    "fat",
    "fit",
    "five",
    "food",
    "gap",
    "gas",
    "gaze",
    "germ",
    "get",
    "gin",
    "goal",
    "good",
    "goose",
    "gun",
    "half",
    "hall",
    "hash",
    "hate",
    "have",
    "haze",
    "hire",
    "hit",
    "hole",
    "home",
    "hurl",
    "hush",
    "jail",
    "jar",
    "join",
    "judge",
    "jug",
    "juice",
    "keen",
    "keep",
    "keg",
    "kick",
    "kill",
    "king",
    "kite",
    "knock",
    "late",
    "laud",
    "lean",
    "learn",
    "lease",
    "lid",
    "life",
    "limb",
    "live",
    "loaf",
    "long",
    "lore",
    "lose",
    "lot",
    "love",
    "luck",
    "make",
    "match",
    "merge",
    "mess",
    "met",
    "mill",
    "mob",
    "mode",
    "mood",
    "moon",
    "mop",
    "mouse",
    "nag",
    "name",
    "near",
    "neat",
    "nice",
    "note",
    "numb",
    "pad",
    "page",
    "pain",
    "pass",
    "pearl",
    "peg",
    "perch",
    "phone",
    "pick",
    "pike",
    "pole",
    "pool",
    "puff",
    "rag",
    "raid",
    "rain",
    "raise",
    "rat",
    "reach",
    "read",
    "red",
    "ring",
    "ripe",
    "road",
    "room",
    "rose",
    "rot",
    "rough",
    "rush",
    "said",
    "sail",
    "search",
    "seize",
    "sell",
    "shack",
    "shall",
    "shawl",
    "sheep",
    "shirt",
    "should",
    "shout",
    "size",
    "soap",
    "soup",
    "sour",
    "south",
    "sub",
    "such",
    "sure",
    "take",
    "talk",
    "tape",
    "team",
    "tell",
    "thin",
    "third",
    "thought",
    "thumb",
    "time",
    "tip",
    "tire",
    "ton",
    "tool",
    "tough",
    "turn",
    "vine",
    "voice",
    "void",
    "vote",
    "wag",
    "walk",
    "wash",
    "week",
    "wheat",
    "when",
    "which",
    "whip",
    "white",
    "wife",
    "wire",
    "witch",
    "yearn",
    "yes",
    "young",
    "youth",
]
_TESS_TOP_UP = ("death", "bed", "tail", "dot", "peach", "nail", "bus", "cat")


def _tess_words() -> tuple[str, ...]:
    words = list(dict.fromkeys(_TESS_WORD_LIST))
    for extra in _TESS_TOP_UP:
        if len(words) == 200:
            break
        if extra not in words:
            words.append(extra)
    return tuple(words[:200])


TESS_WORDS: tuple[str, ...] = _tess_words()
TESS_MINI_WORDS: tuple[str, ...] = (
    "back",
    "bean",
    "chalk",
    "food",
    "keen",
    "mood",
    "pick",
    "said",
    "shirt",
    "youth",
)

# The carrier phrase "Say the word" before each target word.
_TESS_CARRIER = (
    Syllable("s", "ei", "", 1, True),
    Syllable("dh", "schwa", "", 0, True),
    Syllable("l", "er", "b", 1, True),
)


# AppleDouble header of a macOS resource-fork file (the "._name" files of __MACOSX).
_APPLE_DOUBLE = (
    b"\x00\x05\x16\x07\x00\x02\x00\x00"
    + b"Mac OS X        "
    + b"\x00\x01"
    + b"\x00\x00\x00\x09\x00\x00\x00\x32\x00\x00\x00\x20"
    + b"\x00" * 32
)
_DS_STORE = b"\x00\x00\x00\x01Bud1" + b"\x00" * 24


def tess_specs(size: str, seed: int) -> list[dict]:
    words = {"full": TESS_WORDS, "mini": TESS_MINI_WORDS, "tiny": TESS_MINI_WORDS[:5]}[size]
    specs = []
    for speaker_index, speaker_name in enumerate(_TESS_SPEAKERS):
        speaker = speaker_params(
            np.random.default_rng([seed, TESS_CODE, 2, speaker_index]), speaker_name
        )
        for emotion in _TESS_EMOTIONS:
            folder = TESS_FOLDERS[speaker_name, emotion]
            for word in words:
                name = f"{speaker_name}_{word}_{emotion}.wav"
                target = word_syllable(word)
                length_factor = (
                    1.0 + 0.04 * (target.onset in ("ch", "s", "sh")) + 0.03 * bool(target.coda)
                )
                specs.append(
                    {
                        "index": len(specs),
                        "corpus_code": TESS_CODE,
                        "path": f"{_TESS_OUTER}/{_TESS_INNER}/{folder}/{name}",
                        "sample_rate": TESS_FOOD_FEAR_SAMPLE_RATE
                        if name == "OAF_food_fear.wav"
                        else TESS_SAMPLE_RATE,
                        "speaker": speaker,
                        "weights": {TESS_LABELS[emotion]: 1.0},
                        # acted, prototypical portrayals: strong and consistent
                        "intensity": (0.8, 1.15),
                        "spread": 0.6,
                        "syllables": _TESS_CARRIER + (target,),
                        "length_factor": length_factor,
                    }
                )
    return specs


def make_tess(
    root: str | os.PathLike, *, size: str = "mini", seed: int = 0, n_jobs: int | None = None
) -> Path:
    """Write a synthetic TESS in the layout of the Kaggle copy.

    ``root/tess toronto emotional speech set data/TESS Toronto emotional speech set data/
    <folder>/{OAF|YAF}_{word}_{emotion}.wav`` with the 14 real folder names, mono 16-bit
    PCM at 24 414 Hz (``OAF_food_fear.wav`` at 96 kHz, as in the real corpus), 1.25-2.98 s
    each, plus macOS junk (``__MACOSX/…/._*.wav``, one ``.DS_Store``).

    Parameters
    ----------
    root : path
        The corpus folder (e.g. ``<data>/TESS``); created if missing.
    size : {'tiny', 'mini', 'full'}
        ``'mini'``: 10 words (including *food*), 140 files. ``'tiny'``: the first 5 of
        them (*food* included), 70 files. ``'full'``: the 200 words of
        TESS, 2800 files, 400 per emotion.
    seed : int
        Seed of the generator; the same seed writes byte-identical files.
    n_jobs : int, optional
        Worker processes (joblib); default 1 for small trees and all cores otherwise. The
        files do not depend on it.

    Returns
    -------
    pathlib.Path
        ``root``.

    Raises
    ------
    ValueError
        Unknown ``size`` or a negative ``seed``.
    CorpusError
        ``root`` holds files that this module did not write (a real corpus, say).

    Examples
    --------
    >>> import tempfile
    >>> root = make_tess(Path(tempfile.mkdtemp()) / "TESS", size="mini", seed=0, n_jobs=1)
    >>> len(list(root.rglob("[OY]AF_*.wav")))
    140
    """
    check_options(size, seed)
    root = Path(root)
    params = {"corpus": "tess", "size": size, "seed": int(seed), "version": GENERATOR_VERSION}
    if is_complete(root, params, _TESS_OUTER):
        return root
    start_tree(root, params, (_TESS_OUTER, "__MACOSX"))
    specs = tess_specs(size, int(seed))
    log.info("writing %d synthetic TESS files to %s", len(specs), root)
    write_files(root, specs, int(seed), n_jobs)
    inner = root / _TESS_OUTER / _TESS_INNER
    junk = [
        spec["path"]
        for spec in specs
        if spec["path"].endswith(("_back_angry.wav", "_food_fear.wav"))
    ]
    junk += [spec["path"] for spec in specs[:: max(1, len(specs) // 4)]]
    for path in dict.fromkeys(junk):
        folder, name = path.rsplit("/", 1)
        write_bytes(root / "__MACOSX" / folder / f"._{name}", _APPLE_DOUBLE)
    write_bytes(inner / ".DS_Store", _DS_STORE)
    finish_tree(root, params, len(specs))
    return root
