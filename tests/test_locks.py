"""The two locks: ``requirements.lock`` (tensorflow-cpu) and ``requirements-gpu.lock``
(TensorFlow's CUDA build) pin every distribution, each with its hashes, and every distribution
they share at the same version, under the same marker, with the same hashes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CPU_LOCK = ROOT / "requirements.lock"
GPU_LOCK = ROOT / "requirements-gpu.lock"
#: A requirement line of a uv lock: ``name==version``, an optional marker, a continuation.
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)==(\S+?)\s*(?:;\s*(.+?))?\s*(\\)?$")
HASH = re.compile(r"^--hash=(sha256:[0-9a-f]{64})\s*(\\)?$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str
    hashes: frozenset[str]


def read_lock(path: Path) -> list[Pin]:
    """Every requirement of a hashed lock, with its hashes.

    Raises ``ValueError`` on a line that is neither a ``name==version`` pin, a hash of the pin
    above it, a comment nor blank (an unpinned or unhashed requirement, an option, a URL)."""
    pins: list[Pin] = []
    name = version = marker = None
    hashes: set[str] = set()
    continued = False

    def close() -> None:
        if name is not None:
            pins.append(Pin(canonicalize_name(name), version, marker or "", frozenset(hashes)))

    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continued = False
            continue
        if continued and (match := HASH.match(line)):
            hashes.add(match.group(1))
            continued = bool(match.group(2))
            continue
        match = REQUIREMENT.match(line)
        if not match or raw[0].isspace():
            raise ValueError(f"{path.name}:{number}: not a pinned, hashed requirement: {line!r}")
        close()
        name, version, marker, continuation = match.groups()
        hashes, continued = set(), bool(continuation)
    close()
    return pins


def test_read_lock_reads_pins_markers_and_hashes(tmp_path):
    lock = tmp_path / "r.lock"
    a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    lock.write_text(
        f"# header\nnumba==0.67.0 \\\n    --hash={a} \\\n    --hash={b}\n    # via librosa\n"
        f"Soup_Sieve==2.10 ; python_full_version < '3.11.5' \\\n    --hash={a}\n"
    )
    assert read_lock(lock) == [
        Pin("numba", "0.67.0", "", frozenset({a, b})),
        Pin("soup-sieve", "2.10", "python_full_version < '3.11.5'", frozenset({a})),
    ]
    lock.write_text("numba>=0.67\n")
    with pytest.raises(ValueError, match="r.lock:1"):
        read_lock(lock)


@pytest.mark.parametrize("path", [CPU_LOCK, GPU_LOCK], ids=lambda path: path.name)
def test_every_pin_of_a_lock_is_hashed(path):
    pins = read_lock(path)
    assert len(pins) > 100  # the whole tree, not a stub
    unhashed = sorted(pin.name for pin in pins if not pin.hashes)
    assert not unhashed, f"{path.name} pins without a hash: {unhashed} (run `make lock`)"


def _by_name(pins: list[Pin]) -> dict[str, set[tuple[str, str, frozenset[str]]]]:
    table: dict[str, set[tuple[str, str, frozenset[str]]]] = {}
    for pin in pins:
        table.setdefault(pin.name, set()).add((pin.version, pin.marker, pin.hashes))
    return table


def shared_differences(cpu: list[Pin], gpu: list[Pin]) -> dict[str, tuple]:
    """``{name: (CPU lock's pins, GPU lock's pins)}`` for every distribution both locks pin
    whose versions, markers or hashes differ."""
    cpu_pins, gpu_pins = _by_name(cpu), _by_name(gpu)
    return {
        name: (
            sorted((v, m) for v, m, _ in cpu_pins[name]),
            sorted((v, m) for v, m, _ in gpu_pins[name]),
        )
        for name in sorted(set(cpu_pins) & set(gpu_pins))
        if cpu_pins[name] != gpu_pins[name]
    }


def test_a_shared_distribution_at_another_version_is_found():
    hashes = frozenset({"sha256:" + "0" * 64})
    cpu = [Pin("numpy", "2.4.6", "", hashes), Pin("tensorflow-cpu", "2.21.0", "", hashes)]
    gpu = [Pin("numpy", "2.4.5", "", hashes), Pin("tensorflow", "2.21.0", "", hashes)]
    assert shared_differences(cpu, gpu) == {"numpy": ([("2.4.6", "")], [("2.4.5", "")])}
    assert shared_differences(cpu, cpu) == {}


def test_both_locks_pin_every_shared_distribution_alike():
    differences = shared_differences(read_lock(CPU_LOCK), read_lock(GPU_LOCK))
    assert not differences, (
        f"the locks disagree on {differences} — run `make lock` (it resolves the GPU lock "
        "within the CPU lock's pins)"
    )


def test_the_gpu_lock_swaps_tensorflow_cpu_for_the_cuda_build_only():
    cpu, gpu = _by_name(read_lock(CPU_LOCK)), _by_name(read_lock(GPU_LOCK))
    ((cpu_version, _, _),) = cpu["tensorflow-cpu"]
    ((gpu_version, _, _),) = gpu["tensorflow"]
    assert gpu_version == cpu_version
    assert "tensorflow" not in cpu and "tensorflow-cpu" not in gpu
    assert set(cpu) - set(gpu) == {"tensorflow-cpu"}
    cuda = set(gpu) - set(cpu) - {"tensorflow"}
    assert {"nvidia-cudnn-cu12", "nvidia-cublas-cu12"} <= cuda
    assert all(name.startswith("nvidia-") for name in cuda), sorted(cuda)
