"""Phonetics of the synthetic voice: vowel formants, consonant classes, syllables from a word's
spelling and pseudo-sentences of random syllables."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Syllable",
    "word_syllable",
    "random_sentence",
    "VOWELS",
    "NASAL",
    "LIQUID",
    "BANDWIDTHS",
]


# Adult male formants F1-F4 (Hz), Peterson & Barney / Hillenbrand; F5 added below.
_VOWELS_F1_F4 = {
    "i": (270, 2290, 3010, 3500),
    "I": (390, 1990, 2550, 3500),
    "ei": (480, 2100, 2700, 3500),
    "E": (530, 1840, 2480, 3500),
    "ae": (660, 1720, 2410, 3500),
    "a": (730, 1090, 2440, 3500),
    "O": (570, 840, 2410, 3400),
    "o": (500, 900, 2400, 3400),
    "U": (440, 1020, 2240, 3400),
    "u": (300, 870, 2240, 3400),
    "V": (640, 1190, 2390, 3500),
    "er": (490, 1350, 1690, 3300),
    "schwa": (500, 1500, 2500, 3500),
    "ai": (700, 1350, 2500, 3500),
    "au": (700, 1100, 2450, 3400),
    "oi": (550, 1000, 2450, 3400),
}
VOWELS = {name: formants + (4500,) for name, formants in _VOWELS_F1_F4.items()}
_VOWEL_NAMES = tuple(VOWELS)
_VOWEL_WEIGHTS = np.array([8, 9, 5, 7, 6, 5, 4, 4, 2, 4, 6, 3, 12, 4, 2, 1], dtype=float)
NASAL = (250, 1100, 2200, 3300, 4500)
LIQUID = (350, 1050, 2500, 3400, 4500)
BANDWIDTHS = np.array([70.0, 90.0, 130.0, 180.0, 300.0])
# Consonant classes: p voiceless plosive, b voiced plosive, ch affricate, s, sh, f, h,
# m nasal, l liquid/glide, dh weak voiced fricative.
_ONSETS = ("p", "b", "ch", "s", "sh", "f", "h", "m", "l", "dh", "")
_ONSET_WEIGHTS = np.array([10, 8, 2, 8, 3, 4, 3, 8, 9, 3, 6], dtype=float)
_CODAS = ("", "p", "b", "s", "m", "l", "f")
_CODA_WEIGHTS = np.array([10, 6, 4, 4, 5, 4, 2], dtype=float)


@dataclass(frozen=True)
class Syllable:
    onset: str
    vowel: str
    coda: str
    stress: int  # 0 unstressed, 1 stressed, 2 nuclear accent
    word_end: bool


def _consonant_class(letters: str, *, onset: bool) -> str:
    if not letters:
        return ""
    for prefix, kind in (
        ("ch", "ch"),
        ("sh", "sh"),
        ("th", "f"),
        ("wh", "h"),
        ("ph", "f"),
        ("kn", "m"),
        ("tch", "ch"),
        ("ck", "p"),
        ("dg", "ch"),
    ):
        if letters.startswith(prefix) if onset else letters.endswith(prefix):
            return kind
    letter = letters[0] if onset else letters[-1]
    return {
        "p": "p",
        "t": "p",
        "k": "p",
        "c": "p",
        "q": "p",
        "b": "b",
        "d": "b",
        "g": "b",
        "j": "ch",
        "s": "s",
        "z": "s",
        "x": "s",
        "f": "f",
        "v": "f",
        "h": "h",
        "m": "m",
        "n": "m",
        "l": "l",
        "r": "l",
        "w": "l",
        "y": "l",
    }.get(letter, "")


def _word_vowel(word: str) -> str:
    for pattern, vowel in (
        ("ough", "O"),
        ("oo", "u"),
        ("ou", "au"),
        ("oi", "oi"),
        ("oy", "oi"),
        ("ee", "i"),
        ("ea", "i"),
        ("ie", "i"),
        ("ei", "i"),
        ("ai", "ei"),
        ("ay", "ei"),
        ("ar", "a"),
        ("er", "er"),
        ("ir", "er"),
        ("ur", "er"),
        ("or", "O"),
        ("aw", "O"),
        ("au", "O"),
        ("al", "O"),
        ("oa", "o"),
        ("ui", "u"),
    ):
        if pattern in word:
            return vowel
    if len(word) >= 4 and word.endswith("e") and word[-3] in "aiou":
        return {"a": "ei", "i": "ai", "o": "o", "u": "u"}[word[-3]]
    for letter in word:
        if letter in "aeiou":
            return {"a": "ae", "e": "E", "i": "I", "o": "a", "u": "V"}[letter]
    return "I"


def word_syllable(word: str) -> Syllable:
    """The target word of TESS as one syllable: onset, vowel and coda from its spelling."""
    vowels = [i for i, c in enumerate(word) if c in "aeiouy" and i > 0 or c in "aeiou"]
    first = vowels[0] if vowels else len(word)
    last = max((i for i, c in enumerate(word.rstrip("e") or word) if c in "aeiou"), default=first)
    onset = _consonant_class(word[:first], onset=True)
    coda = _consonant_class((word.rstrip("e") or word)[last + 1 :], onset=False)
    coda = {"ch": "s", "sh": "s", "h": ""}.get(coda, coda)
    return Syllable(onset, _word_vowel(word), coda, 2, True)


def random_sentence(rng: np.random.Generator, n_syllables: int) -> tuple[Syllable, ...]:
    """A fixed pseudo-sentence: words of 1-3 syllables, stress on content words, the last
    stressed syllable carrying the nuclear accent."""
    syllables: list[Syllable] = []
    while len(syllables) < n_syllables:
        length = min(int(rng.choice([1, 1, 1, 2, 2, 3])), n_syllables - len(syllables))
        content = length > 1 or rng.random() < 0.45
        for position in range(length):
            onset = _ONSETS[rng.choice(len(_ONSETS), p=_ONSET_WEIGHTS / _ONSET_WEIGHTS.sum())]
            vowel = _VOWEL_NAMES[
                rng.choice(len(_VOWEL_NAMES), p=_VOWEL_WEIGHTS / _VOWEL_WEIGHTS.sum())
            ]
            coda = _CODAS[rng.choice(len(_CODAS), p=_CODA_WEIGHTS / _CODA_WEIGHTS.sum())]
            stress = 1 if content and position == 0 else 0
            syllables.append(
                Syllable(
                    onset,
                    "schwa" if stress == 0 and rng.random() < 0.5 else vowel,
                    coda,
                    stress,
                    position == length - 1,
                )
            )
    stressed = [i for i, s in enumerate(syllables) if s.stress] or [len(syllables) - 1]
    nuclear = syllables[stressed[-1]]
    syllables[stressed[-1]] = Syllable(
        nuclear.onset, nuclear.vowel, nuclear.coda, 2, nuclear.word_end
    )
    return tuple(syllables)
