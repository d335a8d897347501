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

SRC = Path(__file__).resolve().parents[1] / "src"


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


def replace_samples(path: Path, samples: np.ndarray, sr: int = 44_100) -> None:
    """Rewrite ``path`` with other content of the same length, as copying another file over it does."""
    before = path.stat()
    sf.write(str(path), samples, sr, subtype="PCM_16")
    assert path.stat().st_size == before.st_size
    # Coarse file-system clocks could give the rewrite the old mtime; a real replacement comes later.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))


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
    return ["features", "msp-improv", msp_tree(tmp), "--set", "functionals", "--out", tmp / "out"]


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
                "--set",
                "functionals",
                "--out",
                tmp / "out",
                "--cache-dir",
                tmp / "cache",
            ],
            "manifest": ["data", "manifest", "msp-improv", root, "--out", target / "m.csv"],
            "synth": ["synth", target, "--corpus", "tess"],
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
                "--set",
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
        return {
            "features": [
                "features",
                "msp-improv",
                root,
                "--set",
                "functionals",
                "--out",
                tmp / "out",
                "--cache-dir",
                tmp / "cache",
                "--n-jobs",
                "1",
            ],
            "arrays": ["arrays", "msp-improv", root, "--out", tmp / "arrays", "--n-jobs", "1"],
        }[command]

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
    "read_only_out_arrays": Case(_read_only("arrays", "--out"), 2, "is not writable"),
    "read_only_out_features": Case(_read_only("features", "--out"), 2, "is not writable"),
    "read_only_cache_dir_features": Case(
        _read_only("features", "--cache-dir"), 2, "cannot write --cache-dir"
    ),
    "read_only_out_data_manifest": Case(_read_only("manifest"), 2, "is not writable"),
    "read_only_out_synth": Case(_read_only("synth"), 2, "cannot write OUT_DIR"),
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


# ----------------------------------------------------------------- stale caches
def _change_and_rerun(
    capsys, argv: list[str], changed: Path, result: Path
) -> tuple[np.ndarray, np.ndarray, str]:
    """Run ``ser argv``, replace ``changed`` by other audio of the same length, run again:
    ``(result before, result after, output of the second run)``."""
    assert main(argv) == 0
    before = np.load(result)
    replace_samples(changed, (0.4 * np.sin(np.arange(13_230) * 0.11)).astype(np.float32))
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
        status = main(argv)
    finally:
        os.umask(old_umask)
    out, err = capsys.readouterr()
    output = out + err + caplog.text  # warnings are logged: `ser` shows them on stderr
    assert status == case.status, output
    assert case.message in output, output
    assert "Traceback" not in output
    if status == 2:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and errors[0] == err.strip().splitlines()[-1], err
    if case.check is not None:
        case.check(tmp_path, output)


def test_arrays_are_generated_again_when_a_file_changes_in_place(tmp_path, capsys):
    root = msp_tree(tmp_path)
    argv = ["arrays", "msp-improv", str(root), "--out", str(tmp_path / "arrays"), "--n-jobs", "1"]
    before, after, out = _change_and_rerun(
        capsys, argv, wav_of(root, "MSP-IMPROV-S01H-F01-R-FF02"), tmp_path / "arrays" / "audio.npy"
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


def test_features_of_a_changed_file_are_computed_again_and_counted(tmp_path, capsys):
    root = msp_tree(tmp_path)
    argv = [
        "features",
        "msp-improv",
        str(root),
        "--set",
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
                "--set",
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
