"""Progress lines of long stages — epochs, folds, stages of a run, arrays brought up to date —
logged to the ``ser_utils.progress`` logger, never printed by the library itself.

``ser`` and the notebooks show them on stdout (:func:`show_progress`); in your own code call
:func:`show_progress` to see them too, or configure :mod:`logging` as you like.

>>> import io
>>> stream = io.StringIO()
>>> show_progress(stream)
>>> logger.info("fold 1 · epoch 1/2")
>>> stream.getvalue()
'fold 1 · epoch 1/2\\n'
>>> hide_progress()
"""

from __future__ import annotations

import logging
import sys

__all__ = ["logger", "show_progress", "hide_progress"]

logger = logging.getLogger("ser_utils.progress")


def hide_progress() -> None:
    """Remove the handler :func:`show_progress` added."""
    for handler in list(logger.handlers):
        if getattr(handler, "_ser_progress", False):
            logger.removeHandler(handler)


def show_progress(stream=None) -> None:
    """Write the progress lines to ``stream`` (default: the current stdout), one line each,
    replacing any stream given before."""
    hide_progress()
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._ser_progress = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
