"""The registry of ``ser`` commands and what several commands share: the corpus arguments and
the recipe a command names."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

from .. import config, paths
from ..config import Recipe

__all__ = [
    "COMMANDS",
    "command",
    "recipe_for",
    "corpus_argument",
    "encoder_argument",
    "SYNTHETIC_SIZES",
]

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


def recipe_for(
    name: str, corpus: str, root: Path, profile: str | None = None, encoder: str | None = None
) -> Recipe:
    """The recipe a command names, for its corpus at ``profile`` (default: the corpus
    folder's, :func:`ser_utils.paths.profile`), with the pretrained ``encoder`` of its
    ``whisper`` features when one is named."""
    recipe = config.get_recipe(name, corpus, profile or paths.profile(root))
    return dataclasses.replace(recipe, encoder=str(encoder)) if encoder else recipe


def encoder_argument(parser: argparse.ArgumentParser) -> None:
    """``--encoder NAME_OR_PATH``: the pretrained encoder of the ``whisper`` features."""
    parser.add_argument(
        "--encoder",
        default=None,
        metavar="NAME_OR_PATH",
        help="pretrained encoder of the whisper features: a CTranslate2 Whisper model folder, or "
        "a standard name (tiny, base, small, large-v3, …) fetched into the Hugging Face cache; "
        "default the bundled tiny.en",
    )


def corpus_argument(parser: argparse.ArgumentParser) -> None:
    """The ``CORPUS ROOT`` positional arguments."""
    parser.add_argument("corpus", choices=config.CORPORA, help="which corpus")
    parser.add_argument("root", type=Path, help="the corpus folder (e.g. dataset/MSP-IMPROV)")


#: Sizes of the synthetic corpora (ser_utils.synthetic.SIZES, not imported here: it is slow).
SYNTHETIC_SIZES = ("tiny", "mini", "full")
