"""The ``ser`` command: the notebooks' pipeline without a notebook.

Every sub-command calls the same ``ser_utils`` functions the notebooks call. Errors the
user can fix (a missing label file, a corrupt wav, an unknown corpus) are printed as one
line, ``error: …``, with exit status 2 — never a traceback.

    ser synth OUT_DIR [--corpus tess|msp-improv|all] [--size mini|seed] [--seed N]
    ser data prepare | check CORPUS ROOT | manifest CORPUS ROOT --out FILE.csv
    ser run
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from . import config
from .errors import SerError

log = logging.getLogger("ser")

#: name -> (add arguments, run); each section below registers its sub-commands here.
COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]] = {}


def command(name: str, add_arguments: Callable[[argparse.ArgumentParser], None], help: str):
    """Register ``run(args) -> exit status`` as ``ser <name>`` (``name`` may be 'data check')."""

    def register(run: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (add_arguments, run, help)
        return run

    return register


def _corpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", choices=config.CORPORA, help="which corpus")
    parser.add_argument("root", type=Path, help="the corpus folder (e.g. dataset/MSP-IMPROV)")


# ------------------------------------------------------------------ synthetic data
def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, help="folder that receives TESS/ and MSP-IMPROV/")
    parser.add_argument("--corpus", choices=(*config.CORPORA, "all"), default="all")
    parser.add_argument("--size", choices=("mini", "seed"), default="mini")
    parser.add_argument("--seed", type=int, default=0)


@command("synth", _synth_arguments, "write synthetic TESS and MSP-IMPROV corpora in the real layouts")
def run_synth(args: argparse.Namespace) -> int:
    from . import synthetic

    makers = {"tess": synthetic.make_tess, "msp-improv": synthetic.make_msp_improv}
    for corpus in config.CORPORA if args.corpus == "all" else (args.corpus,):
        root = config.corpus_root(corpus, args.out_dir)
        makers[corpus](root, size=args.size, seed=args.seed)
        print(f"{corpus}: synthetic '{args.size}' corpus (seed {args.seed}) in {root}")
    return 0


# ------------------------------------------------------------------------- data
def _prepare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", choices=("mini", "seed"), default="mini",
                        help="size of the synthetic corpora made when dataset/ holds none")


@command("data prepare", _prepare_arguments, "use dataset/, or make the synthetic corpora when it holds none")
def run_data_prepare(args: argparse.Namespace) -> int:
    from . import data_check

    base = data_check.prepare_data(size=args.size)
    print(f"data directory: {base} (profile {config.current_profile()})")
    return 0


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    _corpus_argument(parser)
    parser.add_argument("--strict", action="store_true", help="fail on unlabelled or unparseable files")


@command("data check", _check_arguments, "count labels, speakers, sessions, rates, durations and skipped files")
def run_data_check(args: argparse.Namespace) -> int:
    from . import data_check

    manifest = data_check.check_corpus(args.corpus, args.root, strict=args.strict)
    print(data_check.format_summary(manifest))
    return 0


def _manifest_arguments(parser: argparse.ArgumentParser) -> None:
    _check_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")


@command("data manifest", _manifest_arguments, "write the manifest CSV of a corpus")
def run_data_manifest(args: argparse.Namespace) -> int:
    from .corpora import load_corpus
    from .storage import write_csv

    manifest = load_corpus(args.corpus, args.root, strict=args.strict)
    write_csv(manifest, args.out)
    print(f"{len(manifest)} utterances -> {args.out}")
    return 0


# ------------------------------------------------------------------ whole pipeline
def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", type=Path, default=None, help="folder of the numbered notebooks")


@command("run", _run_arguments, "the whole pipeline: data, manifests, every notebook")
def run_pipeline(args: argparse.Namespace) -> int:
    from . import pipeline

    pipeline.run_all(notebooks_dir=args.notebooks)
    return 0


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ser", description="Speech emotion recognition pipeline")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    groups: dict[str, argparse._SubParsersAction] = {"": parser.add_subparsers(dest="command", required=True)}
    parents: dict[str, argparse.ArgumentParser] = {}
    for name, (add_arguments, run, help_text) in COMMANDS.items():
        *prefix, leaf = name.split()
        key = " ".join(prefix)
        if key not in groups:
            parents[key] = groups[""].add_parser(key, help=f"{key} commands")
            groups[key] = parents[key].add_subparsers(dest=f"{key}_command", required=True)
        sub = groups[key].add_parser(leaf, help=help_text, description=help_text)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.run(args) or 0)
    except SerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
