"""A held-out speech corpus in the MSP-IMPROV layout, spoken by ``espeak-ng``.

An independent check beside the synthetic corpus the recipes were developed on: real
(formant-synthesised) speech, other voices, other sentences, other prosody. Six sessions,
each with one female and one male voice (12 espeak-ng voice variants and accents); every
actor speaks every sentence in the four target emotions, as a read (R) and an improvised
(T) recording. Emotion is carried by prosody only — pitch, pitch range (espeak-ng's
``-p`` / ``-k`` cannot set a range, so emphasis is used), speaking rate, amplitude and
word gaps — each drawn around a per-emotion value, with per-speaker offsets (their usual
pitch, rate and loudness) and a per-session recording gain, so that no single cue
separates the classes and level also varies between sessions. A little white noise is
added to every clip.

Files, folders and the label file follow the real release exactly
(``session1/S01A/R/MSP-IMPROV-S01A-F01-R-FF01.wav``, ``Evaluation.txt`` at the root, one
block per turn with the consensus line first); the consensus label is the target emotion.
Nothing is downloaded and no audio is committed: the corpus is written to the folder given.

    apt-get install espeak-ng
    python benchmarks/heldout_corpus.py /tmp/heldout            # 576 clips, about a minute
    ser traditional msp-improv /tmp/heldout/MSP-IMPROV --features functionals --protocol loso
    python benchmarks/improved_variants.py /tmp/heldout/MSP-IMPROV --profile full
    python benchmarks/heldout_corpus.py --ceiling /tmp/heldout   # the ideal classifier's UA
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

#: Spoken sentences (the real corpus has 20 target sentences; here fewer, other ones).
SENTENCES: tuple[str, ...] = (
    "I did not expect to see you here today.",
    "The train leaves at seven in the morning.",
    "You told me the keys were on the table.",
    "We are moving to another city next month.",
    "She said the results would come out on Friday.",
    "Nobody called while you were away.",
)
#: (female voice, male voice) per session: espeak-ng language + voice variant.
VOICES: tuple[tuple[str, str], ...] = (
    ("en-us+f2", "en-us+m1"),
    ("en-gb+f3", "en-gb+m2"),
    ("en-us+f4", "en-us+m3"),
    ("en-gb+f5", "en-gb+m4"),
    ("en-us+Annie", "en-us+m5"),
    ("en-gb+linda", "en-gb+m6"),
)
EMOTION_LETTERS: dict[str, str] = {"angry": "A", "happy": "H", "sad": "S", "neutral": "N"}
#: Per emotion: pitch (espeak-ng -p, 0-99), rate (words per minute), amplitude (-a),
#: emphasis (-k, capital-letter emphasis, used as a crude pitch-range cue) and word gap (-g, 10 ms units).
PROSODY: dict[str, dict[str, float]] = {
    "neutral": {"pitch": 45, "rate": 165, "amplitude": 100, "emphasis": 0, "gap": 1},
    "angry": {"pitch": 55, "rate": 185, "amplitude": 150, "emphasis": 12, "gap": 0},
    "happy": {"pitch": 68, "rate": 180, "amplitude": 120, "emphasis": 6, "gap": 0},
    "sad": {"pitch": 35, "rate": 135, "amplitude": 75, "emphasis": 0, "gap": 4},
}
#: Standard deviation of each utterance's prosody around its emotion's value.
SPREAD: dict[str, float] = {"pitch": 7, "rate": 14, "amplitude": 18, "emphasis": 4, "gap": 1}
RECORDING_TYPES: tuple[str, ...] = ("R", "T")


def espeak(text: str, voice: str, prosody: dict[str, float], path: Path) -> None:
    """Speak ``text`` into the wav file ``path`` with espeak-ng."""
    command = [
        "espeak-ng",
        "-v",
        voice,
        "-p",
        str(int(np.clip(prosody["pitch"], 0, 99))),
        "-s",
        str(int(np.clip(prosody["rate"], 80, 400))),
        "-a",
        str(int(np.clip(prosody["amplitude"], 10, 200))),
        "-g",
        str(int(max(0, prosody["gap"]))),
        "-w",
        str(path),
        text,
    ]
    if prosody["emphasis"] > 0:
        command[1:1] = ["-k", str(int(prosody["emphasis"]))]
        text = " ".join(
            word.upper() if len(word) > 4 else word for word in text.split()
        )  # emphasised words
        command[-1] = text
    subprocess.run(command, check=True, capture_output=True)


def make_corpus(out_dir: Path, *, seed: int = 0, sentences: int = len(SENTENCES)) -> Path:
    """Write ``out_dir/MSP-IMPROV`` (replacing it) and return its path."""
    if shutil.which("espeak-ng") is None:
        raise SystemExit(
            "espeak-ng not found — install it (apt-get install espeak-ng) and run again"
        )
    rng = np.random.default_rng(seed)
    root = Path(out_dir) / "MSP-IMPROV"
    shutil.rmtree(root, ignore_errors=True)
    blocks = []
    with tempfile.TemporaryDirectory() as scratch:
        raw = Path(scratch) / "clip.wav"
        for session, voices in enumerate(VOICES, start=1):
            gain_db = rng.normal(0.0, 3.0)  # the session's recording level
            for gender, voice in zip("FM", voices):
                actor = f"{gender}{session:02d}"
                offsets = {
                    "pitch": rng.normal(0, 5),
                    "rate": rng.normal(0, 10),
                    "amplitude": rng.normal(0, 10),
                }
                for number in range(1, sentences + 1):
                    for emotion, letter in EMOTION_LETTERS.items():
                        for kind in RECORDING_TYPES:
                            prosody = {
                                name: value + rng.normal(0, SPREAD[name]) + offsets.get(name, 0.0)
                                for name, value in PROSODY[emotion].items()
                            }
                            espeak(SENTENCES[number - 1], voice, prosody, raw)
                            samples, rate = sf.read(raw, dtype="float32")
                            samples = samples * 10 ** (gain_db / 20)
                            samples = samples + rng.normal(0, 3e-4, size=samples.shape).astype(
                                np.float32
                            )
                            partner = "M" if gender == "F" else "F"
                            turn = f"{gender}{partner if kind == 'T' else gender}01"
                            name = f"MSP-IMPROV-S{number:02d}{letter}-{actor}-{kind}-{turn}"
                            folder = root / f"session{session}" / f"S{number:02d}{letter}" / kind
                            folder.mkdir(parents=True, exist_ok=True)
                            sf.write(
                                folder / f"{name}.wav",
                                np.clip(samples, -1, 1),
                                rate,
                                subtype="PCM_16",
                            )
                            valence = {"angry": 1.8, "happy": 4.2, "sad": 1.9, "neutral": 3.0}[
                                emotion
                            ]
                            blocks.append(
                                f"UTD-IMPROV-{name[11:]}.avi; {letter}; A:3.000000; V:{valence:.6f}; "
                                f"D:3.000000 ; N:3.000000;\n"
                                f"R1; {emotion.capitalize()}; {emotion.capitalize()}; A:3.000000; "
                                f"V:{valence:.6f}; D:3.000000; N:3.000000;\n"
                            )
    (root / "Evaluation.txt").write_text("\n".join(blocks))
    return root


def prosody_ceiling(n_per_class: int = 100_000, seed: int = 0) -> dict[str, float]:
    """Recall per emotion, and their mean (UA), of the ideal classifier that knows each clip's
    drawn prosody with its speaker's offsets removed: the Bayes rule for :data:`PROSODY` and
    :data:`SPREAD` (independent normal draws; emphasis and word gap below one unit reach espeak-ng
    as none, so they are observed censored). No model of the audio can do better on average, and
    one that must estimate the speaker's offsets from a few recordings does a little worse.

    >>> ceiling = prosody_ceiling(20_000)
    >>> 0.9 < ceiling["ua"] < 0.97
    True
    """
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    emotions, cues = list(PROSODY), list(SPREAD)
    means = np.array([[PROSODY[emotion][cue] for cue in cues] for emotion in emotions])
    spreads = np.array([SPREAD[cue] for cue in cues])
    censored = [cues.index("emphasis"), cues.index("gap")]
    recalls = {}
    for truth, emotion in enumerate(emotions):
        draws = means[truth] + rng.normal(size=(n_per_class, len(cues))) * spreads
        units = np.floor(np.maximum(draws, 0.0))  # what espeak-ng receives of a censored cue
        log_likelihood = np.zeros((n_per_class, len(emotions)))
        for k in range(len(emotions)):
            for j in range(len(cues)):
                mean, spread = means[k, j], spreads[j]
                if j in censored:  # P(the cue lands in its unit; every value below 1 reads as 0)
                    low = np.where(units[:, j] == 0, -np.inf, units[:, j])
                    p = norm.cdf((units[:, j] + 1 - mean) / spread) - norm.cdf(
                        (low - mean) / spread
                    )
                    log_likelihood[:, k] += np.log(np.maximum(p, 1e-300))
                else:
                    log_likelihood[:, k] += norm.logpdf(draws[:, j], mean, spread)
        recalls[emotion] = float((log_likelihood.argmax(axis=1) == truth).mean())
    return {**recalls, "ua": float(np.mean(list(recalls.values())))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder that receives MSP-IMPROV/")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random prosody and gain")
    parser.add_argument(
        "--sentences",
        type=int,
        default=len(SENTENCES),
        choices=range(1, len(SENTENCES) + 1),
        metavar=f"1..{len(SENTENCES)}",
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="print the UA of the ideal classifier on the drawn prosody (no audio written) and stop",
    )
    args = parser.parse_args(argv)
    if args.ceiling:
        ceiling = prosody_ceiling(seed=args.seed)
        print(", ".join(f"{name} {value:.3f}" for name, value in ceiling.items()))
        return 0
    root = make_corpus(args.out_dir, seed=args.seed, sentences=args.sentences)
    print(f"wrote {sum(1 for _ in root.rglob('*.wav'))} clips and Evaluation.txt to {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
