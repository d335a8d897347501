"""``ser`` commands of the data and its stages: ``synth``, ``data prepare|check|manifest``,
``features``, ``arrays``, ``folds`` and ``run``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import config, paths
from ..storage import check_output_dir, check_output_file, write_csv
from .commands import (
    cache_dir_argument,
    command,
    corpus_argument,
    encoder_argument,
    features_argument,
    n_jobs_argument,
    out_argument,
    profile_argument,
    protocol_argument,
    recipe_argument,
    recipe_for,
    size_argument,
    subset_argument,
)


# ------------------------------------------------------------------ synthetic data
def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    out_argument(parser, "DIR", "TESS/ and MSP-IMPROV/")
    parser.add_argument(
        "--corpus",
        choices=(*config.CORPORA, "all"),
        default="all",
        help="which corpus: tess, msp-improv or all (default)",
    )
    size_argument(parser)
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="seed of the synthetic voices and texts (default 0)",
    )


@command(
    "synth", _synth_arguments, "write synthetic TESS and MSP-IMPROV corpora in the real layouts"
)
def synth_command(args: argparse.Namespace) -> int:
    from .. import synthetic  # the command's stage, loaded when it runs

    out = args.out
    check_output_dir(out, "--out")
    makers = {"tess": synthetic.make_tess, "msp-improv": synthetic.make_msp_improv}
    for corpus in config.CORPORA if args.corpus == "all" else (args.corpus,):
        root = paths.corpus_root(corpus, out)
        makers[corpus](root, size=args.size, seed=args.seed)
        print(f"{corpus}: synthetic '{args.size}' corpus (seed {args.seed}) in {root}")
    return 0


# ------------------------------------------------------------------------- data
def _prepare_arguments(parser: argparse.ArgumentParser) -> None:
    size_argument(parser, note="made only when dataset/ holds no corpus")


@command(
    "data prepare",
    _prepare_arguments,
    "use dataset/, or make the synthetic corpora when it holds none",
)
def data_prepare_command(args: argparse.Namespace) -> int:
    from .pipeline import prepare_data  # the command's stage, loaded when it runs

    base = prepare_data(size=args.size)
    print(f"data directory: {base} (profile {paths.profile()})")
    return 0


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    corpus_argument(parser)
    parser.add_argument(
        "--strict", action="store_true", help="fail on unlabelled or unparseable files"
    )


@command(
    "data check",
    _check_arguments,
    "count labels, speakers, sessions, rates, durations and skipped files",
)
def data_check_command(args: argparse.Namespace) -> int:
    # the command's stage, loaded when it runs
    from ..corpora.check import check_corpus, format_summary

    manifest = check_corpus(args.corpus, args.root, strict=args.strict)
    print(format_summary(manifest))
    return 0


def _manifest_arguments(parser: argparse.ArgumentParser) -> None:
    _check_arguments(parser)
    out_argument(parser, "FILE.csv", "the manifest CSV")


@command("data manifest", _manifest_arguments, "write the manifest CSV of a corpus")
def data_manifest_command(args: argparse.Namespace) -> int:
    from ..corpora import load_corpus  # the command's stage, loaded when it runs

    check_output_file(args.out, "--out")
    manifest = load_corpus(args.corpus, args.root, strict=args.strict)
    write_csv(manifest, args.out)
    print(f"{len(manifest)} utterances -> {args.out}")
    return 0


# ------------------------------------------------------------------ whole pipeline
def _run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the numbered notebooks (default notebooks/ of the checkout)",
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="print each notebook's projected time on this machine and the total; run nothing",
    )


@command("run", _run_arguments, "the whole pipeline: data, manifests, every notebook")
def pipeline_command(args: argparse.Namespace) -> int:
    from . import pipeline  # the command's stage, loaded when it runs

    if args.plan:
        print(pipeline.run_plan(notebooks_dir=args.notebooks))
        return 0
    pipeline.run_all(notebooks_dir=args.notebooks)
    return 0


# --------------------------------------------------------------------------- folds
def _folds_arguments(parser: argparse.ArgumentParser) -> None:
    corpus_argument(parser)
    protocol_argument(parser)
    out_argument(parser, "FILE.csv", "the fold table CSV (utterance_id,fold,split)")
    subset_argument(parser, default=None)
    recipe_argument(
        parser,
        note="here, how the validation rows are held out of each training part (original: a "
        f"random 20 %%, random_state {config.ORIGINAL_VALIDATION_RANDOM_STATE})",
    )
    parser.add_argument(
        "--split-random-state",
        type=int,
        default=config.ORIGINAL_SPLIT_RANDOM_STATE,
        metavar="N",
        help="seed of the original-random split (default %(default)s)",
    )


@command(
    "folds", _folds_arguments, "write which utterance is train, validation or test in every fold"
)
def folds_command(args: argparse.Namespace) -> int:
    from .. import experiments  # the command's stage, loaded when it runs

    table = experiments.run_folds(
        recipe_for(args.recipe, args.corpus, args.root),
        args.root,
        protocol=args.protocol,
        out=args.out,
        subset=args.subset,
        split_random_state=args.split_random_state,
    )
    print(table.groupby(["fold", "split"]).size().unstack(fill_value=0).to_string())
    print(
        f"{table['utterance_id'].nunique()} utterances × {table['fold'].nunique()} folds ({args.protocol}) "
        f"-> {args.out}"
    )
    return 0


# --------------------------------------------------------------------------- arrays
def _arrays_arguments(parser: argparse.ArgumentParser) -> None:
    corpus_argument(parser)
    recipe_argument(parser, note="here, its audio chain and spectrogram")
    out_argument(parser, "DIR", "the .npy files")
    n_jobs_argument(parser, 2)
    profile_argument(parser)
    subset_argument(parser, default="rt")
    parser.add_argument(
        "--skip-bad-files",
        action="store_true",
        help="leave unreadable or silent files out instead of stopping at the first",
    )


@command(
    "arrays",
    _arrays_arguments,
    "stream preprocessed audio and spectrograms of a corpus to .npy files",
)
def arrays_command(args: argparse.Namespace) -> int:
    from .. import experiments  # the command's stage, loaded when it runs

    info = experiments.run_arrays(
        recipe_for(args.recipe, args.corpus, args.root, args.profile),
        args.root,
        out=args.out,
        subset=args.subset,
        n_jobs=args.n_jobs,
        skip_bad_files=args.skip_bad_files,
    )
    print(
        f"{info['n']} utterances ({args.recipe} recipe, {info['profile']} profile) -> {info['directory']}: "
        f"audio {tuple(info['audio_shape'])}, spectrograms {tuple(info['spectrogram_shape'])} at "
        f"{info['sample_rate']} Hz"
    )
    return 0


# ------------------------------------------------------------------------- features


def _features_arguments(parser: argparse.ArgumentParser) -> None:
    # Names are checked in run_features (not argparse choices) so a wrong one is a one-line error.
    corpus_argument(parser, checked_later=True)
    features_argument(parser, default=None)
    encoder_argument(parser)
    out_argument(parser, "DIR", "<corpus>_<features>.npy, .csv and .json")
    recipe_argument(parser, checked_later=True, note="here, its audio chain")
    subset_argument(parser, default="rt")
    n_jobs_argument(parser, -1)
    cache_dir_argument(parser)


@command(
    "features",
    _features_arguments,
    "extract a feature matrix (cached per file) and its metadata CSV",
)
def features_command(args: argparse.Namespace) -> int:
    from .. import experiments  # the command's stage, loaded when it runs

    config.check_choice(args.corpus, config.CORPORA, "corpus")
    path, shape, info = experiments.run_features(
        recipe_for(args.recipe, args.corpus, args.root, encoder=args.encoder),
        args.root,
        feature_set=args.features,
        out=args.out,
        subset=args.subset,
        n_jobs=args.n_jobs,
        cache_dir=args.cache_dir,
    )
    changed = f", {info.changed} of them because the file changed" if info.changed else ""
    print(
        f"shape {shape[0]} × {shape[1]} · cache {info.hits} hits, {info.misses} computed{changed} "
        f"({info.cache_dir}) · {info.seconds:.1f} s -> {path} (+ .csv, .json)"
    )
    return 0
