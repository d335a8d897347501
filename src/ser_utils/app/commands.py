"""The registry of ``ser`` commands and what several commands share: the recipe a command names
and the options that mean the same in every command — one name, one help text each."""

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
    "out_argument",
    "n_jobs_argument",
    "n_jobs_type",
    "recipe_argument",
    "protocol_argument",
    "profile_argument",
    "subset_argument",
    "features_argument",
    "seeds_argument",
    "arrays_argument",
    "cache_dir_argument",
    "size_argument",
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


def encoder_argument(parser: argparse.ArgumentParser, *, note: str | None = None) -> None:
    """``--encoder NAME_OR_PATH``: the pretrained encoder of the ``whisper`` features."""
    parser.add_argument(
        "--encoder",
        default=None,
        metavar="NAME_OR_PATH",
        help=_with(
            "pretrained encoder of the whisper features: a CTranslate2 Whisper model folder, or "
            "a standard name (tiny, base, small, large-v3, …) fetched into the Hugging Face cache",
            note or "default the bundled tiny.en",
        ),
    )


#: Sizes of the synthetic corpora (ser_utils.synthetic.SIZES, not imported here: it is slow).
SYNTHETIC_SIZES = ("tiny", "mini", "full")


# ------------------------------------------------------------ the shared options
def _with(text: str, note: str | None) -> str:
    return f"{text}; {note}" if note else text


def corpus_argument(parser: argparse.ArgumentParser, *, checked_later: bool = False) -> None:
    """The ``CORPUS ROOT`` positional arguments; ``checked_later``: the command checks the name
    itself, so that a wrong one is a one-line error."""
    parser.add_argument(
        "corpus",
        choices=None if checked_later else config.CORPORA,
        metavar="CORPUS",
        help=f"which corpus: {' or '.join(config.CORPORA)}",
    )
    parser.add_argument(
        "root", type=Path, metavar="ROOT", help="the corpus folder (e.g. dataset/MSP-IMPROV)"
    )


def out_argument(
    parser: argparse.ArgumentParser, metavar: str, what: str, *, default: str | None = None
) -> None:
    """``--out``: where a command writes (required unless it has a ``default`` location)."""
    parser.add_argument(
        "--out",
        type=Path,
        required=default is None,
        default=None,
        metavar=metavar,
        help=f"where to write {what}" + (f" (default {default})" if default else ""),
    )


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


def n_jobs_argument(
    parser: argparse.ArgumentParser, default: int, *, alias: str | None = None
) -> None:
    """``--n-jobs``: worker processes; ``alias``, an older name still accepted but not listed."""
    parser.add_argument(
        "--n-jobs",
        type=n_jobs_type,
        default=default,
        metavar="N",
        help="worker processes (-1: every core; default %(default)s)",
    )
    if alias:
        parser.add_argument(
            alias,
            dest="n_jobs",
            type=n_jobs_type,
            default=argparse.SUPPRESS,
            help=argparse.SUPPRESS,
        )


def recipe_argument(
    parser: argparse.ArgumentParser,
    *,
    checked_later: bool = False,
    note: str | None = None,
    choices: tuple[str, ...] = config.RECIPES,
) -> None:
    """``--recipe``: the named recipe (audio chain, features, model, training) a command uses."""
    parser.add_argument(
        "--recipe",
        choices=None if checked_later else choices,
        default="original",
        metavar="NAME",
        help=_with(
            "the recipe — its audio chain, features, model and training; "
            f"{', '.join(choices[:-1])} or {choices[-1]} (default original)",
            note,
        ),
    )


PROTOCOL_HELP = (
    "original-4fold, original-random, loso (leave one session out, MSP-IMPROV) or speaker "
    "(leave one speaker out)"
)


def protocol_argument(
    parser: argparse.ArgumentParser, *, default: str | None = None, note: str | None = None
) -> None:
    """``--protocol``: how the utterances are split into folds; required when ``default`` is None
    and no ``note`` says what happens without one."""
    parser.add_argument(
        "--protocol",
        required=default is None and note is None,
        default=default,
        metavar="NAME",
        help=_with(PROTOCOL_HELP + (f"; default {default}" if default else ""), note),
    )


def profile_argument(parser: argparse.ArgumentParser, *, default: str | None = None) -> None:
    """``--profile``: the original's sizes or the small ones of the tests."""
    parser.add_argument(
        "--profile",
        choices=config.PROFILES,
        default=default,
        help="full (the original's sizes) or smoke (small and quick, for tests); default "
        + (default or "SER_PROFILE, else full on real corpora and smoke on synthetic ones"),
    )


def subset_argument(parser: argparse.ArgumentParser, *, default: str | None) -> None:
    """``--subset``: which utterances of the corpus (:data:`ser_utils.corpora.SUBSETS`)."""
    parser.add_argument(
        "--subset",
        default=default,
        metavar="NAME",
        help="which utterances: rt-4class (MSP-IMPROV R+T in four classes, the original's 1218), "
        "rt (R+T whatever the label), 4class, emotions (TESS) or all; default "
        + (default or "the original's: rt-4class for MSP-IMPROV, emotions for TESS"),
    )


def seeds_argument(parser: argparse.ArgumentParser) -> None:
    """``--seeds``: the training seeds, one cross-validation each."""
    defaults = ", ".join(
        f"{profile} {' '.join(map(str, seeds))}"
        for profile, seeds in config.ORIGINAL_4FOLD_TRAINING_SEEDS.items()
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        metavar="SEED",
        help=f"training seeds, one cross-validation each (default: {defaults} for "
        "original-4fold; the recipe's seed otherwise)",
    )


def features_argument(parser: argparse.ArgumentParser, *, default: str | None) -> None:
    """``--features``: the feature set of the traditional models; required without ``default``."""
    parser.add_argument(
        "--features",
        required=default is None,
        default=default,
        metavar="SET",
        help="feature set: frames (the original's 34 frame features), functionals, egemaps or "
        "whisper (a pretrained encoder's pooled embeddings, the whole clip at 16 kHz)"
        + (f"; default {default}" if default else ""),
    )


def arrays_argument(parser: argparse.ArgumentParser) -> None:
    """``--arrays``: the folder of the spectrogram arrays (``ser arrays``)."""
    parser.add_argument(
        "--arrays",
        type=Path,
        default=None,
        metavar="DIR",
        help="arrays folder (default: under outputs/arrays)",
    )


def cache_dir_argument(parser: argparse.ArgumentParser) -> None:
    """``--cache-dir``: the per-file feature cache."""
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="feature cache (default outputs/features)",
    )


def size_argument(parser: argparse.ArgumentParser, *, note: str | None = None) -> None:
    """``--size``: the size of synthetic corpora."""
    parser.add_argument(
        "--size",
        choices=SYNTHETIC_SIZES,
        default="mini",
        help=_with(
            "size of the synthetic corpora: tiny, mini (default) or full (the original's counts)",
            note,
        ),
    )
