"""``ser`` commands of the data and its stages: ``synth``, ``data prepare|check|manifest``,
``features``, ``arrays``, ``folds`` and ``run``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import config, paths
from ..storage import check_output_dir, check_output_file, write_csv
from .commands import SYNTHETIC_SIZES, command, corpus_argument, recipe_for


# ------------------------------------------------------------------ synthetic data
def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, help="folder that receives TESS/ and MSP-IMPROV/")
    parser.add_argument("--corpus", choices=(*config.CORPORA, "all"), default="all")
    parser.add_argument("--size", choices=SYNTHETIC_SIZES, default="mini")
    parser.add_argument("--seed", type=int, default=0)


@command(
    "synth", _synth_arguments, "write synthetic TESS and MSP-IMPROV corpora in the real layouts"
)
def synth_command(args: argparse.Namespace) -> int:
    from .. import synthetic  # the command's stage, loaded when it runs

    check_output_dir(args.out_dir, "OUT_DIR")
    makers = {"tess": synthetic.make_tess, "msp-improv": synthetic.make_msp_improv}
    for corpus in config.CORPORA if args.corpus == "all" else (args.corpus,):
        root = paths.corpus_root(corpus, args.out_dir)
        makers[corpus](root, size=args.size, seed=args.seed)
        print(f"{corpus}: synthetic '{args.size}' corpus (seed {args.seed}) in {root}")
    return 0


# ------------------------------------------------------------------------- data
def _prepare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size",
        choices=SYNTHETIC_SIZES,
        default="mini",
        help="size of the synthetic corpora made when dataset/ holds none",
    )


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
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")


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
        "--notebooks", type=Path, default=None, help="folder of the numbered notebooks"
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
    parser.add_argument(
        "--protocol",
        required=True,
        help="original-4fold, original-random, loso (MSP-IMPROV) or speaker",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="CSV file to write (utterance_id,fold,split)"
    )
    parser.add_argument(
        "--subset",
        default=None,
        help="rt-4class (MSP-IMPROV default: the original's 1218), emotions (TESS default), rt, 4class or all",
    )
    parser.add_argument(
        "--recipe",
        choices=config.RECIPES,
        default="original",
        help="whose training split holds out the validation rows (default original: random 20 %%, "
        f"random_state {config.ORIGINAL_VALIDATION_RANDOM_STATE})",
    )
    parser.add_argument(
        "--split-random-state",
        type=int,
        default=config.ORIGINAL_SPLIT_RANDOM_STATE,
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
    parser.add_argument(
        "--recipe", choices=config.RECIPES, default="original", help="preprocessing + spectrogram"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder that receives the .npy files"
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--profile",
        choices=config.PROFILES,
        default=None,
        help="full or smoke sizes (default: SER_PROFILE, else smoke on a synthetic corpus)",
    )
    parser.add_argument(
        "--subset",
        default="rt",
        help="rt: MSP-IMPROV R+T with every label, all of TESS (default); all: every file; "
        "or rt-4class, 4class, emotions",
    )
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
    parser.add_argument("corpus", help=f"which corpus: {', '.join(config.CORPORA)}")
    parser.add_argument("root", type=Path, help="the corpus folder (e.g. dataset/MSP-IMPROV)")
    parser.add_argument(
        "--set", dest="feature_set", required=True, help="frames, functionals or egemaps"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for <corpus>_<set>.npy/.csv/.json"
    )
    parser.add_argument(
        "--recipe", default="original", help="audio chain: original (default) or improved"
    )
    parser.add_argument(
        "--subset",
        default="rt",
        help="rt (default: MSP-IMPROV R+T whatever the label, all of TESS), rt-4class, 4class, "
        "emotions or all",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=-1, help="worker processes (default -1: all cores)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="feature cache (default outputs/features)"
    )


@command(
    "features",
    _features_arguments,
    "extract a feature matrix (cached per file) and its metadata CSV",
)
def features_command(args: argparse.Namespace) -> int:
    from .. import experiments  # the command's stage, loaded when it runs

    config.check_choice(args.corpus, config.CORPORA, "corpus")
    path, shape, info = experiments.run_features(
        recipe_for(args.recipe, args.corpus, args.root),
        args.root,
        feature_set=args.feature_set,
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
