"""Bad input and faults, one row each: every case ends in one clear line (``error: …``,
exit 2) or in a correct result with a counted warning (exit 0).

Each row builds its bad input in a temporary folder, runs ``ser`` and checks the exit
status and the message; rows that give a result also check the result. Only the
``predict`` rows load TensorFlow (one untrained bundle for the module)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from ser_utils import config
from ser_utils.app.cli import main
from tests.helpers import write_msp_tree, write_tone

SRC = Path(__file__).resolve().parents[2] / "src"


#: Four R-type files, one per consensus label: enough for arrays, features and checks.
NAMES = {
    f"MSP-IMPROV-S01{label}-F01-R-FF0{index}": label for index, label in enumerate("AHSN", start=1)
}


# ------------------------------------------------------------------------- helpers
def msp_tree(tmp_path: Path, name: str = "msp") -> Path:
    return write_msp_tree(tmp_path / name, NAMES)


def wav_of(root: Path, stem: str) -> Path:
    return next(root.rglob(f"{stem}.wav"))


def unwritable(tmp_path: Path) -> Path:
    """A folder this process cannot write into, even as root (where permission bits do not apply)."""
    if os.geteuid() == 0:
        return Path("/sys/ser-test-output")  # sysfs refuses new entries to everyone
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    return folder / "out"


def cut_off_end(path: Path) -> Path:
    """Drop the second half of a wav's bytes, as an interrupted copy or download does."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def replace_samples(
    path: Path, samples: np.ndarray, sr: int = 44_100, *, keep_mtime: bool = False
) -> None:
    """Rewrite ``path`` with other content of the same length, as copying another file over it
    does; ``keep_mtime`` restores the old modification time, as ``touch -r`` does."""
    before = path.stat()
    sf.write(str(path), samples, sr, subtype="PCM_16")
    assert path.stat().st_size == before.st_size
    # Coarse file-system clocks could give the rewrite the old mtime; a real replacement comes later.
    shift = 0 if keep_mtime else 10**9
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + shift))
    assert keep_mtime == (path.stat().st_mtime_ns == before.st_mtime_ns)


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def subprocess_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


def stage_argv(command: str, root: Path, tmp: Path, *options) -> list:
    """``ser`` arguments running ``command`` (check, arrays, features) on ``root``, outputs under ``tmp``."""
    return {
        "check": ["data", "check", "msp-improv", root],
        "arrays": ["arrays", "msp-improv", root, "--out", tmp / "arrays", "--n-jobs", "1"],
        "features": [
            "features",
            "msp-improv",
            root,
            "--features",
            "functionals",
            "--out",
            tmp / "out",
            "--cache-dir",
            tmp / "cache",
            "--n-jobs",
            "1",
        ],
    }[command] + list(options)


def fake_bundle(
    tmp_path: Path, *, recipe: dict | None = None, model: bytes = b"PK\x05\x06" + bytes(18)
) -> Path:
    """A bundle folder with the given recipe.json and model.keras bytes (no TensorFlow needed)."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    recipe = recipe or config.improved_recipe("msp-improv", "smoke").to_dict()
    (folder / "recipe.json").write_text(json.dumps(recipe))
    (folder / "labels.json").write_text(json.dumps(list(config.FOUR_CLASSES)))
    (folder / "model.keras").write_bytes(model)
    return folder


def _whisper(command: str, encoder: str):
    """``command`` on the whisper features with ``--encoder encoder`` (``"folder"``: an empty one)."""

    def build(tmp, request):
        root = msp_tree(tmp)
        if encoder == "folder":
            (tmp / "not-a-model").mkdir()
        name = tmp / "not-a-model" if encoder == "folder" else encoder
        if command == "features":
            return ["features", "msp-improv", root, "--features", "whisper", "--encoder", name]
        return ["traditional", "msp-improv", root, "--features", "whisper", "--encoder", name]

    return build


# --------------------------------------------------------------------------- cases
@dataclass
class Case:
    """``build(tmp_path, request) -> argv``; ``status`` and ``message`` are expected, then ``check``."""

    build: Callable[[Path, pytest.FixtureRequest], list]
    status: int
    message: str
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path, str], None] | None = None  # (tmp_path, stdout + stderr) -> asserts


def _bogus_profile_features(tmp, request):
    return [
        "features",
        "msp-improv",
        msp_tree(tmp),
        "--features",
        "functionals",
        "--out",
        tmp / "out",
    ]


def _read_only(command: str, option: str | None = None):
    """``command`` with ``option`` (or the positional output) in a folder nobody can write to."""

    def build(tmp, request):
        root, target = msp_tree(tmp), unwritable(tmp)
        return {
            "arrays": ["arrays", "msp-improv", root, "--out", tmp / "arrays"],
            "features": [
                "features",
                "msp-improv",
                root,
                "--features",
                "functionals",
                "--out",
                tmp / "out",
                "--cache-dir",
                tmp / "cache",
            ],
            "manifest": ["data", "manifest", "msp-improv", root, "--out", target / "m.csv"],
            "synth": ["synth", "--out", target, "--corpus", "tess"],
            "train": [
                "train",
                "msp-improv",
                root,
                "--out",
                tmp / "run",
                "--arrays",
                tmp / "arrays",
            ],
            "traditional": [
                "traditional",
                "msp-improv",
                root,
                "--out",
                tmp / "results",
                "--cache-dir",
                tmp / "c",
            ],
        }[command] + ([option, target] if option else [])  # argparse keeps the last value

    return build


def _out_is_a_file(command: str):
    def build(tmp, request):
        root, target = msp_tree(tmp), tmp / "taken"
        target.write_text("not a folder")
        return {
            "arrays": ["arrays", "msp-improv", root, "--out", target],
            "features": [
                "features",
                "msp-improv",
                root,
                "--features",
                "functionals",
                "--out",
                target,
                "--cache-dir",
                tmp / "cache",
            ],
        }[command]

    return build


def _predict_with(bundle: Callable[[Path], Path]):
    def build(tmp, request):
        return ["predict", bundle(tmp), write_tone(tmp / "clip.wav")]

    return build


def _invalid_recipe(tmp):
    recipe = config.improved_recipe("msp-improv", "smoke").to_dict()
    recipe["audio"]["scaling"] = "loudest"
    return fake_bundle(tmp, recipe=recipe)


def _truncated(command: str):
    def build(tmp, request):
        root = msp_tree(tmp)
        cut_off_end(wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02"))
        if command == "predict":
            return [
                "predict",
                request.getfixturevalue("bundle_dir"),
                wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02"),
            ]
        return {
            "check": ["data", "check", "msp-improv", root],
            "arrays": ["arrays", "msp-improv", root, "--out", tmp / "arrays", "--n-jobs", "1"],
        }[command]

    return build


def _label_file(edit: Callable[[str], str]):
    def build(tmp, request):
        root = msp_tree(tmp)
        label_file = root / "Evaluation.txt"
        label_file.write_bytes(edit(label_file.read_text()).encode("utf-8"))
        return ["data", "manifest", "msp-improv", root, "--out", tmp / "manifest.csv"]

    return build


def _with_bom(text: str) -> str:
    return "\ufeff" + text


def _with_junk_lines(text: str) -> str:
    # A header before the first block, a note inside one, and rater 1 listed twice with other values.
    first, rest = text.split("\n", 1)
    return (
        "MSP-IMPROV evaluation, exported 2017-03-01\n"
        + first
        + "\n(see notes)\n"
        + "RATER001; Neutral; Sad; A:2.0; V:3.0; D:3.0; N:3.0;\n"
        + rest
    )


def _with_conflict(text: str) -> str:
    # A second block for the first (angry) file, labelled happy.
    return (
        text + "\nUTD-IMPROV-S01A-F01-R-FF01.avi; H; A:2.0; V:4.0; D:3.0 ; N:3.0;\n"
        "RATER009; Happy; ; A:2.0; V:4.0; D:3.0; N:3.0;\n"
    )


def _manifest(tmp: Path) -> pd.DataFrame:
    return pd.read_csv(tmp / "manifest.csv").set_index("utterance_id")


def _mixed_rates(command: str):
    def build(tmp, request):
        root = msp_tree(tmp)
        write_tone(wav_of(root, "MSP-IMPROV-S01S-F01-R-FF03"), seconds=0.3, sr=8_000)
        return stage_argv(command, root, tmp)

    return build


def _other_formats(tmp, request):
    root = msp_tree(tmp)
    folder = wav_of(root, "MSP-IMPROV-S01A-F01-R-FF01").parent
    for name in ("MSP-IMPROV-S01A-F01-R-FF05.flac", "MSP-IMPROV-S01A-F01-R-FF06.ogg"):
        sf.write(str(folder / name), np.zeros(4410, np.float32) + 0.1, 44_100)
    (folder / "MSP-IMPROV-S01A-F01-R-FF07.mp3").write_bytes(b"ID3" + bytes(64))
    return ["data", "check", "msp-improv", root]


def _predict_clip(samples: np.ndarray, sr: int = 16_000):
    def build(tmp, request):
        path = tmp / "clip.wav"
        sf.write(str(path), samples, sr, subtype="PCM_16")
        return ["predict", request.getfixturevalue("bundle_dir"), path, "--json"]

    return build


def _near_silent() -> np.ndarray:
    return (np.resize([1, -1], 16_000) / 32768).astype(np.float32)  # +-1 LSB of 16-bit PCM


def _unreadable(skip: bool):
    def build(tmp, request):
        root = msp_tree(tmp)
        wav_of(root, "MSP-IMPROV-S01N-F01-R-FF04").write_bytes(
            b"RIFF\x10\x00\x00\x00WAVEjunk-not-audio"
        )
        return [
            "arrays",
            "msp-improv",
            root,
            "--out",
            tmp / "arrays",
            "--n-jobs",
            "1",
            *(["--skip-bad-files"] if skip else []),
        ]

    return build


def _anti_phase(tmp, request):
    root = msp_tree(tmp)
    path = wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02")
    tone = (0.5 * np.sin(np.arange(13_230) * 0.05)).astype(np.float32)
    sf.write(str(path), np.stack([tone, -tone], axis=1), 44_100, subtype="PCM_16")
    return ["arrays", "msp-improv", root, "--out", tmp / "arrays", "--n-jobs", "1"]


def _one_sample(tmp, request):
    root = msp_tree(tmp)
    sf.write(str(wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02")), np.array([0.5], np.float32), 44_100)
    return [
        "arrays",
        "msp-improv",
        root,
        "--recipe",
        "improved",
        "--out",
        tmp / "arrays",
        "--n-jobs",
        "1",
    ]


def _corrupt_first_copy(tmp, request):
    root = msp_tree(tmp)
    good = wav_of(root, "MSP-IMPROV-S01A-F01-R-FF01")
    # An archive unzipped twice: the copy met first (session1/S01A/…) is damaged, the nested one is good.
    nested = root / "session1" / "session1" / "S01A" / "R"
    nested.mkdir(parents=True)
    shutil.copy(good, nested / good.name)
    good.write_bytes(b"RIFF")
    return ["data", "manifest", "msp-improv", root, "--out", tmp / "manifest.csv"]


def _missing_label_file(tmp, request):
    root = msp_tree(tmp)
    (root / "Evaluation.txt").unlink()
    return ["data", "check", "msp-improv", root]


def _corrupt_wav(empty: bool):
    def build(tmp, request):
        root = msp_tree(tmp)
        wav_of(root, "MSP-IMPROV-S01S-F01-R-FF03").write_bytes(
            b"" if empty else b"RIFF\x00\x00junk"
        )
        return ["data", "check", "msp-improv", root]

    return build


def _check_modes(tmp: Path, output: str) -> None:
    mode = 0o666 & ~0o022
    written = [tmp / "m.csv", *sorted((tmp / "arrays").iterdir())]
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {
        path.name: mode for path in written
    }


def _file_modes(tmp, request):
    root = msp_tree(tmp)
    assert main(["data", "manifest", "msp-improv", str(root), "--out", str(tmp / "m.csv")]) == 0
    return ["arrays", "msp-improv", root, "--out", tmp / "arrays", "--n-jobs", "1"]


CASES: dict[str, Case] = {
    # ---- tracebacks before: now one line, exit 2
    "profile_bogus_features": Case(
        _bogus_profile_features,
        2,
        "SER_PROFILE='bogus' is not a profile",
        env={"SER_PROFILE": "bogus"},
    ),
    "profile_bogus_data_prepare": Case(
        lambda tmp, request: ["data", "prepare"],
        2,
        "SER_PROFILE='bogus' is not a profile",
        env={"SER_PROFILE": "bogus"},
    ),
    "encoder_offline_features": Case(
        lambda tmp, request: [*_whisper("features", "base")(tmp, request), "--out", tmp / "out"],
        2,
        "is not in the Hugging Face cache and cannot be fetched from here",
        env={"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": "/nonexistent/ser-test-hub-cache"},
    ),
    "encoder_not_a_model_traditional": Case(
        _whisper("traditional", "folder"), 2, "is not a CTranslate2 Whisper model folder"
    ),
    "encoder_unknown_name_traditional": Case(
        _whisper("traditional", "tiniest"), 2, "unknown encoder 'tiniest'"
    ),
    "read_only_out_arrays": Case(_read_only("arrays", "--out"), 2, "is not writable"),
    "read_only_out_features": Case(_read_only("features", "--out"), 2, "is not writable"),
    "read_only_cache_dir_features": Case(
        _read_only("features", "--cache-dir"), 2, "cannot write --cache-dir"
    ),
    "read_only_out_data_manifest": Case(_read_only("manifest"), 2, "is not writable"),
    "read_only_out_synth": Case(_read_only("synth"), 2, "cannot write --out"),
    "read_only_out_train_fails_before_training": Case(
        _read_only("train", "--out"),
        2,
        "cannot write --out",
        check=lambda tmp, output: (
            not (tmp / "arrays").exists() or pytest.fail("arrays were generated")
        ),
    ),
    "read_only_cache_dir_traditional": Case(
        _read_only("traditional", "--cache-dir"), 2, "cannot write --cache-dir"
    ),
    "out_is_a_file_arrays": Case(_out_is_a_file("arrays"), 2, "is a file, not a folder"),
    "out_is_a_file_features": Case(_out_is_a_file("features"), 2, "is a file, not a folder"),
    "bundle_recipe_json_invalid_values": Case(
        _predict_with(_invalid_recipe), 2, "recipe.json: invalid recipe (unknown scaling 'loudest'"
    ),
    # ---- misleading messages before
    "bundle_model_keras_empty": Case(
        _predict_with(lambda tmp: fake_bundle(tmp, model=b"")),
        2,
        "model.keras: the model file is corrupt (empty)",
    ),
    "bundle_model_keras_damaged": Case(
        _predict_with(lambda tmp: fake_bundle(tmp, model=b"PK\x03\x04garbage")),
        2,
        "model.keras: the model file is corrupt (damaged",
    ),
    "unreadable_file_original_recipe": Case(
        _unreadable(skip=False), 2, "MSP-IMPROV-S01N-F01-R-FF04.wav: cannot read audio"
    ),
    "unreadable_file_skip_bad_files": Case(
        _unreadable(skip=True),
        0,
        "1 of 4 files skipped",
        check=lambda tmp, output: (
            np.load(tmp / "arrays" / "labels.npy").tolist() == ["angry", "happy", "sad"]
            or pytest.fail("wrong rows kept")
        ),
    ),
    "anti_phase_stereo": Case(
        _anti_phase, 2, "channels cancel out when averaged to mono (anti-phase stereo)"
    ),
    "one_sample_file": Case(_one_sample, 2, "too short to use: resampling its 1 samples"),
    "duplicate_first_copy_corrupt": Case(
        _corrupt_first_copy,
        0,
        "1 unusable copies of duplicated files replaced by a good copy",
        check=lambda tmp, output: (
            "/session1/session1/" in _manifest(tmp).at["MSP-IMPROV-S01A-F01-R-FF01", "path"]
            or pytest.fail("the corrupt copy was used")
        ),
    ),
    # ---- silent wrong results before
    "truncated_wav_data_check": Case(
        _truncated("check"), 2, "MSP-IMPROV-S01H-F01-R-FF02.wav: truncated"
    ),
    "truncated_wav_arrays": Case(
        _truncated("arrays"), 2, "MSP-IMPROV-S01H-F01-R-FF02.wav: the file is truncated"
    ),
    "truncated_wav_predict": Case(
        _truncated("predict"), 2, "MSP-IMPROV-S01H-F01-R-FF02.wav: the file is truncated"
    ),
    "label_file_with_bom": Case(
        _label_file(_with_bom),
        0,
        "4 utterances",
        check=lambda tmp, output: len(_manifest(tmp)) == 4 or pytest.fail("row lost"),
    ),
    "label_file_junk_lines_and_repeated_rater": Case(
        _label_file(_with_junk_lines),
        0,
        "2 lines of the label file are neither consensus nor rater lines",
        check=lambda tmp, output: (
            _manifest(tmp)["n_raters"].tolist() == [2, 2, 2, 2]
            or pytest.fail(f"n_raters {_manifest(tmp)['n_raters'].tolist()}")
        ),
    ),
    "label_file_conflicting_consensus": Case(
        _label_file(_with_conflict),
        0,
        "1 files with disagreeing consensus lines in the label file, first line used",
        check=lambda tmp, output: (
            _manifest(tmp).at["MSP-IMPROV-S01A-F01-R-FF01", "label"] == "angry"
            and _manifest(tmp).at["MSP-IMPROV-S01A-F01-R-FF01", "n_raters"] == 3
            or pytest.fail("wrong label")
        ),
    ),
    "mixed_rates_features": Case(
        _mixed_rates("features"), 2, "several sample rates (8000, 44100 Hz)"
    ),
    "mixed_rates_arrays_same_refusal": Case(
        _mixed_rates("arrays"), 2, "several sample rates (8000, 44100 Hz)"
    ),
    "other_audio_formats_counted": Case(
        _other_formats, 0, "3 audio files not in wav format left out"
    ),
    "predict_10_ms_clip": Case(
        _predict_clip(np.full(160, 0.3, np.float32) * np.resize([1, -1], 160)),
        0,
        "warning: 1 of 1 clips: the label is not meaningful",
    ),
    "predict_near_silent_clip": Case(
        _predict_clip(_near_silent()), 0, "near-silent (peak -90 dBFS)"
    ),
    "predict_dc_offset_clip": Case(
        _predict_clip(np.full(16_000, 0.25, np.float32)), 0, "a constant (DC offset) with no sound"
    ),
    "output_file_modes": Case(_file_modes, 0, "4 utterances", check=_check_modes),
    # ---- already one line before; kept that way
    "missing_label_file": Case(_missing_label_file, 2, "Evaluation.txt not found under"),
    "corrupt_wav": Case(
        _corrupt_wav(empty=False), 2, "MSP-IMPROV-S01S-F01-R-FF03.wav: unreadable or corrupt"
    ),
    "empty_wav": Case(
        _corrupt_wav(empty=True), 2, "MSP-IMPROV-S01S-F01-R-FF03.wav: unreadable or corrupt"
    ),
    "unknown_protocol": Case(
        lambda tmp, request: ["traditional", "msp-improv", msp_tree(tmp), "--protocol", "nope"],
        2,
        "unknown protocol 'nope'",
    ),
    "unknown_original_run": Case(
        lambda tmp, request: ["traditional", "msp-improv", msp_tree(tmp), "--original-run", "last"],
        2,
        "unknown original run 'last': expected one of first, evaluation",
    ),
    "missing_bundle": Case(
        _predict_with(lambda tmp: tmp / "no-bundle"), 2, "model bundle not found"
    ),
}


# ----------------------------------------------------------- faults of a real machine
@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, or a skip where this process may not mount one (not root, no mount)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _disk_full(command: str):
    def build(tmp, request):
        root, disk = msp_tree(tmp), request.getfixturevalue("small_disk")
        if command == "features":  # fill the disk so that the first output cannot be written
            handle = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
            try:
                while os.write(handle, bytes(1 << 16)):
                    pass
            except OSError:
                pass
            finally:
                os.close(handle)
            return [
                "features",
                "msp-improv",
                root,
                "--features",
                "frames",
                "--out",
                disk / "out",
                "--cache-dir",
                disk / "cache",
                "--n-jobs",
                "1",
            ]
        if command == "train":
            return [
                "train",
                "msp-improv",
                root,
                "--recipe",
                "improved",
                "--out",
                disk / "run",
                "--arrays",
                tmp / "arrays",
                "--n-jobs",
                "1",
            ]
        return ["arrays", "msp-improv", root, "--out", disk / "arrays", "--n-jobs", "2"]

    return build


def _header_rate(command: str, rate: int = 1):
    """A wav whose header claims ``rate`` Hz (bytes 24–31: sample rate and byte rate)."""

    def build(tmp, request):
        root = msp_tree(tmp)
        path = wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02")
        data = bytearray(path.read_bytes())
        data[24:32] = rate.to_bytes(4, "little") + (2 * rate).to_bytes(4, "little")
        path.write_bytes(bytes(data))
        if command == "predict":
            return ["predict", request.getfixturevalue("bundle_dir"), path]
        if command == "arrays_original":
            return stage_argv("arrays", root, tmp)
        return stage_argv(
            command, root, tmp, *(["--recipe", "improved"] if command != "check" else [])
        )

    return build


def _fifo(command: str):
    def build(tmp, request):
        root = msp_tree(tmp)
        path = wav_of(root, "MSP-IMPROV-S01N-F01-R-FF04")
        path.unlink()
        os.mkfifo(path)
        return stage_argv(command, root, tmp)

    return build


def _linked_session(loop: bool):
    def build(tmp, request):
        root = msp_tree(tmp)
        elsewhere = tmp / "elsewhere"
        shutil.move(root / "session1", elsewhere)
        (root / "session1").symlink_to(elsewhere, target_is_directory=True)
        if loop:
            (elsewhere / "S01A" / "back-to-root").symlink_to(root, target_is_directory=True)
        return ["data", "manifest", "msp-improv", root, "--out", tmp / "manifest.csv"]

    return build


def _odd_clip(samples: np.ndarray, command: str):
    """FF02 replaced by ``samples`` (44.1 kHz): taken in, with the same counted warning."""

    def build(tmp, request):
        root = msp_tree(tmp)
        sf.write(str(wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02")), samples, 44_100, "PCM_16")
        return stage_argv(command, root, tmp)

    return build


def _silent_clip(tmp, request):
    root = msp_tree(tmp)
    sf.write(str(wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02")), np.zeros(4410), 44_100, "PCM_16")
    return ["data", "check", "msp-improv", root]


def _bundle_edit(edit: Callable[[dict], None]):
    def bundle(tmp):
        recipe = config.improved_recipe("msp-improv", "smoke").to_dict()
        edit(recipe)
        return fake_bundle(tmp, recipe=recipe)

    return bundle


def _set(section: str, key: str, value):
    return lambda recipe: recipe[section].__setitem__(key, value)


def _duplicate_labels(tmp):
    folder = fake_bundle(tmp)
    (folder / "labels.json").write_text(json.dumps(["angry", "angry", "sad", "neutral"]))
    return folder


def _run_directory(tmp):
    run = tmp / "run"
    run.mkdir()
    (run / "report.md").write_text("# run\n")
    fake_bundle(tmp).rename(run / "model")
    return run


def _predict_folder_with_mp3(tmp, request):
    folder = tmp / "clips"
    folder.mkdir()
    write_tone(folder / "a.wav")
    (folder / "b.mp3").write_bytes(b"ID3" + bytes(64))
    (folder / "c.mp3").write_bytes(b"ID3" + bytes(64))
    return ["predict", request.getfixturevalue("bundle_dir"), folder]


def _label_file_variant(variant: str):
    def build(tmp, request):
        root = msp_tree(tmp)
        label_file = root / "Evaluation.txt"
        if variant == "lower_case":
            label_file.rename(root / "evaluation.txt")
        elif variant == "folder":
            label_file.unlink()
            label_file.mkdir()
        elif variant == "utf16":
            label_file.write_bytes(label_file.read_text().encode("utf-16"))
        return ["data", "manifest", "msp-improv", root, "--out", tmp / "manifest.csv"]

    return build


def _tess_unparseable(tmp, request):
    root = tmp / "TESS"
    for folder in (
        "OAF_angry",
        "OAF_happy",
        "YAF_sad",
        "YAF_fear",
        "OAF_neutral",
        "YAF_ps",
        "OAF_x",
    ):
        for name in ("take1", "take2"):
            write_tone(root / folder / f"{name}.wav", seconds=0.1)
    return ["data", "check", "tess", root]


def _no_permission(tmp, request):
    if os.geteuid() == 0:
        pytest.skip("root reads any file whatever its permission bits")
    root = msp_tree(tmp)
    wav_of(root, "MSP-IMPROV-S01N-F01-R-FF04").chmod(0)
    return ["arrays", "msp-improv", root, "--out", tmp / "arrays", "--n-jobs", "1"]


def _concurrent_arrays(tmp, request):
    """A second ``ser arrays`` while the first holds the folder (its lock, taken here)."""
    import fcntl

    root, out = msp_tree(tmp), tmp / "arrays"
    out.mkdir()
    handle = open(out / ".partial.lock", "a+")  # noqa: SIM115 -- held until the test ends
    request.addfinalizer(handle.close)
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return ["arrays", "msp-improv", root, "--out", out, "--n-jobs", "1"]


def _folds_outside(tmp, request):
    root = write_msp_tree(
        tmp / "msp",
        {
            f"MSP-IMPROV-S01{label}-{gender}{session:02d}-R-FF0{i}": label
            for session in (1, 2)
            for gender in "FM"
            for i, label in enumerate("AHSN", start=1)
        },
    )
    return [
        "evaluate",
        "msp-improv",
        root,
        "--protocol",
        "speaker",
        "--folds",
        "99",
        "--out",
        tmp / "run",
        "--arrays",
        tmp / "arrays",
        "--n-jobs",
        "1",
        "--epochs",
        "1",
    ]


def _arrays_json(tmp: Path) -> dict:
    return json.loads((tmp / "arrays" / "arrays.json").read_text())


CASES.update(
    {
        # ---- crash, leak, hang
        "disk_full_arrays_checked_before_sizing": Case(
            _disk_full("arrays"), 2, "not enough free space for 4 arrays rows"
        ),
        "disk_full_features_names_the_file": Case(
            _disk_full("features"), 2, "No space left on device — check the path"
        ),
        "disk_full_train_checked_before_the_epochs": Case(
            _disk_full("train"),
            2,
            "not enough free space for the model bundle",
            check=lambda tmp, output: "epoch 1/" not in output or pytest.fail("it trained"),
        ),
        "header_rate_1_hz_data_check": Case(
            _header_rate("check"), 2, "sample rate of 1 Hz, outside 1–384 kHz"
        ),
        "header_rate_1_hz_arrays": Case(
            _header_rate("arrays"), 2, "sample rate of 1 Hz, outside 1–384 kHz"
        ),
        "header_rate_1_hz_arrays_original_recipe": Case(
            _header_rate("arrays_original"), 2, "sample rate of 1 Hz, outside 1–384 kHz"
        ),
        "header_rate_1_hz_features": Case(
            _header_rate("features"), 2, "sample rate of 1 Hz, outside 1–384 kHz"
        ),
        "header_rate_1_hz_predict": Case(
            _header_rate("predict"), 2, "sample rate of 1 Hz, outside 1–384 kHz"
        ),
        "header_rate_1_mhz_data_check": Case(
            _header_rate("check", rate=1_000_000), 2, "sample rate of 1000000 Hz"
        ),
        "fifo_named_wav_data_check": Case(
            _fifo("check"), 0, "1 .wav names are not regular files (named pipes, devices)"
        ),
        "fifo_named_wav_arrays": Case(
            _fifo("arrays"),
            0,
            "3 utterances",
            check=lambda tmp, output: (
                _arrays_json(tmp)["n"] == 3 or pytest.fail("the FIFO's row was made up")
            ),
        ),
        # ---- silent wrong results
        "bundle_target_sr_0": Case(
            _predict_with(_bundle_edit(_set("audio", "target_sr", 0))),
            2,
            "recipe.json: invalid recipe (audio.target_sr 0 is not a sample rate",
        ),
        "bundle_resample_type_magic": Case(
            _predict_with(_bundle_edit(_set("audio", "resample_type", "magic"))),
            2,
            "invalid recipe (unknown resample_type 'magic'",
        ),
        "bundle_huge_target_length": Case(
            _predict_with(_bundle_edit(_set("audio", "target_length", 10**12))),
            2,
            "audio.target_length 1000000000000 is outside",
        ),
        "bundle_wrong_types_one_line_each_problem": Case(
            _predict_with(
                _bundle_edit(
                    lambda r: (
                        r["training"].update(epochs="many", batch_size=0)
                        or r["spectrogram"].update(n_mels=-3)
                    )
                )
            ),
            2,
            "training.epochs 'many' is not of type int; training.batch_size 0 is outside",
        ),
        "bundle_labels_duplicated": Case(
            _predict_with(_duplicate_labels),
            2,
            "labels.json: invalid class list (labels.json names angry twice",
        ),
        "run_directory_instead_of_bundle": Case(
            _predict_with(_run_directory),
            2,
            "is a run directory, not a model bundle — pass its bundle folder",
        ),
        "session_folder_symlink_followed": Case(
            _linked_session(loop=False),
            0,
            "1 folders reached through symbolic links were read",
            check=lambda tmp, output: len(_manifest(tmp)) == 4 or pytest.fail("files dropped"),
        ),
        "symlink_loop_counted": Case(
            _linked_session(loop=True),
            0,
            "1 symbolic links lead back to a folder already read and were not followed",
            check=lambda tmp, output: len(_manifest(tmp)) == 4 or pytest.fail("files dropped"),
        ),
        "clip_10_ms_data_check": Case(
            _odd_clip(np.resize([0.3, -0.3], 441), "check"),
            0,
            "1 of 4 files: the label is not meaningful — MSP-IMPROV-S01H-F01-R-FF02.wav: shorter than one analysis frame (10 ms < 40 ms)",
        ),
        "clip_10_ms_arrays": Case(
            _odd_clip(np.resize([0.3, -0.3], 441), "arrays"),
            0,
            "1 of 4 files: the label is not meaningful — MSP-IMPROV-S01H-F01-R-FF02: shorter than one analysis frame",
            check=lambda tmp, output: (
                _arrays_json(tmp)["warned"][0]["row"] == 1 or pytest.fail("warning not recorded")
            ),
        ),
        "clip_10_ms_features": Case(
            _odd_clip(np.resize([0.3, -0.3], 441), "features"),
            0,
            "1 of 4 files: the label is not meaningful — MSP-IMPROV-S01H-F01-R-FF02.wav: shorter than one analysis frame",
        ),
        "clip_1_sample_arrays": Case(
            _odd_clip(np.array([0.5]), "arrays"),
            0,
            "shorter than one analysis frame (0 ms < 40 ms); a constant (DC offset) with no sound",
        ),
        "clip_dc_offset_data_check": Case(
            _odd_clip(np.full(13_230, 0.25), "check"), 0, "a constant (DC offset) with no sound"
        ),
        "clip_dc_offset_arrays": Case(
            _odd_clip(np.full(13_230, 0.25), "arrays"), 0, "a constant (DC offset) with no sound"
        ),
        "clip_all_zero_data_check_refused_like_arrays": Case(
            _silent_clip, 2, "MSP-IMPROV-S01H-F01-R-FF02.wav: silent (all samples are zero)"
        ),
        "predict_folder_with_mp3_counted": Case(
            _predict_folder_with_mp3,
            0,
            "2 audio files not in wav/flac/ogg format left out (b.mp3, c.mp3)",
        ),
        "evaluate_folds_outside_the_protocol": Case(
            _folds_outside,
            2,
            "--folds 99: protocol speaker has 4 folds here — choose folds from 1 to 4",
        ),
        # ---- misleading or raw
        "two_arrays_runs_into_one_folder": Case(
            _concurrent_arrays,
            2,
            "another `ser arrays` (or training run) is writing into this folder — wait for it",
        ),
        "no_read_permission": Case(
            _no_permission,
            2,
            "MSP-IMPROV-S01N-F01-R-FF04.wav: permission denied — make the file readable",
        ),
        "label_file_lower_case": Case(
            _label_file_variant("lower_case"),
            0,
            "4 utterances",
            check=lambda tmp, output: len(_manifest(tmp)) == 4 or pytest.fail("rows lost"),
        ),
        "label_file_is_a_folder": Case(
            _label_file_variant("folder"), 2, "Evaluation.txt is a folder, not the label file"
        ),
        "label_file_utf16": Case(
            _label_file_variant("utf16"),
            0,
            "4 utterances",
            check=lambda tmp, output: (
                sorted(_manifest(tmp)["label"]) == ["angry", "happy", "neutral", "sad"]
                or pytest.fail("labels misread")
            ),
        ),
        "tess_no_parseable_names_counted": Case(_tess_unparseable, 2, "14 wav files under"),
        "n_jobs_zero": Case(
            lambda tmp, request: [
                "arrays",
                "msp-improv",
                msp_tree(tmp),
                "--out",
                tmp / "a",
                "--n-jobs",
                "0",
            ],
            2,
            "argument --n-jobs: 0 is not a number of worker processes",
        ),
        "n_jobs_negative_features": Case(
            lambda tmp, request: [
                "features",
                "msp-improv",
                msp_tree(tmp),
                "--features",
                "frames",
                "--out",
                tmp / "o",
                "--n-jobs",
                "-5",
            ],
            2,
            "argument --n-jobs: -5 is not a number of worker processes",
        ),
    }
)


# ----------------------------------------------------------------- stale caches
def _change_and_rerun(
    capsys, argv: list[str], changed: Path, result: Path, *, keep_mtime: bool = False
) -> tuple[np.ndarray, np.ndarray, str]:
    """Run ``ser argv``, replace ``changed`` by other audio of the same length, run again:
    ``(result before, result after, output of the second run)``."""
    assert main(argv) == 0
    before = np.load(result)
    replace_samples(
        changed,
        (0.4 * np.sin(np.arange(13_230) * 0.11)).astype(np.float32),
        keep_mtime=keep_mtime,
    )
    capsys.readouterr()
    assert main(argv) == 0
    return before, np.load(result), capsys.readouterr().out


def _children(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc, no psutil needed)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":  # a zombie is already gone
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_or_a_counted_warning(
    name, tmp_path, capsys, caplog, monkeypatch, request
):
    case = CASES[name]
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # default outputs (outputs/…) land in the temporary folder
    old_umask = os.umask(0o022)
    try:
        argv = [str(a) for a in case.build(tmp_path, request)]
        capsys.readouterr()
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse refuses an argument: usage line, then one error line
            status = exc.code
    finally:
        os.umask(old_umask)
    out, err = capsys.readouterr()
    output = out + err + caplog.text  # warnings are logged: `ser` shows them on stderr
    assert status == case.status, output
    assert case.message in output, output
    assert "Traceback" not in output
    if status == 2:
        # ``error: …`` from ser, ``ser …: error: …`` from argparse (after its usage line)
        errors = [
            line for line in err.splitlines() if line.startswith("error:") or ": error: " in line
        ]
        assert len(errors) == 1 and errors[0] == err.strip().splitlines()[-1], err
    if case.check is not None:
        case.check(tmp_path, output)


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "mtime_restored"])
def test_arrays_are_generated_again_when_a_file_changes_in_place(tmp_path, capsys, keep_mtime):
    root = msp_tree(tmp_path)
    argv = ["arrays", "msp-improv", str(root), "--out", str(tmp_path / "arrays"), "--n-jobs", "1"]
    before, after, out = _change_and_rerun(
        capsys,
        argv,
        wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02"),
        tmp_path / "arrays" / "audio.npy",
        keep_mtime=keep_mtime,
    )
    assert "arrays out of date: 1 of 4 files changed" in out
    assert np.array_equal(after[[0, 2, 3]], before[[0, 2, 3]]) and not np.array_equal(
        after[1], before[1]
    )
    assert main(argv) == 0 and "arrays up to date" in capsys.readouterr().out


def test_arrays_of_another_copy_with_the_same_names_are_not_reused(tmp_path, capsys):
    first = msp_tree(tmp_path, "first")
    second = shutil.copytree(first, tmp_path / "second")
    write_tone(
        wav_of(second, "MSP-IMPROV-S01A-F01-R-FF01"), seconds=0.3, sr=44_100, frequency=330.0
    )
    out_dir = str(tmp_path / "arrays")
    assert main(["arrays", "msp-improv", str(first), "--out", out_dir, "--n-jobs", "1"]) == 0
    capsys.readouterr()
    assert main(["arrays", "msp-improv", str(second), "--out", out_dir, "--n-jobs", "1"]) == 0
    assert "4 of 4 files changed" in capsys.readouterr().out
    metadata = json.loads((tmp_path / "arrays" / "arrays.json").read_text())
    assert all(str(second.resolve()) in entry[0] for entry in metadata["files"])


@pytest.mark.parametrize("keep_mtime", [False, True], ids=["new_mtime", "mtime_restored"])
def test_features_of_a_changed_file_are_computed_again_and_counted(tmp_path, capsys, keep_mtime):
    root = msp_tree(tmp_path)
    argv = [
        "features",
        "msp-improv",
        str(root),
        "--features",
        "functionals",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--n-jobs",
        "1",
    ]
    before, after, out = _change_and_rerun(
        capsys,
        argv,
        wav_of(root, "MSP-IMPROV-S01S-F01-R-FF03"),
        tmp_path / "out" / "msp-improv_functionals.npy",
        keep_mtime=keep_mtime,
    )
    assert "3 hits, 1 computed, 1 of them because the file changed" in out
    assert np.array_equal(after[:3], before[:3]) and not np.allclose(
        after[3], before[3]
    )  # rows by utterance id
    assert (
        len(list((tmp_path / "cache" / "functionals").rglob("*.npy"))) == 4
    )  # the stale entry is gone


def test_raw_data_is_never_modified(tmp_path, capsys):
    root = msp_tree(tmp_path)
    digest = tree_digest(root)
    assert (
        main(
            ["arrays", "msp-improv", str(root), "--out", str(tmp_path / "arrays"), "--n-jobs", "1"]
        )
        == 0
    )
    assert (
        main(
            [
                "features",
                "msp-improv",
                str(root),
                "--features",
                "functionals",
                "--out",
                str(tmp_path / "f"),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--n-jobs",
                "1",
            ]
        )
        == 0
    )
    assert tree_digest(root) == digest


# ------------------------------------------------------------------------ faults
def test_predict_checks_the_audio_before_importing_tensorflow(tmp_path):
    bundle = fake_bundle(tmp_path)
    code = (
        "import sys; from ser_utils.app.cli import main; status = main(sys.argv[1:]); "
        "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'tensorflow not loaded'); sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "predict", str(bundle), str(tmp_path / "missing.wav")],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "missing.wav: audio file not found" in result.stderr
    assert "tensorflow not loaded" in result.stdout


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc"
)
def test_sigterm_during_arrays_ends_every_worker_and_a_rerun_is_correct(tmp_path):
    root = write_msp_tree(
        tmp_path / "msp",
        {f"MSP-IMPROV-S01{'AHSN'[i % 4]}-F01-R-FF{i:02d}": "AHSN"[i % 4] for i in range(1, 17)},
    )
    out_dir = tmp_path / "arrays"
    argv = [
        sys.executable,
        "-m",
        "ser_utils.app.cli",
        "arrays",
        "msp-improv",
        str(root),
        "--profile",
        "smoke",
        "--out",
        str(out_dir),
        "--n-jobs",
        "2",
    ]
    process = subprocess.Popen(
        argv,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (out_dir / ".partial" / "progress.json").exists() or not _children(process.pid):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.05)
    time.sleep(0.3)  # the workers have started
    workers = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert "terminated" in err and "Traceback" not in err
    time.sleep(1)
    alive = [
        pid
        for pid in workers
        if Path(f"/proc/{pid}").exists()
        and (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")
    ]
    for pid in alive:  # leave nothing behind, whatever the outcome
        os.kill(pid, signal.SIGKILL)
    assert alive == []
    assert not (out_dir / "arrays.json").exists()  # a partial run is never taken as complete
    # The re-run and an uninterrupted reference run in this process (no interpreter start-up).
    assert main(argv[3:]) == 0
    fresh = tmp_path / "fresh"
    assert main([*argv[3:-4], "--out", str(fresh), "--n-jobs", "1"]) == 0
    for name in ("audio.npy", "spectrograms.npy", "labels.npy"):
        assert np.array_equal(np.load(out_dir / name), np.load(fresh / name)), name
