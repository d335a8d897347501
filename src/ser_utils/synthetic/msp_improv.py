"""Synthetic MSP-IMPROV: the layout facts of the real releases (sessions, sentences, recording
types, folder layouts, label-file names), the consensus counts of the original study, the
rater labels of ``Evaluation.txt``, the spec of every file, and :func:`make_msp_improv`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import MSP_IMPROV_LABELS, check_choice
from .phonetics import random_sentence
from .tree import (
    GENERATOR_VERSION,
    check_options,
    finish_tree,
    is_complete,
    start_tree,
    write_bytes,
    write_files,
)
from .voice import MSP_CODE, speaker_params

log = logging.getLogger(__name__)

MSP_IMPROV_LAYOUTS: tuple[str, ...] = ("plain", "audio", "nested")
MSP_IMPROV_LABEL_FILE_NAMES: tuple[str, ...] = ("Evaluation.txt", "Evalution.txt")
MSP_IMPROV_SAMPLE_RATE = 44_100


#: The original study's R+T subset: consensus counts per recording type (Busso et al. 2017).
MSP_IMPROV_ORIGINAL_COUNTS: dict[str, dict[str, int]] = {
    "T": {"A": 115, "S": 106, "H": 136, "N": 283, "O": 1, "X": 11},
    "R": {"A": 169, "S": 80, "H": 88, "N": 241, "O": 3, "X": 39},
}
# mini: per session and type; every session gets A 7, H 7, S 6, N 10 in R+T.
_MSP_MINI_COUNTS: dict[str, dict[str, int]] = {
    "R": {"A": 4, "H": 3, "S": 3, "N": 5, "O": 0, "X": 1},
    "T": {"A": 3, "H": 4, "S": 3, "N": 5, "O": 1, "X": 0},
}
# tiny: per session and type, half of mini; every session gets A 4, H 3, S 3, N 4 in R+T.
_MSP_TINY_COUNTS: dict[str, dict[str, int]] = {
    "R": {"A": 2, "H": 2, "S": 1, "N": 2, "O": 0, "X": 1},
    "T": {"A": 2, "H": 1, "S": 2, "N": 2, "O": 1, "X": 0},
}
# P and S turns (which letter is which condition is unconfirmed): consensus drawn from
# the real proportions of "other improvised" and "natural interaction".
_MSP_PS_PROPORTIONS: dict[str, dict[str, int]] = {
    "P": {"A": 470, "S": 633, "H": 1048, "N": 1789, "O": 70, "X": 371},
    "S": {"A": 38, "S": 66, "H": 1372, "N": 1164, "O": 11, "X": 134},
}
_ACTED = ("A", "H", "S", "N")
_MSP_SESSIONS = 6
_MSP_SENTENCES = 20
#: Fraction of R/T turns whose consensus equals the acted label (where the quotas allow).
_MSP_AGREEMENT = 0.7
# How listeners confuse an acted emotion (row) with a perceived label (column).
_CONFUSION_PRIOR = {
    "A": {"A": 0.05, "H": 1.0, "S": 0.3, "N": 3.0, "O": 1.0, "X": 2.0},
    "H": {"A": 1.0, "H": 0.05, "S": 0.3, "N": 3.0, "O": 1.0, "X": 2.0},
    "S": {"A": 0.3, "H": 0.3, "S": 0.05, "N": 3.0, "O": 1.0, "X": 2.0},
    "N": {"A": 1.0, "H": 1.2, "S": 1.2, "N": 0.05, "O": 1.0, "X": 2.0},
}
_LETTER_EMOTION = {letter: MSP_IMPROV_LABELS[letter] for letter in _ACTED}
_RATER_WORD = {"A": "Angry", "H": "Happy", "S": "Sad", "N": "Neutral"}
# "Other-…" rater labels and the emotion whose prosody each one resembles.
_OTHER_LABELS = {
    "Frustrated": {"angry": 0.5, "neutral": 0.5},
    "Surprised": {"surprise": 1.0},
    "Disgusted": {"disgust": 1.0},
    "Excited": {"happy": 0.6, "surprise": 0.4},
    "Concerned": {"fear": 0.5, "sad": 0.5},
    "Annoyed": {"angry": 0.4, "disgust": 0.3, "neutral": 0.3},
    "Bored": {"sad": 0.4, "neutral": 0.6},
    "Worried": {"fear": 0.7, "neutral": 0.3},
}
_SECONDARY = {
    "A": ("Angry", "Frustrated", "Annoyed", "Disgusted", "Other"),
    "H": ("Happy", "Excited", "Amused", "Surprised", "Other"),
    "S": ("Sad", "Depressed", "Concerned", "Frustrated", "Bored"),
    "N": ("Neutral", "Concerned", "Bored", "Other", "Amused"),
    "O": ("Frustrated", "Surprised", "Concerned", "Annoyed", "Other"),
}
# Rater scores (1-5) by perceived label: arousal, valence, dominance.
_ATTRIBUTE_MEANS = {
    "A": (4.1, 1.8, 3.9),
    "H": (3.7, 4.2, 3.4),
    "S": (2.1, 1.9, 2.2),
    "N": (2.7, 3.0, 3.0),
    "O": (3.2, 2.6, 3.0),
}


# ---------------------------------------------------------------------- MSP-IMPROV
@dataclass
class _Turn:
    session: int
    sentence: int
    acted: str
    gender: str
    recording_type: str
    turn: str
    consensus: str = ""

    @property
    def name(self) -> str:
        return (
            f"MSP-IMPROV-S{self.sentence:02d}{self.acted}-{self.gender}{self.session:02d}-"
            f"{self.recording_type}-{self.turn}"
        )


def _assign_consensus(
    acted: list[str], quota: dict[str, int], rng: np.random.Generator
) -> list[str]:
    """Consensus letters for turns with the given acted letters, exactly ``quota`` of each,
    agreeing with the acted letter for about ``_MSP_AGREEMENT`` of the turns."""
    n = len(acted)
    if sum(quota.values()) != n:
        raise ValueError(f"consensus quota {quota} does not add up to {n} turns")
    acted_counts = {e: acted.count(e) for e in _ACTED}
    agree = {e: min(acted_counts[e], quota.get(e, 0)) for e in _ACTED}
    scale = min(1.0, _MSP_AGREEMENT * n / max(1, sum(agree.values())))
    agree = {e: int(round(agree[e] * scale)) for e in _ACTED}
    rows = {e: acted_counts[e] - agree[e] for e in _ACTED}
    pending = [label for label, count in quota.items() for _ in range(count - agree.get(label, 0))]
    pending = [pending[i] for i in rng.permutation(len(pending))]
    matrix = {e: {e: agree[e]} for e in _ACTED}
    for label in pending:
        weights = np.array([rows[e] * _CONFUSION_PRIOR[e][label] for e in _ACTED])
        choice = _ACTED[rng.choice(len(_ACTED), p=weights / weights.sum())]
        rows[choice] -= 1
        matrix[choice][label] = matrix[choice].get(label, 0) + 1
    labels = [""] * n
    for e in _ACTED:
        positions = [i for i, a in enumerate(acted) if a == e]
        positions = [positions[i] for i in rng.permutation(len(positions))]
        perceived = [label for label, count in sorted(matrix[e].items()) for _ in range(count)]
        for position, label in zip(positions, perceived):
            labels[position] = label
    return labels


def _turn_code(rng: np.random.Generator, gender: str, number: int) -> str:
    other = {"F": "M", "M": "F"}[gender] if rng.random() < 0.7 else gender
    return f"{gender}{other}{number:02d}"


def _msp_turns(size: str, rng: np.random.Generator) -> list[_Turn]:
    """The recordings of one synthetic MSP-IMPROV: R/T slots with consensus quotas, then a
    few P and S turns."""
    while True:  # redraw in the (rare) case that a session lacks a class in R+T
        turns: list[_Turn] = []
        for recording_type in ("R", "T"):
            if size == "full":
                quota = MSP_IMPROV_ORIGINAL_COUNTS[recording_type]
                total = sum(quota.values())
                per_emotion = [total // 4 + (i < total % 4) for i in range(4)]
                groups = [(None, per_emotion, quota)]
            else:
                quota = (_MSP_MINI_COUNTS if size == "mini" else _MSP_TINY_COUNTS)[recording_type]
                groups = [
                    (session, [sum(quota.values()) // 4] * 4, quota)
                    for session in range(1, _MSP_SESSIONS + 1)
                ]
            for session_only, per_emotion, group_quota in groups:
                group: list[_Turn] = []
                sessions = range(1, _MSP_SESSIONS + 1) if session_only is None else (session_only,)
                slots = [
                    (s, k, g) for s in sessions for k in range(1, _MSP_SENTENCES + 1) for g in "FM"
                ]
                for emotion, count in zip(_ACTED, per_emotion):
                    for i in np.sort(rng.choice(len(slots), size=count, replace=False)):
                        session, sentence, gender = slots[i]
                        group.append(
                            _Turn(
                                session,
                                sentence,
                                emotion,
                                gender,
                                recording_type,
                                _turn_code(rng, gender, 1),
                            )
                        )
                labels = _assign_consensus([t.acted for t in group], group_quota, rng)
                for t, label in zip(group, labels):
                    t.consensus = label
                turns += group
        complete = all(
            {t.consensus for t in turns if t.session == s} >= set(_ACTED)
            for s in range(1, _MSP_SESSIONS + 1)
        )
        if complete:
            break
    per_type = {"full": 4, "mini": 2, "tiny": 1}[size]
    for session in range(1, _MSP_SESSIONS + 1):
        for recording_type in ("P", "S"):
            proportions = _MSP_PS_PROPORTIONS[recording_type]
            letters = list(proportions)
            p = np.array([proportions[k] for k in letters], dtype=float)
            sentence, acted = int(rng.integers(1, _MSP_SENTENCES + 1)), _ACTED[rng.integers(4)]
            for number in range(1, per_type + 1):
                gender = "FM"[rng.integers(2)]
                turns.append(
                    _Turn(
                        session,
                        sentence,
                        acted,
                        gender,
                        recording_type,
                        _turn_code(rng, gender, number),
                        consensus=letters[rng.choice(6, p=p / p.sum())],
                    )
                )
    return turns


def _rater_id(rng: np.random.Generator) -> str:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    return "A" + "".join(rng.choice(alphabet, size=int(rng.integers(12, 14))))


def _format_value(value: float) -> str:
    return "NaN" if np.isnan(value) else f"{value:.6f}"


def _rater_labels(rng: np.random.Generator, consensus: str, acted: str) -> list[str]:
    """Primary labels ('A', 'H', 'S', 'N', 'O:<kind>') of 3-6 distinct raters whose
    majority vote is ``consensus`` (no majority for 'X')."""
    n = int(rng.choice([3, 4, 5, 6], p=[0.3, 0.3, 0.25, 0.15]))
    others = [label for label in ("A", "H", "S", "N", "O") if label != consensus]

    def letter(label: str) -> str:
        if label == "O":
            return "O:" + list(_OTHER_LABELS)[rng.integers(len(_OTHER_LABELS))]
        return label

    if consensus == "X":
        pool = [acted] + [x for x in ("N", "A", "H", "S", "O") if x != acted]
        pool = [pool[0]] + [pool[1 + i] for i in rng.permutation(len(pool) - 1)]
        groups = {3: [1, 1, 1], 4: [2, 2], 5: [2, 2, 1], 6: [2, 2, 2]}[n]
        labels = [letter(pool[i]) for i, count in enumerate(groups) for _ in range(count)]
    else:
        majority = int(rng.integers(n // 2 + 1, n + 1))
        labels = [letter(consensus) for _ in range(majority)]
        labels += [letter(others[rng.integers(len(others))]) for _ in range(n - majority)]
    return [labels[i] for i in rng.permutation(len(labels))]


def _label_block(turn: _Turn, raters: list[str], rng: np.random.Generator) -> tuple[str, dict]:
    """The Evaluation.txt block of one turn and the emotion mixture its audio follows."""
    labels = _rater_labels(rng, turn.consensus, turn.acted)
    ids = [raters[i] for i in rng.choice(len(raters), size=len(labels), replace=False)]
    missing = {"D": rng.random() < 0.005, "N": rng.random() < 0.015}
    naturalness_mean = 3.3 if turn.recording_type == "R" else 3.9
    lines, scores = [], []
    for rater, label in zip(ids, labels):
        key = label[0]
        arousal, valence, dominance = _ATTRIBUTE_MEANS[key]
        values = np.clip(
            np.round(
                np.array([arousal, valence, dominance, naturalness_mean])
                + rng.normal(0.0, 0.7, size=4)
            ),
            1,
            5,
        )
        if missing["D"]:
            values[2] = np.nan
        if missing["N"]:
            values[3] = np.nan
        scores.append(values)
        word = _RATER_WORD.get(key) or f"Other-{label[2:]}"
        pool = _SECONDARY[key]
        secondary = ",".join(
            pool[i]
            for i in sorted(rng.choice(len(pool), size=int(rng.integers(0, 4)), replace=False))
        )
        lines.append(
            f"{rater}; {word}; {secondary}; A:{_format_value(values[0])}; V:{_format_value(values[1])}; "
            f"D:{_format_value(values[2])}; N:{_format_value(values[3])};"
        )
    mean = np.mean(scores, axis=0)
    avi = "UTD-IMPROV-" + turn.name[len("MSP-IMPROV-") :] + ".avi"
    header = (
        f"{avi}; {turn.consensus}; A:{_format_value(mean[0])}; V:{_format_value(mean[1])}; "
        f"D:{_format_value(mean[2])} ; N:{_format_value(mean[3])};"
    )
    if rng.random() < 0.1:  # a rater line repeated verbatim, as in the real file
        i = int(rng.integers(len(lines)))
        lines.insert(int(rng.integers(i + 1, len(lines) + 1)), lines[i])
    # The audio follows what listeners perceived: the consensus (with a pull towards the
    # acted scenario), or for O/X the mixture of the raters' labels.
    weights: dict[str, float] = {}
    if turn.consensus in _ACTED:
        weights[_LETTER_EMOTION[turn.consensus]] = 0.8
        weights[_LETTER_EMOTION[turn.acted]] = weights.get(_LETTER_EMOTION[turn.acted], 0.0) + 0.2
    else:
        for label in labels:
            mixture = (
                _OTHER_LABELS[label[2:]]
                if label.startswith("O:")
                else {_LETTER_EMOTION[label]: 1.0}
            )
            for emotion, weight in mixture.items():
                weights[emotion] = weights.get(emotion, 0.0) + weight
    return "\n".join([header, *lines]), weights


def msp_layout_folder(layout: str, session: int) -> str:
    return {
        "plain": f"session{session}",
        "audio": f"Audio/session{session}",
        "nested": f"session{session}/session{session}",
    }[layout]


def msp_specs(size: str, seed: int, layout: str) -> tuple[list[dict], str]:
    rng = np.random.default_rng([seed, MSP_CODE, 0])
    clips = "full" if size == "full" else "mini"  # tiny: fewer clips of mini's kind
    n_syllables = {"full": (6, 16), "mini": (3, 7)}[clips]
    sentences = {
        k: random_sentence(rng, int(rng.integers(n_syllables[0], n_syllables[1] + 1)))
        for k in range(1, _MSP_SENTENCES + 1)
    }
    raters = list(dict.fromkeys(_rater_id(rng) for _ in range(400)))
    turns = sorted(_msp_turns(size, rng), key=lambda t: t.name)
    speakers = {
        (g, s): speaker_params(np.random.default_rng([seed, MSP_CODE, 2, s * 2 + (g == "M")]), g)
        for s in range(1, _MSP_SESSIONS + 1)
        for g in "FM"
    }
    extra_syllables = {"full": (0, 10), "mini": (0, 2)}[clips]
    speech_range = {"full": (1.5, 6.5), "mini": (0.8, 2.5)}[clips]
    specs, blocks = [], []
    for index, turn in enumerate(turns):
        block, weights = _label_block(turn, raters, rng)
        blocks.append(block)
        syllables = sentences[turn.sentence]
        if (
            turn.recording_type != "R"
        ):  # improvised speech: words around (or instead of) the sentence
            extra = random_sentence(
                rng, int(rng.integers(extra_syllables[0] + 1, extra_syllables[1] + 2))
            )
            syllables = extra + syllables if turn.recording_type == "T" else extra
        folder = f"{msp_layout_folder(layout, turn.session)}/S{turn.sentence:02d}{turn.acted}/{turn.recording_type}"
        specs.append(
            {
                "index": index,
                "corpus_code": MSP_CODE,
                "path": f"{folder}/{turn.name}.wav",
                "sample_rate": MSP_IMPROV_SAMPLE_RATE,
                "speaker": speakers[turn.gender, turn.session],
                "weights": weights,
                "intensity": (0.35, 1.1),
                "spread": 1.0,
                "syllables": syllables,
                "speech_range": speech_range,
            }
        )
    return specs, "\n\n".join(blocks) + "\n"


def make_msp_improv(
    root: str | os.PathLike,
    *,
    size: str = "mini",
    seed: int = 0,
    label_file_name: str = "Evaluation.txt",
    layout: str = "plain",
    n_jobs: int | None = None,
) -> Path:
    """Write a synthetic MSP-IMPROV in one of the real release layouts.

    Files ``MSP-IMPROV-S{sentence}{E}-{G}{session}-{type}-{turn}.wav`` (mono 16-bit PCM,
    44.1 kHz, 0.2-0.8 s of low background noise before and after the speech) under
    ``session{k}/S{xx}{E}/{type}/``, and the label file ``root/<label_file_name>`` with one
    block per wav: the consensus line
    ``UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:3.000000; V:3.500000; D:3.000000 ; N:3.000000;``
    followed by 3-6 rater lines (some repeated verbatim, a few values ``NaN``).
    The audio's emotional prosody follows the consensus (perceived) label.

    Parameters
    ----------
    root : path
        The corpus folder (e.g. ``<data>/MSP-IMPROV``); created if missing.
    size : {'tiny', 'mini', 'full'}
        ``'mini'``: 216 short clips (192 R/T, at least 3 of each A/H/S/N consensus per
        session, some O and X). ``'tiny'``: the same kind of clips, 108 (96 R/T, 84 of them
        A/H/S/N, at least one of each per session); ``make test`` runs the notebooks on it.
        ``'full'``: 620 R + 652 T turns with the consensus counts of Busso et al. (R+T with A/H/S/N: 1218 = angry 284, happy 224, sad 186, neutral
        524) plus 48 P/S turns.
    seed : int
        Seed of the generator; the same seed writes byte-identical files.
    label_file_name : {'Evaluation.txt', 'Evalution.txt'}
        Both spellings occur in real releases.
    layout : {'plain', 'audio', 'nested'}
        ``session1/S01A/R/…``, ``Audio/session1/S01A/R/…`` or ``session1/session1/S01A/R/…``.
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
        Unknown ``size``, ``layout`` or ``label_file_name``, or a negative ``seed``.
    CorpusError
        ``root`` holds files that this module did not write (a real corpus, say).

    Examples
    --------
    >>> import tempfile
    >>> root = make_msp_improv(Path(tempfile.mkdtemp()) / "MSP-IMPROV", size="mini", n_jobs=1)
    >>> (root / "Evaluation.txt").read_text().startswith("UTD-IMPROV-S01")
    True
    """
    check_options(size, seed)
    check_choice(layout, MSP_IMPROV_LAYOUTS, "layout")
    check_choice(label_file_name, MSP_IMPROV_LABEL_FILE_NAMES, "label_file_name")
    root = Path(root)
    params = {
        "corpus": "msp-improv",
        "size": size,
        "seed": int(seed),
        "label_file_name": label_file_name,
        "layout": layout,
        "version": GENERATOR_VERSION,
    }
    if is_complete(root, params, "Audio" if layout == "audio" else "."):
        return root
    owned = (
        tuple(f"session{k}" for k in range(1, _MSP_SESSIONS + 1))
        + ("Audio",)
        + MSP_IMPROV_LABEL_FILE_NAMES
    )
    start_tree(root, params, owned)
    specs, label_text = msp_specs(size, int(seed), layout)
    log.info("writing %d synthetic MSP-IMPROV files to %s", len(specs), root)
    write_files(root, specs, int(seed), n_jobs)
    write_bytes(root / label_file_name, label_text.encode("ascii"))
    finish_tree(root, params, len(specs))
    return root
