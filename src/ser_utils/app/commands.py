"""The registry of ``ser`` commands and what several commands share: the corpus arguments and
the recipe a command names."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from .. import config, paths
from ..config import Recipe

__all__ = ["COMMANDS", "command", "recipe_for", "corpus_argument", "n_jobs_type", "SYNTHETIC_SIZES"]

#: name -> (add arguments, run); each section below registers its sub-commands here.
COMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]
] = {}


def command(name: str, add_arguments: Callable[[argparse.ArgumentParser], None], help: str):
    """Register ``run(args) -> exit status`` as ``ser <name>`` (``name`` may be 'data check')."""

    def register(run: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (add_arguments, run, help)
        return run

    return register


def recipe_for(name: str, corpus: str, root: Path, profile: str | None = None) -> Recipe:
    """The recipe a command names, for its corpus at ``profile`` (default: the corpus
    folder's, :func:`ser_utils.paths.profile`)."""
    return config.get_recipe(name, corpus, profile or paths.profile(root))


def corpus_argument(parser: argparse.ArgumentParser) -> None:
    """The ``CORPUS ROOT`` positional arguments."""
    parser.add_argument("corpus", choices=config.CORPORA, help="which corpus")
    parser.add_argument("root", type=Path, help="the corpus folder (e.g. dataset/MSP-IMPROV)")


#: Sizes of the synthetic corpora (ser_utils.synthetic.SIZES, not imported here: it is slow).
SYNTHETIC_SIZES = ("tiny", "mini", "full")


def n_jobs_type(value: str) -> int:
    """``--n-jobs``: a number of worker processes, at least 1, or -1 for every core (argparse
    prints the usage line and this message, exit 2).

    >>> n_jobs_type("4"), n_jobs_type("-1")
    (4, -1)
    >>> n_jobs_type("0")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: 0 is not a number of worker processes — give 1 or more, or -1 for every core
    """
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1 and number != -1:
        raise argparse.ArgumentTypeError(
            f"{value} is not a number of worker processes — give 1 or more, or -1 for every core"
        )
    return number
