"""The device a training runs on, in one line: ``GPU: <name>`` for each GPU TensorFlow sees,
or ``CPU (no GPU visible)``.

TensorFlow is imported when :func:`device_line` is called, not with this module. The CPU lock
(``requirements.lock``, tensorflow-cpu) never sees a GPU; ``make venv GPU=1`` installs the
CUDA build (``requirements-gpu.lock``). :func:`describe_devices` formats names it is given:

>>> describe_devices([])
'CPU (no GPU visible)'
>>> describe_devices(["NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-40GB"])
'GPU: NVIDIA A100-SXM4-40GB, GPU: NVIDIA A100-SXM4-40GB'
"""

from __future__ import annotations

from collections.abc import Sequence

from ..progress import logger as progress_log

__all__ = ["device_line", "describe_devices", "visible_gpu_names", "announce_device"]

NO_GPU = "CPU (no GPU visible)"


def describe_devices(gpu_names: Sequence[str]) -> str:
    """``GPU: <name>`` for each name, comma-separated; :data:`NO_GPU` for none."""
    return ", ".join(f"GPU: {name}" for name in gpu_names) or NO_GPU


def visible_gpu_names() -> list[str]:
    """The name of each GPU TensorFlow sees (``NVIDIA H100 80GB HBM3``), in TensorFlow's order;
    its device name (``/physical_device:GPU:0``) where the driver gives no model name."""
    # TensorFlow: imported quietly (backend) when a device is asked for, never with this module
    from .backend import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name") or gpu.name)
    return names


def device_line() -> str:
    """``GPU: <name>`` for each visible GPU, or ``CPU (no GPU visible)``."""
    return describe_devices(visible_gpu_names())


_announced: list[str] = []  # the line once logged in this process, so it is logged once


def announce_device() -> str:
    """Log :func:`device_line` on the progress logger the first time a training asks in this
    process (a run of many folds and seeds says it once); return the line."""
    if not _announced:
        _announced.append(device_line())
        progress_log.info(_announced[0])
    return _announced[0]
