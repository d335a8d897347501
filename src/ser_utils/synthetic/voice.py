"""The voice: a speech-like synthesiser with numpy/scipy alone — emotional prosody profiles,
speaker parameters, the harmonic source and formant filters over the syllables of
:mod:`~ser_utils.synthetic.phonetics`, and :func:`render`, which turns one file's spec into its
16-bit samples (a pure function of ``(seed, file index)``)."""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from ..config import EMOTIONS
from .phonetics import BANDWIDTHS, LIQUID, NASAL, VOWELS

#: Corpus codes of the specs: they seed each file's generators (``[seed, code, ...]``).
TESS_CODE = 1
MSP_CODE = 2

#: Length of the TESS clips :func:`render` writes (s).
TESS_DURATION_RANGE = (1.25, 2.98)
TESS_MEAN_DURATION = 2.06

# ----------------------------------------------------------------------- prosody
_PROSODY_KEYS = (
    "f0_shift",
    "f0_range",
    "energy",
    "tempo",
    "tilt",
    "jitter",
    "shimmer",
    "creak",
    "breath",
    "final",
    "f1",
    "f2",
    "pause",
)
# f0_shift/f0_range/final in semitones, energy in dB, tempo a rate factor, tilt the
# exponent of the harmonic amplitudes k**-tilt (bigger = darker), jitter/shimmer relative,
# creak/breath 0-1, f1/f2 formant factors, pause the probability of a pause between words.
_PROSODY = {
    #            f0   rng  energy tempo tilt  jitter shim  creak breath final  f1    f2    pause
    "neutral": (0.0, 3.0, 0.0, 1.00, 1.15, 0.006, 0.05, 0.00, 0.15, -2.5, 1.00, 1.00, 0.10),
    "angry": (3.0, 6.0, 6.0, 1.13, 0.70, 0.009, 0.06, 0.00, 0.05, -4.0, 1.08, 1.00, 0.05),
    "happy": (4.5, 7.5, 3.0, 1.10, 0.90, 0.006, 0.05, 0.00, 0.10, -0.5, 1.03, 1.07, 0.05),
    "sad": (-2.0, 1.5, -5.0, 0.80, 1.50, 0.008, 0.08, 0.10, 0.30, -3.0, 0.95, 0.97, 0.30),
    "fear": (5.0, 4.0, 1.0, 1.20, 1.00, 0.025, 0.10, 0.00, 0.35, 1.0, 1.02, 1.02, 0.15),
    "disgust": (-2.5, 3.0, -2.0, 0.82, 1.25, 0.015, 0.10, 0.50, 0.20, -4.0, 0.98, 0.97, 0.15),
    "surprise": (4.0, 8.0, 3.0, 1.00, 0.90, 0.007, 0.05, 0.00, 0.10, 7.0, 1.04, 1.03, 0.05),
}
assert set(_PROSODY) == set(EMOTIONS), "one prosody profile per emotion of config.EMOTIONS"
_PROSODY_TABLE = {emotion: np.array(values) for emotion, values in _PROSODY.items()}
# Per-utterance spread (standard deviations; tempo/f0_range/jitter/shimmer multiplicative).
_PROSODY_SPREAD = np.array([1.5, 0.3, 2.5, 0.08, 0.15, 0.3, 0.2, 0.05, 0.06, 1.5, 0.02, 0.02, 0.05])
_MULTIPLICATIVE = np.array([k in ("f0_range", "tempo", "jitter", "shimmer") for k in _PROSODY_KEYS])


# ------------------------------------------------------------------------ speakers
def speaker_params(rng: np.random.Generator, kind: str) -> dict:
    """Voice of one speaker; kind 'F', 'M', 'OAF' (older, lower, breathier) or 'YAF'."""
    if kind == "OAF":
        return {
            "f0": rng.uniform(178, 192),
            "formants": rng.uniform(1.10, 1.14),
            "rate": rng.uniform(0.92, 1.0),
            "loudness": rng.uniform(-1.5, 0.0),
            "tilt": rng.uniform(0.08, 0.14),
            "breath": rng.uniform(0.12, 0.18),
            "jitter": rng.uniform(1.7, 2.0),
            "shimmer": 1.5,
            "expressive": rng.uniform(0.95, 1.05),
            "range": rng.uniform(0.85, 0.95),
        }
    if kind == "YAF":
        return {
            "f0": rng.uniform(215, 232),
            "formants": rng.uniform(1.18, 1.22),
            "rate": rng.uniform(1.0, 1.08),
            "loudness": rng.uniform(0.0, 1.5),
            "tilt": rng.uniform(-0.08, -0.02),
            "breath": rng.uniform(-0.02, 0.02),
            "jitter": rng.uniform(0.9, 1.1),
            "shimmer": 1.0,
            "expressive": rng.uniform(0.95, 1.05),
            "range": rng.uniform(1.0, 1.15),
        }
    female = kind == "F"
    return {
        "f0": rng.uniform(190, 230) if female else rng.uniform(100, 130),
        "formants": rng.uniform(1.12, 1.22) if female else rng.uniform(0.95, 1.05),
        "rate": rng.uniform(0.88, 1.12),
        "loudness": rng.uniform(-2.0, 2.0),
        "tilt": rng.uniform(-0.12, 0.12),
        "breath": rng.uniform(-0.05, 0.10),
        "jitter": rng.uniform(0.8, 1.4),
        "shimmer": rng.uniform(0.8, 1.3),
        "expressive": rng.uniform(0.75, 1.15),
        "range": rng.uniform(0.8, 1.25),
    }


def _utterance_prosody(
    rng: np.random.Generator,
    weights: dict[str, float],
    speaker: dict,
    intensity: tuple[float, float],
    spread: float,
) -> dict[str, float]:
    """Prosody of one utterance: the emotion mixture, pulled towards neutral by a random
    intensity, plus per-utterance noise (so that classes overlap)."""
    total = sum(weights.values())
    target = sum(w * _PROSODY_TABLE[e] for e, w in weights.items()) / total
    neutral = _PROSODY_TABLE["neutral"]
    strength = rng.uniform(*intensity) * speaker["expressive"]
    values = neutral + strength * (target - neutral)
    noise = rng.standard_normal(len(_PROSODY_KEYS)) * _PROSODY_SPREAD * spread
    values = np.where(_MULTIPLICATIVE, values * np.exp(noise), values + noise)
    prosody = dict(zip(_PROSODY_KEYS, values.tolist()))
    prosody["f0_range"] *= speaker["range"]
    prosody["tilt"] = float(np.clip(prosody["tilt"] + speaker["tilt"], 0.45, 2.0))
    prosody["breath"] = float(np.clip(prosody["breath"] + speaker["breath"], 0.0, 0.6))
    prosody["jitter"] *= speaker["jitter"]
    prosody["shimmer"] *= speaker["shimmer"]
    prosody["creak"] = float(np.clip(prosody["creak"], 0.0, 0.8))
    prosody["pause"] = float(np.clip(prosody["pause"], 0.0, 0.5))
    prosody["tempo"] *= speaker["rate"]
    prosody["energy"] += speaker["loudness"]
    return prosody


# ----------------------------------------------------------------------- synthesis
@functools.lru_cache(maxsize=64)
def _band_sos(sample_rate: int, low: float, high: float) -> np.ndarray:
    high = min(high, 0.45 * sample_rate)
    return signal.butter(2, [low, high], btype="bandpass", fs=sample_rate, output="sos")


_NOISE_BANDS = {
    "s": (3500.0, 9000.0),
    "sh": (1800.0, 5000.0),
    "f": (1000.0, 8000.0),
    "burst": (800.0, 6000.0),
}


def _formant_sos(formants, bandwidths, sample_rate: int) -> np.ndarray:
    """Cascade of two-pole resonators with unit gain at 0 Hz, one sos row per formant."""
    freqs = np.minimum(np.asarray(formants, dtype=float), 0.45 * sample_rate)
    radius = np.exp(-np.pi * np.asarray(bandwidths, dtype=float) / sample_rate)
    a1 = -2.0 * radius * np.cos(2.0 * np.pi * freqs / sample_rate)
    a2 = radius**2
    sos = np.zeros((len(freqs), 6))
    sos[:, 0] = 1.0 + a1 + a2
    sos[:, 3] = 1.0
    sos[:, 4] = a1
    sos[:, 5] = a2
    return sos


def _envelope(length: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(length)
    attack = min(attack, length // 2)
    release = min(release, length - attack)
    if attack > 0:
        env[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    if release > 0:
        env[length - release :] = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, release + 1) / release)
    return env


def _layout(syllables, prosody: dict, rng: np.random.Generator) -> list[tuple[str, float, dict]]:
    """The segments ``(kind, seconds, info)`` of one utterance at tempo 1, in order.

    kind: 'vowel' (info: vowel, amp, stress), 'voiced' consonant (formants, amp), 'noise'
    (band or, for aspiration, the vowel whose formants shape it; amp), 'closure' (the
    silence before a plosive burst) or 'gap' (between words, pauses).
    """
    segments: list[tuple[str, float, dict]] = []
    last = len(syllables) - 1

    def consonant(kind: str, vowel: str, coda: bool) -> None:
        scale = 0.75 if coda else 1.0
        if kind in ("p", "b", "ch"):
            closure = rng.uniform(0.03, 0.05) * scale
            if kind == "b":  # voice bar
                segments.append(("voiced", closure, {"formants": NASAL, "amp": 0.08}))
            else:
                segments.append(("closure", closure, {}))
            segments.append(
                (
                    "noise",
                    rng.uniform(0.008, 0.016),
                    {"band": "burst", "amp": 0.22 if kind == "b" else 0.35, "vowel": None},
                )
            )
            if kind == "p" and not coda:
                segments.append(
                    ("noise", rng.uniform(0.02, 0.04), {"band": None, "amp": 0.12, "vowel": vowel})
                )
            elif kind == "ch":
                segments.append(
                    ("noise", rng.uniform(0.05, 0.08), {"band": "sh", "amp": 0.3, "vowel": None})
                )
        elif kind in ("s", "sh", "f"):
            segments.append(
                (
                    "noise",
                    rng.uniform(0.07, 0.11) * scale,
                    {"band": kind, "amp": {"s": 0.3, "sh": 0.35, "f": 0.08}[kind], "vowel": None},
                )
            )
        elif kind == "h":
            segments.append(
                ("noise", rng.uniform(0.04, 0.07), {"band": None, "amp": 0.12, "vowel": vowel})
            )
        elif kind in ("m", "l", "dh"):
            segments.append(
                (
                    "voiced",
                    rng.uniform(0.04, 0.07) * scale,
                    {
                        "formants": NASAL if kind == "m" else LIQUID,
                        "amp": {"m": 0.35, "l": 0.5, "dh": 0.25}[kind],
                    },
                )
            )

    for index, syllable in enumerate(syllables):
        consonant(syllable.onset, syllable.vowel, coda=False)
        length = (0.075, 0.13, 0.17)[syllable.stress] * rng.uniform(0.85, 1.15)
        if index == last:
            length *= 1.35  # phrase-final lengthening
        amp = (0.5, 0.8, 1.0)[syllable.stress] * rng.uniform(0.85, 1.15)
        segments.append(
            ("vowel", length, {"vowel": syllable.vowel, "amp": amp, "stress": syllable.stress})
        )
        consonant(syllable.coda, syllable.vowel, coda=True)
        if syllable.word_end and index < last:
            gap = rng.uniform(0.01, 0.04)
            if rng.random() < prosody["pause"]:
                gap += rng.uniform(0.12, 0.35)
            segments.append(("gap", gap, {}))
        else:
            segments.append(("gap", 0.005, {}))
    return segments


def _timing(
    segments: list[tuple[str, float, dict]], duration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (s) of each segment, fitted to ``duration``: vowels and gaps absorb most
    of the change in tempo, consonants change less (as in real speech)."""
    lengths = np.array([length for _, length, _ in segments])
    elastic = np.array([kind in ("vowel", "gap") for kind, _, _ in segments])
    stretch = duration / lengths.sum()
    rigid = stretch**0.5
    factor = (duration - rigid * lengths[~elastic].sum()) / lengths[elastic].sum()
    if factor < 0.5 * rigid:  # hard compression: shorten everything alike
        rigid = factor = stretch
    ends = np.cumsum(lengths * np.where(elastic, factor, rigid))
    starts = np.concatenate([[0.0], ends[:-1]])
    return starts, ends


def _f0_contour(
    times: np.ndarray,
    duration: float,
    accents: list[tuple[float, float]],
    prosody: dict,
    base_f0: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """f0 in Hz at ``times`` (s): declination, Gaussian pitch accents, a final fall or rise,
    slow wander and cycle-level jitter."""
    semitones = prosody["f0_shift"] + rng.uniform(1.5, 3.5) * (0.5 - times / duration)
    heights = prosody["f0_range"] * rng.uniform(0.4, 1.0, size=len(accents))
    for (centre, width), height in zip(accents, heights):
        semitones += height * np.exp(-0.5 * ((times - centre) / width) ** 2)
    final_start = duration - min(0.3, 0.3 * duration)
    ramp = np.clip((times - final_start) / (duration - final_start), 0.0, 1.0)
    semitones += prosody["final"] * ramp**1.5
    knots = np.arange(0.0, duration + 0.15, 0.15)
    semitones += np.interp(times, knots, rng.normal(0.0, 0.6, size=knots.size))
    semitones += rng.normal(0.0, prosody["jitter"] * 17.3, size=times.size)  # 1 % ~ 0.173 st
    return base_f0 * 2.0 ** (semitones / 12.0)


_WAVETABLE_SIZE = 4096


def _linear_upsample(values: np.ndarray, step: int, n: int) -> np.ndarray:
    """``values`` given every ``step`` samples, linearly interpolated at samples 0..n-1."""
    needed = -(-n // step)
    if values.size < needed + 1:
        raise ValueError(f"{values.size} knots cannot cover {n} samples every {step}")
    ramp = np.arange(step) / step
    return (values[:needed, None] + np.diff(values[: needed + 1])[:, None] * ramp).ravel()[:n]


def _harmonic_source(
    f0: np.ndarray, sample_rate: int, prosody: dict, rng: np.random.Generator
) -> np.ndarray:
    """Sum of the harmonics of a time-varying f0, by phase accumulation.

    The harmonic amplitudes k**-tilt (with a small per-harmonic ripple) are fixed for the
    utterance, so one period of the sum is tabulated once and read at the accumulated
    phase: the cost does not grow with the number of harmonics. Harmonics stay below
    6 kHz at the highest f0, so nothing aliases.
    """
    cycles = np.cumsum(f0 / sample_rate) + rng.uniform(0.0, 1.0)
    n_harmonics = max(1, int(min(6000.0, 0.45 * sample_rate) / f0.max()))
    amplitudes = np.arange(1, n_harmonics + 1) ** -prosody["tilt"]
    amplitudes *= np.exp(rng.normal(0.0, 0.15, size=n_harmonics))
    grid = np.linspace(0.0, 2.0 * np.pi, _WAVETABLE_SIZE + 1, dtype=np.float32)
    table = amplitudes.astype(np.float32) @ np.sin(
        np.outer(np.arange(1, n_harmonics + 1, dtype=np.float32), grid)
    )
    position = np.mod(cycles, 1.0) * _WAVETABLE_SIZE
    index = np.minimum(position.astype(np.int64), _WAVETABLE_SIZE - 1)
    fraction = (position - index).astype(np.float32)
    source = table[index] + fraction * (table[index + 1] - table[index])
    if prosody["creak"] > 0.0:  # period doubling: every other cycle weaker
        half = np.mod(cycles, 2.0).astype(np.float32)
        source *= 1.0 - prosody["creak"] * 0.5 * (1.0 + np.cos(np.float32(np.pi) * half))
    if prosody["breath"] > 0.0:  # aspiration noise, pulsed with the glottal cycle
        pulse = (
            0.5 + 0.5 * np.cos(np.float32(2.0 * np.pi) * np.mod(cycles, 1.0).astype(np.float32))
        ) ** 2
        noise = signal.lfilter(
            [1.0, -0.9], [1.0], rng.standard_normal(f0.size, dtype=np.float32) * pulse
        )
        source += prosody["breath"] * 1.5 * np.std(source) / (np.std(noise) + 1e-12) * noise
    return source.astype(np.float64)


def _synthesise_speech(
    syllables,
    prosody: dict,
    speaker: dict,
    sample_rate: int,
    duration_range: tuple[float, float],
    rng: np.random.Generator,
    duration: float | None = None,
) -> np.ndarray:
    """One utterance of speech (no silence around it), peak 1.

    ``duration`` (s) fixes the length; otherwise the natural length at the utterance's
    tempo, kept within ``duration_range`` by stretching.
    """
    segments = _layout(syllables, prosody, rng)
    if duration is None:
        natural = sum(length for _, length, _ in segments)
        duration = float(np.clip(natural / prosody["tempo"], *duration_range))
    starts, ends = _timing(segments, duration)
    n = int(round(duration * sample_rate))
    tail = int(0.04 * sample_rate)
    total = n + tail
    step = max(1, int(round(0.005 * sample_rate)))  # f0 control points every ~5 ms
    times = np.arange(total // step + 2) * step / sample_rate
    accents = [
        ((start + end) / 2, max(0.04, 0.6 * (end - start)))
        for (kind, _, info), start, end in zip(segments, starts, ends)
        if kind == "vowel" and info["stress"] > 0
    ]
    f0_control = _f0_contour(times, duration, accents, prosody, speaker["f0"], rng)
    f0 = _linear_upsample(f0_control, step, total)
    source = _harmonic_source(f0, sample_rate, prosody, rng)
    shimmer = _linear_upsample(
        1.0 + rng.normal(0.0, prosody["shimmer"], size=total // (4 * step) + 2), 4 * step, total
    )
    source *= np.clip(shimmer, 0.3, None)

    formant_scale = speaker["formants"]
    emotion_scale = np.array([prosody["f1"], prosody["f2"], 1.0, 1.0, 1.0])
    bandwidths = BANDWIDTHS * (1.0 + prosody["breath"])
    out = np.zeros(total)
    # Louder emotions stress harder: more contrast between syllables.
    contrast = float(np.clip(1.0 + 0.05 * prosody["energy"], 0.7, 1.4))
    for (kind, _, info), start, end in zip(segments, starts, ends):
        if kind in ("gap", "closure"):
            continue
        first = int(round(start * sample_rate))
        release = int((0.03 if kind != "noise" else 0.008) * sample_rate)
        last = min(total, int(round(end * sample_rate)) + release)
        length = last - first
        if length < 8:
            continue
        decline = 1.0 - 0.3 * first / total  # intensity declination
        if kind == "noise":
            noise = rng.standard_normal(length)
            if info["band"] is None:  # aspiration through the following vowel's formants
                formants = np.asarray(VOWELS[info["vowel"]]) * formant_scale * emotion_scale
                noise = signal.sosfilt(_formant_sos(formants, bandwidths * 1.5, sample_rate), noise)
            else:
                noise = signal.sosfilt(_band_sos(sample_rate, *_NOISE_BANDS[info["band"]]), noise)
            noise /= np.sqrt(np.mean(noise**2)) + 1e-12
            env = _envelope(length, int(0.005 * sample_rate), release)
            out[first:last] += info["amp"] * decline * 0.3 * env * noise
            continue
        if kind == "vowel":
            formants = np.asarray(VOWELS[info["vowel"]]) * formant_scale * emotion_scale
            amp = info["amp"] ** contrast
            attack = int(0.02 * sample_rate)
        else:
            formants = np.asarray(info["formants"]) * formant_scale
            amp = info["amp"]
            attack = int(0.01 * sample_rate)
        voiced = signal.sosfilt(_formant_sos(formants, bandwidths, sample_rate), source[first:last])
        voiced /= np.sqrt(np.mean(voiced**2)) + 1e-12
        out[first:last] += amp * decline * _envelope(length, attack, release) * voiced
    speech = out[:n]
    return speech / (np.max(np.abs(speech)) + 1e-12)


_RUMBLE_SOS = np.array([[0.24, 0.0, 0.0, 1.0, -0.97, 0.0]], dtype=np.float32)


def _background_noise(rng: np.random.Generator, length: int) -> np.ndarray:
    """Unit-RMS room noise: mostly low-frequency rumble plus a little hiss."""
    white = rng.standard_normal(length, dtype=np.float32)
    rumble = signal.sosfilt(_RUMBLE_SOS, white)  # ~unit variance
    return (rumble + 0.4 * white) / 1.08


def _peak_level(energy_db: float, rng: np.random.Generator) -> float:
    """Peak of the written clip, 0.3-0.9 of full scale: louder emotions record louder."""
    level = energy_db + rng.normal(0.0, 2.0)
    return float(0.3 + 0.6 / (1.0 + np.exp(-level / 5.0)))


def _to_pcm16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.clip(samples, -1.0, 32766 / 32767) * 32767).astype(np.int16)


def render(spec: dict, seed: int) -> tuple[np.ndarray, int]:
    """The samples (int16) and sample rate of one file, a pure function of (seed, index)."""
    rng = np.random.default_rng([seed, spec["corpus_code"], 1, spec["index"]])
    sample_rate = spec["sample_rate"]
    prosody = _utterance_prosody(
        rng, spec["weights"], spec["speaker"], spec["intensity"], spec["spread"]
    )
    if spec["corpus_code"] == TESS_CODE:
        # 0.975: the mean of 1 / tempo over speakers and emotions is about 1.03
        total = float(
            np.clip(
                0.975
                * TESS_MEAN_DURATION
                * np.exp(rng.normal(0.0, 0.09))
                / prosody["tempo"]
                * spec["length_factor"],
                TESS_DURATION_RANGE[0] + 1e-3,
                TESS_DURATION_RANGE[1] - 1e-3,
            )
        )
        lead, trail = rng.uniform(0.02, 0.10), rng.uniform(0.10, 0.35)
        speech = _synthesise_speech(
            spec["syllables"],
            prosody,
            spec["speaker"],
            sample_rate,
            (0, 0),
            rng,
            duration=total - lead - trail,
        )
        n_total = int(round(total * sample_rate))
        noise_db = rng.uniform(58.0, 66.0)
    else:
        lead, trail = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8)
        speech = _synthesise_speech(
            spec["syllables"], prosody, spec["speaker"], sample_rate, spec["speech_range"], rng
        )
        n_total = int(round(lead * sample_rate)) + speech.size + int(round(trail * sample_rate))
        noise_db = float(np.clip(rng.uniform(41.0, 49.0) + 0.3 * prosody["energy"], 38.0, 52.0))
    peak = _peak_level(prosody["energy"], rng)
    start = int(round(lead * sample_rate))
    samples = 10.0 ** (-noise_db / 20.0) * _background_noise(rng, n_total)
    samples[start : start + speech.size] += speech
    return _to_pcm16(samples * (peak / np.max(np.abs(samples)))), sample_rate
