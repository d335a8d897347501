"""The environment is locked: ``requirements.lock`` pins every distribution that ``make``
installs, agrees with the readable pins of ``requirements.txt`` and ``environment.yml``, and
the installed environment holds nothing else."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
GPU_LOCK = ROOT / "requirements-gpu.lock"  # tensorflow (CUDA build) for tensorflow-cpu
#: ``name==version`` with an optional environment marker, as pip-compile / uv write them.
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def read_pins(path: Path, *, evaluate_markers: bool = False) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line in a requirements file.

    With ``evaluate_markers``, pins whose environment marker does not hold here are left out.
    """
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if not match:
            continue
        name, version, marker = match.groups()
        if evaluate_markers and marker and not Marker(marker).evaluate():
            continue
        pins[canonicalize_name(name)] = version
    return pins


def test_read_pins_understands_markers_and_hash_continuations(tmp_path):
    lock = tmp_path / "r.lock"
    lock.write_text(
        "numba==0.67.0 \\\n    --hash=sha256:00\n"
        "pywin32==311 ; sys_platform == 'never' \\\n    --hash=sha256:11\n# via x\n"
    )
    assert read_pins(lock) == {"numba": "0.67.0", "pywin32": "311"}
    assert read_pins(lock, evaluate_markers=True) == {"numba": "0.67.0"}


def test_lock_pins_every_direct_requirement_at_its_version():
    direct = read_pins(ROOT / "requirements.txt")
    locked = read_pins(LOCK)
    assert direct, "requirements.txt holds no pins"
    assert {name: locked.get(name) for name in direct} == direct, (
        "run `make lock` after editing requirements.txt"
    )


def test_lock_pins_a_numba_that_compiles_librosa_for_zen3():
    # numba 0.68.1 / llvmlite 0.50.0 miscompile librosa.yin for AMD Zen 3 (segmentation fault).
    locked = read_pins(LOCK)
    assert (locked["numba"], locked["llvmlite"]) != ("0.68.1", "0.50.0")


def test_environment_yml_installs_the_lock():
    pip_section = (ROOT / "environment.yml").read_text().split("- pip:", 1)[1]
    entries = [
        re.sub(r"^-\s+", "", line.strip()) for line in pip_section.splitlines() if line.strip()
    ]
    assert entries == ["-r requirements.lock"]


@pytest.mark.skipif(
    Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
    reason="checks the project's own .venv (made by make); this interpreter is another one",
)
def test_installed_environment_is_exactly_the_lock():
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    lock = (
        GPU_LOCK if "tensorflow" in installed else LOCK
    )  # `make venv GPU=1` installs the GPU lock
    locked = read_pins(lock, evaluate_markers=True)
    installed.pop("ser-utils", None)  # this repository, installed editable
    unpinned = sorted(set(installed) - set(locked))
    other_version = {
        name: (installed[name], locked[name])
        for name in installed
        if name in locked and installed[name] != locked[name]
    }
    assert not unpinned, f"installed but not in {lock.name}: {unpinned}"
    assert not other_version, f"installed at another version than {lock.name} pins: {other_version}"
