"""Exceptions with one-line messages that name the file and the fix.

The ``ser`` command prints ``error: <message>`` for any :class:`SerError` and exits with
status 2, so every message here must be complete on its own.
"""


class SerError(Exception):
    """Base class of the package's user-facing errors."""


class CorpusError(SerError, ValueError):
    """A corpus folder or label file is missing, malformed or incomplete."""


class AudioError(SerError, ValueError):
    """An audio file is unreadable, empty, corrupt or silent."""


class OutputError(SerError, OSError):
    """An output location is a file where a folder is expected, or cannot be written."""


class ChoiceError(SerError, ValueError):
    """A name that is not one of its choices: a corpus, recipe, protocol, subset, model …"""
