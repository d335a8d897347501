"""The device line every training prints: ``GPU: <name>`` per visible GPU, or the CPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ser_utils.deep import devices


def test_importing_the_module_leaves_tensorflow_unloaded():
    code = "import sys, ser_utils.deep.devices; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_cpu_build_sees_no_gpu_and_says_so():
    tf = pytest.importorskip("tensorflow")
    if tf.config.list_physical_devices("GPU"):
        assert devices.device_line().startswith("GPU: ")
        pytest.skip("this machine has a visible GPU; the CPU line is checked where it has none")
    assert devices.device_line() == "CPU (no GPU visible)"


def test_each_visible_gpu_is_named_from_tensorflows_device_details(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    gpus = [
        tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU"),
        tf.config.PhysicalDevice("/physical_device:GPU:1", "GPU"),
    ]
    details = {gpus[0].name: {"device_name": "NVIDIA H200", "compute_capability": (9, 0)}}
    monkeypatch.setattr(
        tf.config, "list_physical_devices", lambda kind=None: gpus if kind == "GPU" else []
    )
    monkeypatch.setattr(
        tf.config.experimental, "get_device_details", lambda gpu: details.get(gpu.name, {})
    )
    assert devices.device_line() == "GPU: NVIDIA H200, GPU: /physical_device:GPU:1"


def test_the_device_is_announced_once_per_process(monkeypatch):
    import io

    from ser_utils.progress import hide_progress, show_progress

    monkeypatch.setattr(devices, "_announced", [])
    monkeypatch.setattr(devices, "device_line", lambda: "GPU: NVIDIA H200")
    stream = io.StringIO()
    show_progress(stream)
    try:
        lines = [devices.announce_device() for _ in range(3)]  # three trainings, one run
    finally:
        hide_progress()
    assert lines == ["GPU: NVIDIA H200"] * 3
    assert stream.getvalue() == "GPU: NVIDIA H200\n"
