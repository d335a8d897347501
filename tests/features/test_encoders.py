"""The Whisper feature set: the log-mel front end against an independent expression of
Whisper's definition, the encoder path on randomly initialised CTranslate2 models of other
sizes (built here, no download), and the real tiny.en weights that ship in the lock."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import signal

from ser_utils.errors import AudioError
from ser_utils.features import encoders
from ser_utils.features.encoders import (
    EncoderUnavailableError,
    WhisperEncoder,
    pool_frames,
    resolve_encoder,
    whisper_embedding,
    whisper_frames,
    whisper_log_mel,
)

ctranslate2 = pytest.importorskip("ctranslate2")
from ctranslate2.converters.converter import Converter  # noqa: E402
from ctranslate2.specs import whisper_spec  # noqa: E402

SR = 16_000
#: Adult male F1-F3 (Hz) of a few vowels.
FORMANTS = {
    "a": (730, 1090, 2440),
    "i": (270, 2290, 3010),
    "u": (300, 870, 2240),
    "e": (530, 1840, 2480),
    "o": (570, 840, 2410),
}


def vowels(sequence: str, *, f0: float = 110.0, gain: float = 0.3, seed: int = 0) -> np.ndarray:
    """A sung vowel sequence (250 ms each): harmonics of a wavering f0 through three formant
    resonators, with a little noise — speech-like enough for a speech encoder."""
    rng = np.random.default_rng(seed)
    pieces = []
    n = SR // 4
    ramp = np.minimum(1.0, np.minimum(np.arange(n), n - np.arange(n)) / (0.03 * SR))
    for vowel in sequence:
        t = np.arange(n) / SR
        phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / SR
        y = sum(np.sin(k * phase) / k**1.2 for k in range(1, int(4000 / f0)))
        for frequency, bandwidth in zip(FORMANTS[vowel], (80, 100, 120)):
            r, theta = np.exp(-np.pi * bandwidth / SR), 2 * np.pi * frequency / SR
            y = signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
        pieces.append(y * ramp)
    clip = np.concatenate(pieces)
    clip = gain * clip / np.abs(clip).max() + 1e-3 * rng.standard_normal(clip.size)
    return clip.astype(np.float32)


# ------------------------------------------------------------------ an independent front end
def slaney_mel_filters(n_mels: int, sr: int = SR, n_fft: int = 400) -> np.ndarray:
    """Slaney's mel filterbank written out: linear below 1 kHz (200/3 Hz per mel), logarithmic
    above (27 mels per factor 6.4), triangles normalised to constant area."""

    def hz_to_mel(hz):
        hz = np.asarray(hz, dtype=np.float64)
        return np.where(
            hz < 1000, hz * 3 / 200, 15 + 27 * np.log(np.maximum(hz, 1e-9) / 1000) / np.log(6.4)
        )

    def mel_to_hz(mel):
        return np.where(mel < 15, mel * 200 / 3, 1000 * np.exp(np.log(6.4) * (mel - 15) / 27))

    edges = mel_to_hz(np.linspace(0, hz_to_mel(sr / 2), n_mels + 2))
    bins = np.arange(n_fft // 2 + 1) * sr / n_fft
    filters = np.zeros((n_mels, bins.size))
    for m in range(n_mels):
        low, centre, high = edges[m : m + 3]
        rising = (bins - low) / (centre - low)
        falling = (high - bins) / (high - centre)
        filters[m] = np.maximum(0, np.minimum(rising, falling)) * 2 / (high - low)
    return filters


def reference_log_mel(samples: np.ndarray, n_mels: int = 80) -> np.ndarray:
    """Whisper's definition, in float64 with a plain complex FFT of every frame."""
    samples = np.asarray(samples, dtype=np.float64)
    padded = np.pad(samples, 200, mode="reflect")
    n_frames = 1 + samples.size // 160  # the centred STFT's frames; the last is dropped below
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)  # periodic Hann
    frames = np.stack([padded[i * 160 : i * 160 + 400] * window for i in range(n_frames)])
    power = np.abs(np.fft.fft(frames, axis=1)[:, :201]) ** 2
    mel = slaney_mel_filters(n_mels) @ power[:-1].T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0


@pytest.mark.parametrize("n_mels", [80, 128])
def test_log_mel_is_whispers_definition(n_mels):
    clip = vowels("aiueo")[: SR + 1237]  # an odd length, not a multiple of the hop
    ours = whisper_log_mel(clip, n_mels=n_mels)
    reference = reference_log_mel(clip, n_mels)
    assert ours.shape == reference.shape == (n_mels, (SR + 1237) // 160)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-5, rtol=0)


@pytest.mark.parametrize("length", [201, 399, 400, 16_000, 16_001, 16_159, 16_160, 16_161])
def test_log_mel_has_one_frame_per_hop(length):
    clip = vowels("a")[:length] if length <= SR // 4 else np.resize(vowels("ae"), length)
    assert whisper_log_mel(clip).shape == (80, length // 160)


def test_log_mel_floor_sits_eight_decades_below_the_peak_and_gain_only_shifts_it():
    clip = np.concatenate([vowels("ao"), np.zeros(SR // 2, np.float32), vowels("ie")])
    mel = whisper_log_mel(clip)
    silence = mel[:, 55:95]  # frames wholly inside the digital silence
    np.testing.assert_allclose(silence, mel.max() - 2.0, atol=1e-6)  # (max − 8 + 4) / 4 = max − 2
    assert mel.min() == pytest.approx(mel.max() - 2.0, abs=1e-6)
    # x g: the power spectrum scales by g², every log10 by 2 log10 g, after / 4 by log10(g) / 2
    louder = whisper_log_mel(clip * 4.0)
    np.testing.assert_allclose(louder - mel, np.log10(4.0) / 2, atol=2e-5)


def test_log_mel_resamples_other_rates_to_16_khz():
    clip = vowels("aiu")
    at_48k = signal.resample_poly(clip, 3, 1).astype(np.float32)
    resampled, native = whisper_log_mel(at_48k, 48_000), whisper_log_mel(clip)
    assert resampled.shape == native.shape
    # up (scipy's polyphase) and down again (soxr): the same but in the last bands below
    # 8 kHz, where soxr's anti-aliasing filter rolls off
    np.testing.assert_allclose(resampled[:-4], native[:-4], atol=0.01)


def test_a_clip_shorter_than_the_stft_reflection_is_refused_with_its_length():
    with pytest.raises(AudioError, match=r"200 samples at 16 kHz \(12\.5 ms\).*remove the file"):
        whisper_log_mel(np.full(200, 0.1, np.float32))
    assert whisper_log_mel(np.full(201, 0.1, np.float32)).shape == (80, 1)


# ------------------------------------------------------------ randomly initialised models
class RandomWhisper(Converter):
    """A CTranslate2 Whisper model with random weights of any size: d-dimensional, ``layers``
    encoder layers, a one-layer decoder over a vocabulary of eight tokens."""

    def __init__(self, *, d=32, layers=2, heads=4, n_mels=80, seed=0, scale=1.0):
        self.d, self.layers, self.heads, self.n_mels = d, layers, heads, n_mels
        self.rng, self.scale = np.random.default_rng(seed), scale

    def _weight(self, *shape):
        return (self.scale * self.rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(
            np.float32
        )

    def _linear(self, spec, n_out, n_in):
        spec.weight = self._weight(n_out, n_in)
        spec.bias = self._weight(n_out)

    def _norm(self, spec):
        spec.gamma = np.ones(self.d, np.float32)
        spec.beta = np.zeros(self.d, np.float32)

    def _layer(self, layer, *, cross: bool):
        d = self.d
        self._norm(layer.self_attention.layer_norm)
        self._linear(layer.self_attention.linear[0], 3 * d, d)  # fused q, k, v
        self._linear(layer.self_attention.linear[1], d, d)
        if cross:
            self._norm(layer.attention.layer_norm)
            self._linear(layer.attention.linear[0], d, d)
            self._linear(layer.attention.linear[1], 2 * d, d)
            self._linear(layer.attention.linear[2], d, d)
        self._norm(layer.ffn.layer_norm)
        self._linear(layer.ffn.linear_0, 4 * d, d)
        self._linear(layer.ffn.linear_1, d, 4 * d)

    def _load(self):
        d, vocabulary = self.d, [f"<|token{i}|>" for i in range(8)]
        spec = whisper_spec.WhisperSpec(self.layers, self.heads, 1, self.heads)
        spec.encoder.conv1.weight = self._weight(d, self.n_mels, 3)
        spec.encoder.conv1.bias = self._weight(d)
        spec.encoder.conv2.weight = self._weight(d, d, 3)
        spec.encoder.conv2.bias = self._weight(d)
        spec.encoder.position_encodings.encodings = self._weight(1500, d)  # 30 s, as Whisper's
        self._norm(spec.encoder.layer_norm)
        for layer in spec.encoder.layer:
            self._layer(layer, cross=False)
        spec.decoder.embeddings.weight = self._weight(len(vocabulary), d)
        spec.decoder.position_encodings.encodings = self._weight(448, d)
        self._norm(spec.decoder.layer_norm)
        for layer in spec.decoder.layer:
            self._layer(layer, cross=True)
        spec.decoder.projection.weight = spec.decoder.embeddings.weight
        spec.register_vocabulary(vocabulary)
        spec.config.suppress_ids, spec.config.suppress_ids_begin = [], []
        spec.config.lang_ids, spec.config.alignment_heads = [], [(0, 0)]
        return spec


@pytest.fixture(scope="module")
def random_large_v3(tmp_path_factory):
    """large-v3's interface (128 mel bands) at a toy size: d = 32, two layers."""
    return RandomWhisper(n_mels=128).convert(str(tmp_path_factory.mktemp("m") / "random-128"))


def test_a_model_of_another_size_runs_the_same_path(random_large_v3):
    encoder = WhisperEncoder(random_large_v3)
    assert (encoder.n_mels, encoder.device, encoder.compute_type) == (128, "cpu", "int8")
    assert encoder.identity == encoders.encoder_identity(random_large_v3, "int8_float32")
    clip = vowels("aiueo")  # 1.25 s: 125 mel frames, 63 encoder frames (the last of an odd count)
    frames = whisper_frames(clip, SR, encoder=encoder)
    assert frames.shape == (63, 32) and frames.dtype == np.float32
    raw = encoder.model.encode(
        ctranslate2.StorageView.from_array(whisper_log_mel(clip, n_mels=128)[None]), to_cpu=True
    )
    np.testing.assert_array_equal(frames, np.asarray(raw)[0])
    embedding = whisper_embedding(clip, SR, encoder=encoder)
    np.testing.assert_allclose(
        embedding, np.r_[frames.mean(0), frames.std(0)], rtol=1e-5, atol=1e-6
    )
    # the recipe's zero padding is not speech: the padded clip gives the same frames
    padded = np.concatenate([clip, np.zeros(SR, np.float32)])
    np.testing.assert_array_equal(whisper_frames(padded, SR, encoder=encoder), frames)


def test_clips_longer_than_30_s_are_encoded_in_even_windows(tmp_path):
    encoder = WhisperEncoder(RandomWhisper(seed=1).convert(str(tmp_path / "random")))
    clip = np.resize(vowels("aeiou"), 35 * SR + 80)  # 3500 mel frames: two windows of 1750
    frames = whisper_frames(clip, SR, encoder=encoder)
    assert frames.shape == (1750, 32)
    mel = whisper_log_mel(clip)
    halves = [encoder.encode(mel[:, :1750]), encoder.encode(mel[:, 1750:])]
    np.testing.assert_array_equal(frames, np.concatenate(halves))
    with pytest.raises(ValueError):  # the encoder's position table holds 30 s
        encoder.model.encode(ctranslate2.StorageView.from_array(mel[None]), to_cpu=True)
    # Whisper's own way: 30-s windows of the clip followed by silence, only the speech kept
    padded = whisper_frames(clip, SR, encoder=encoder, pad_to_window=True)
    assert padded.shape == (1750, 32)
    assert not np.allclose(padded, frames, atol=1e-3)


def test_identity_names_the_weights_and_the_compute_type(tmp_path, random_large_v3):
    copy = shutil.copytree(random_large_v3, tmp_path / "copy")
    other = RandomWhisper(n_mels=128, seed=5).convert(str(tmp_path / "other"))
    identity = encoders.encoder_identity(random_large_v3, "float32")
    assert identity == encoders.encoder_identity(copy, "float32")  # content, not location
    assert identity != encoders.encoder_identity(other, "float32")
    assert identity != encoders.encoder_identity(random_large_v3, "int8")
    (copy / "model.bin").write_bytes((copy / "model.bin").read_bytes()[:-1] + b"\x01")
    assert encoders.encoder_identity(copy, "float32") != identity  # one byte of the weights


def test_the_encoder_pickles_without_its_model(random_large_v3):
    encoder = WhisperEncoder(random_large_v3)
    clip = vowels("ou")
    frames = whisper_frames(clip, SR, encoder=encoder)
    copy = pickle.loads(pickle.dumps(encoder))
    assert copy._model is None
    np.testing.assert_array_equal(whisper_frames(clip, SR, encoder=copy), frames)


def test_pooling_statistics_in_order():
    frames = np.array([[1.0, 4.0], [3.0, 0.0]])
    assert pool_frames(frames, ("mean", "std", "max")).tolist() == [2.0, 2.0, 1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match="median"):
        pool_frames(frames, ("median",))


# --------------------------------------------------------------------------- the --encoder
def test_resolve_encoder_takes_a_model_folder_and_refuses_others(tmp_path, random_large_v3):
    assert resolve_encoder(random_large_v3) == resolve_encoder(str(random_large_v3))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderUnavailableError, match=r"empty: .*no model\.bin or config\.json"):
        resolve_encoder(tmp_path / "empty")
    with pytest.raises(EncoderUnavailableError, match="unknown encoder 'huge'.*large-v3"):
        resolve_encoder("huge")


def test_named_models_offline_give_one_line_or_the_cached_copy(tmp_path, random_large_v3):
    # A copy in the Hugging Face cache layout, as an earlier download leaves it.
    snapshot = tmp_path / "hub" / "models--Systran--faster-whisper-base" / "snapshots" / "abc123"
    shutil.copytree(random_large_v3, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("abc123")
    script = textwrap.dedent(
        """
        from ser_utils.features.encoders import EncoderUnavailableError, resolve_encoder
        print(resolve_encoder("base", progress=False))
        try:
            resolve_encoder("small", progress=False)
        except EncoderUnavailableError as exc:
            print(exc)
        """
    )
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")}
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found, message = result.stdout.strip().splitlines()
    assert found == str(snapshot)
    assert message.startswith("encoder 'small' (Systran/faster-whisper-small) is not in the")
    assert "pass a local CTranslate2 model folder with --encoder" in message
    assert "--encoder tiny.en" in message


# ------------------------------------------------------------------------- the real weights
@pytest.fixture(scope="module")
def tiny_en():
    return WhisperEncoder()


def test_bundled_tiny_en_loads_offline_and_is_deterministic(tiny_en, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert resolve_encoder() == resolve_encoder("tiny.en")
    assert (tiny_en.path / "model.bin").stat().st_size > 70e6  # the real weights, not a stub
    mel = whisper_log_mel(vowels("aeiou"))
    view = ctranslate2.StorageView.from_array(mel[None])
    first = np.asarray(tiny_en.model.encode(view, to_cpu=True))
    assert first.shape == (1, mel.shape[1] // 2 + mel.shape[1] % 2, 384)
    second = np.asarray(tiny_en.model.encode(view, to_cpu=True))
    np.testing.assert_array_equal(first, second)
    assert whisper_embedding(vowels("aeiou"), SR, encoder=tiny_en).shape == (768,)


def aligned_distance(encoder, a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine distance between the encoder frames of two clips of one length."""
    fa, fb = (whisper_frames(x, SR, encoder=encoder) for x in (a, b))
    cosine = (fa * fb).sum(1) / np.linalg.norm(fa, axis=1) / np.linalg.norm(fb, axis=1)
    return float(1 - cosine.mean())


def test_real_weights_hear_the_vowels_through_another_voice(tiny_en, tmp_path):
    # The same vowels sung at another pitch and level stay close; other vowels at the same
    # pitch and level move away: three times as far with tiny.en's weights, while random
    # weights of tiny.en's size keep the two within a factor 1.3 of each other.
    sequence, other = "aiueoa", "ueaoiu"
    voice, another_voice = vowels(sequence), vowels(sequence, f0=150, gain=0.1, seed=1)
    other_vowels = vowels(other)

    def ratio(encoder):
        return aligned_distance(encoder, voice, other_vowels) / aligned_distance(
            encoder, voice, another_voice
        )

    assert ratio(tiny_en) > 2.5
    random_tiny = RandomWhisper(d=384, layers=4, heads=6, seed=0).convert(str(tmp_path / "r"))
    assert ratio(WhisperEncoder(random_tiny)) < 1.5


def test_extraction_over_files_keeps_order_frames_and_names_a_bad_file(tmp_path, random_large_v3):
    import soundfile as sf

    encoder = WhisperEncoder(random_large_v3)
    clips = {"long.wav": vowels("aeiou"), "short.wav": vowels("ia")}
    for name, clip in clips.items():
        sf.write(tmp_path / name, clip, SR, subtype="FLOAT")
    paths = [tmp_path / "short.wav", tmp_path / "long.wav"]
    result = encoders.extract_encoder_features(
        paths, sf.read, encoder=encoder, keep_frames=True, progress=False
    )
    assert result.pooled.shape == (2, 64) and result.identity == encoder.identity
    assert [f.shape for f in result.frames] == [(25, 32), (63, 32)]
    assert result.frames[0].dtype == np.float16
    np.testing.assert_allclose(
        result.pooled[1], whisper_embedding(clips["long.wav"], SR, encoder=encoder), rtol=1e-6
    )
    assert set(result.seconds) == {"read", "front_end", "encoder", "pooling"}
    sf.write(tmp_path / "click.wav", np.full(150, 0.5, np.float32), SR, subtype="FLOAT")
    for padded in (False, True):
        with pytest.raises(AudioError, match=r"click\.wav: the clip is too short"):
            encoders.extract_encoder_features(
                [tmp_path / "click.wav"],
                sf.read,
                encoder=encoder,
                progress=False,
                pad_to_window=padded,
            )


# ------------------------------------------------------------------ the feature cache
def test_whisper_features_are_cached_per_encoder_identity(tmp_path, random_large_v3):
    import dataclasses

    import soundfile as sf

    from ser_utils import audio, config
    from ser_utils.features import extract_features

    paths = []
    for index, sequence in enumerate(("aeiou", "ia", "ouea")):
        path = tmp_path / f"clip{index}.wav"
        sf.write(path, vowels(sequence, seed=index), 44_100 if index else SR, subtype="FLOAT")
        paths.append(path)
    cache = tmp_path / "cache"
    recipe = dataclasses.replace(
        config.improved_recipe("msp-improv", "smoke"), encoder=str(random_large_v3)
    )

    def extract(recipe, **options):
        return extract_features(
            paths,
            "whisper",
            recipe=recipe,
            cache_dir=cache,
            progress=False,
            return_info=True,
            **options,
        )

    first, info = extract(recipe)
    assert first.shape == (3, 64) and (info.hits, info.misses) == (0, 3)
    samples, sr = audio.load_and_preprocess(paths[1], encoders.WHISPER_AUDIO)
    expected = whisper_embedding(samples, sr, encoder=WhisperEncoder(random_large_v3))
    np.testing.assert_allclose(first[1], expected, rtol=1e-5, atol=1e-6)
    # The recipe's own audio chain does not enter the whisper set: the original's hits too.
    original = dataclasses.replace(
        config.original_recipe("msp-improv", "full"), encoder=recipe.encoder
    )
    again, info = extract(original)
    assert (info.hits, info.misses) == (3, 0) and np.array_equal(again, first)
    # Other weights, or the same weights in another compute type: computed again.
    other = RandomWhisper(n_mels=128, seed=1).convert(str(tmp_path / "other"))
    changed, info = extract(dataclasses.replace(recipe, encoder=other))
    assert (info.hits, info.misses) == (0, 3) and not np.allclose(changed, first)
    as_float, info = extract(
        recipe, encoder=WhisperEncoder(random_large_v3, compute_type="float32")
    )
    assert (info.hits, info.misses) == (0, 3)
    assert not np.array_equal(as_float, first)


def test_a_whisper_cache_key_needs_the_encoder_identity(tmp_path):
    from ser_utils.config import AudioConfig, FrameFeatureConfig
    from ser_utils.features import cache_key, feature_vector

    path = tmp_path / "a.wav"
    path.write_bytes(b"x")
    settings = {"frame_config": FrameFeatureConfig(), "audio_config": AudioConfig()}
    with pytest.raises(ValueError, match="needs the encoder's identity"):
        cache_key(path, "whisper", **settings)
    keys = {cache_key(path, "whisper", encoder_identity=name, **settings) for name in "ab"}
    assert len(keys) == 2
    with pytest.raises(ValueError, match="whisper features need an encoder"):
        feature_vector(np.zeros(16_000, np.float32), SR, "whisper")
