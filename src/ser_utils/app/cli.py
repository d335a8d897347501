"""The ``ser`` command: the notebooks' pipeline without a notebook.

This module only parses arguments and prints results: every sub-command calls the function
of :mod:`ser_utils.experiments` (or of the stage's module) that the notebooks call; a recipe
named on the command line becomes a :class:`~ser_utils.config.Recipe` here. Errors the
user can fix (a missing label file, a corrupt wav, an unknown corpus) are printed as one
line, ``error: …``, with exit status 2 — never a traceback.

    ser synth --out DIR [--corpus tess|msp-improv|all] [--size tiny|mini|full] [--seed N]
    ser data prepare | check CORPUS ROOT | manifest CORPUS ROOT --out FILE.csv
    ser features CORPUS ROOT --features frames|functionals|egemaps|whisper [--encoder NAME_OR_PATH] --out DIR [--n-jobs N]
    ser traditional CORPUS ROOT --model NAME --protocol NAME [--subset NAME] [--features SET]
                    [--encoder NAME_OR_PATH] [--grid NAME] [--speaker-norm] [--n-jobs N] [--out RUN_DIR]
    ser folds CORPUS ROOT --protocol NAME --out FILE.csv
    ser arrays CORPUS ROOT --recipe original|improved --out DIR [--n-jobs N]
    ser train CORPUS ROOT --recipe original|improved|whisper-head [--protocol NAME] [--out RUN_DIR]
    ser evaluate CORPUS ROOT --recipe original|improved|fusion|whisper-head|fusion-whisper
                 --protocol NAME [--encoder NAME_OR_PATH] [--out RUN_DIR]
    ser dry-run CORPUS ROOT [--recipe original] [--protocol original-4fold] [--seeds SEED...] [--max-steps N]
    ser predict BUNDLE AUDIO... [--json] [--per-window] [--encoder NAME_OR_PATH]
    ser run [--plan]
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading

from .. import config
from ..errors import SerError
from ..progress import show_progress
from . import data_commands, model_commands  # noqa: F401 -- they register the commands
from .commands import COMMANDS

log = logging.getLogger("ser")

#: The order ``ser --help`` lists the commands in: the data, the pipeline, then the models.
COMMAND_ORDER: tuple[str, ...] = (
    "synth",
    "data prepare",
    "data check",
    "data manifest",
    "run",
    "traditional",
    "folds",
    "train",
    "evaluate",
    "dry-run",
    "predict",
    "arrays",
    "features",
)


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The ``ser`` parser: one sub-command per registered command, in :data:`COMMAND_ORDER`."""
    parser = argparse.ArgumentParser(prog="ser", description="Speech emotion recognition pipeline")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    groups: dict[str, argparse._SubParsersAction] = {
        "": parser.add_subparsers(dest="command", required=True)
    }
    parents: dict[str, argparse.ArgumentParser] = {}
    for name in sorted(COMMANDS, key=COMMAND_ORDER.index):
        add_arguments, run, help_text = COMMANDS[name]
        *prefix, leaf = name.split()
        key = " ".join(prefix)
        if key not in groups:
            parents[key] = groups[""].add_parser(key, help=f"{key} commands")
            groups[key] = parents[key].add_subparsers(dest=f"{key}_command", required=True)
        sub = groups[key].add_parser(leaf, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``), raised like Ctrl-C so that every cleanup runs."""


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run ``ser`` with ``argv``; returns the exit status.

    0 success; 2 a user error (one line, ``error: …``); 130 Ctrl-C; 143 SIGTERM. An
    interrupted stage leaves no output it would trust on the next run.
    """
    os.environ.setdefault(
        "TF_CPP_MIN_LOG_LEVEL", "2"
    )  # TensorFlow's start-up chatter hides the output
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    show_progress(sys.stdout)  # the stages' progress lines: epochs, folds, arrays
    # Without a handler SIGTERM kills this process at once and orphans joblib's workers;
    # as an exception it unwinds like Ctrl-C, and joblib ends its workers on the way out.
    in_main_thread = threading.current_thread() is threading.main_thread()  # signal.signal needs it
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        profile = os.environ.get("SER_PROFILE")
        if profile and profile not in config.PROFILES:
            raise SerError(
                f"SER_PROFILE={profile!r} is not a profile — set it to one of "
                f"{', '.join(config.PROFILES)}, or unset it"
            )
        return int(args.run(args) or 0)
    except SerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.filename is None and exc.errno == errno.ENOSPC:
            exc.filename = "the output folder"  # a write that names no file: still one line
        if exc.filename is None:
            raise
        # An output that became unwritable after the checks (disk full, permissions changed).
        print(
            f"error: {exc.filename}: {exc.strerror} — check the path, its permissions and free space",
            file=sys.stderr,
        )
        return 2
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
