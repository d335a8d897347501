"""``ser`` commands of the models: ``traditional``, ``train``, ``evaluate``, ``dry-run`` and
``predict``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import config, paths
from ..storage import check_output_dir
from .commands import (
    arrays_argument,
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
    seeds_argument,
    subset_argument,
)

RUN_DIRECTORY = "outputs/runs/<run name>"


# ------------------------------------------------------------- traditional models
def _traditional_arguments(parser: argparse.ArgumentParser) -> None:
    # Names are checked in run_traditional (not argparse choices) so a wrong one is a one-line error.
    corpus_argument(parser, checked_later=True)
    parser.add_argument(
        "--model",
        default="rbf_svm",
        metavar="NAME",
        help="mlp, tree, linear_svm, forest, rbf_svm (default) or logreg (logistic regression)",
    )
    protocol_argument(parser, default="original-random")
    subset_argument(parser, default=None)
    features_argument(parser, default="frames")
    encoder_argument(parser)
    parser.add_argument(
        "--grid",
        default="none",
        metavar="NAME",
        help="none (default), original (SVC grid, 5-fold, accuracy) or grouped (UA, speaker-grouped)",
    )
    recipe_argument(parser, checked_later=True, note="here, the audio chain of the features")
    parser.add_argument(
        "--random-state",
        type=int,
        default=None,
        metavar="N",
        help="seed of the models (default: the recipe's)",
    )
    parser.add_argument(
        "--split-random-state",
        type=int,
        default=config.ORIGINAL_SPLIT_RANDOM_STATE,
        metavar="N",
        help="seed of the original-random split (default %(default)s)",
    )
    parser.add_argument(
        "--permute-labels",
        type=int,
        nargs="?",
        const=config.CONTROL_PERMUTATION_SEED,
        default=None,
        metavar="SEED",
        help="control run: shuffle the labels within each training part (seed, "
        f"default {config.CONTROL_PERMUTATION_SEED}); scores must be at chance",
    )
    parser.add_argument(
        "--speaker-norm",
        action="store_true",
        help="z-normalise the features within each speaker, over the speaker's recordings "
        "whatever their label (the test speaker's unlabelled recordings included)",
    )
    parser.add_argument(
        "--original-run",
        default="evaluation",
        metavar="NAME",
        help="original recipe, original-random: the rates and feature order of the original's "
        "evaluation notebook (evaluation, default) or of its first notebook (first)",
    )
    n_jobs_argument(parser, 1, alias="--jobs")
    cache_dir_argument(parser)
    out_argument(parser, "RUN_DIR", "the run directory", default=RUN_DIRECTORY)


@command("traditional", _traditional_arguments, "evaluate a traditional model under a protocol")
def traditional_command(args: argparse.Namespace) -> int:
    from .. import experiments  # the command's stage, loaded when it runs

    config.check_choice(args.corpus, config.CORPORA, "corpus")
    run = experiments.run_traditional(
        recipe_for(args.recipe, args.corpus, args.root, encoder=args.encoder),
        args.root,
        model=args.model,
        protocol=args.protocol,
        subset=args.subset,
        feature_set=args.features,
        grid=args.grid,
        random_state=args.random_state,
        split_random_state=args.split_random_state,
        permute_labels=args.permute_labels,
        speaker_norm=args.speaker_norm,
        original_run=args.original_run,
        n_jobs=args.n_jobs,
        cache_dir=args.cache_dir,
        out=args.out,
    )
    from ..evaluation import fold_table  # the command's stage, loaded when it runs

    print(fold_table(run.cross_validation).to_string(float_format=lambda v: f"{v:.3f}"))
    summary = run.cross_validation.summary
    print(
        f"UA {summary.ua:.3f} ± {summary.ua_std:.3f}  WA {summary.wa:.3f} ± {summary.wa_std:.3f}  "
        f"-> {run.directory}"
    )
    return 0


# ------------------------------------------------------------ deep models: train / evaluate
def _deep_arguments(parser: argparse.ArgumentParser, *, protocol_required: bool) -> None:
    corpus_argument(parser)
    recipe_argument(parser, choices=config.RECIPES + config.ENCODER_RECIPES)
    protocol_argument(
        parser,
        note=None if protocol_required else "given, the folds run before the final model",
    )
    out_argument(parser, "RUN_DIR", "the run directory", default=RUN_DIRECTORY)
    profile_argument(parser)
    arrays_argument(parser)
    parser.add_argument(
        "--folds",
        type=int,
        nargs="+",
        default=None,
        metavar="FOLD",
        help="run only these folds (1-based)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help="override the recipe's number of epochs",
    )
    seeds_argument(parser)
    n_jobs_argument(parser, 2)
    encoder_argument(parser)


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    _deep_arguments(parser, protocol_required=False)


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    _deep_arguments(parser, protocol_required=True)
    parser.add_argument("--save-models", action="store_true", help="save each fold's model bundle")


def _deep_run(args: argparse.Namespace, *, train_final: bool) -> int:
    from .. import experiments  # the command's stage, loaded when it runs
    from ..evaluation import original_table  # the command's stage, loaded when it runs

    run = experiments.run_deep(
        recipe_for(args.recipe, args.corpus, args.root, args.profile, encoder=args.encoder),
        args.root,
        protocol=args.protocol,
        train_final=train_final,
        out=args.out,
        arrays_directory=args.arrays,
        folds=args.folds,
        epochs=args.epochs,
        seeds=args.seeds,
        save_models=getattr(args, "save_models", False),
        n_jobs=args.n_jobs,
    )
    if run.cross_validation is not None:
        print(original_table(run.cross_validation).round(3).to_string())
    for name, path in run.written.items():
        print(f"  {name:<16}{path}")
    return 0


@command(
    "train",
    _train_arguments,
    "train a deep model (optionally cross-validated first) and save its bundle",
)
def train_command(args: argparse.Namespace) -> int:
    return _deep_run(args, train_final=True)


@command(
    "evaluate",
    _evaluate_arguments,
    "cross-validate a deep model under a protocol and write a report",
)
def evaluate_command(args: argparse.Namespace) -> int:
    return _deep_run(args, train_final=False)


def _dry_run_arguments(parser: argparse.ArgumentParser) -> None:
    corpus_argument(parser)
    recipe_argument(parser)
    protocol_argument(parser, default="original-4fold")
    profile_argument(parser, default="full")
    seeds_argument(parser)
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        metavar="N",
        help="stop the measured epoch after this many training steps",
    )
    arrays_argument(parser)
    n_jobs_argument(parser, 2)


@command(
    "dry-run",
    _dry_run_arguments,
    "one fold, one epoch at full size: peak memory, seconds per step, projected time of the whole run",
)
def dry_run_command(args: argparse.Namespace) -> int:
    from ..experiments import (  # the command's stage, loaded when it runs
        default_training_seeds,
        format_dry_run,
        run_dry_run,
    )

    check_output_dir(args.arrays or paths.arrays_root(), "--arrays")
    recipe = config.get_recipe(args.recipe, args.corpus, args.profile)
    result = run_dry_run(
        recipe,
        args.root,
        protocol=args.protocol,
        # the seeds `ser evaluate` would run with the same options: the projection counts them
        seeds=len(args.seeds or default_training_seeds(recipe, args.protocol)),
        max_steps=args.max_steps,
        arrays=args.arrays,
        n_jobs=args.n_jobs,
    )
    print(format_dry_run(result))
    return 0


# ----------------------------------------------------------------------- prediction
def _predict_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", type=Path, help="a model bundle folder (written by ser train)")
    parser.add_argument("audio", nargs="+", type=Path, help="wav files or folders holding them")
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    parser.add_argument(
        "--per-window", action="store_true", help="one row per window of long clips"
    )
    encoder_argument(
        parser,
        note="here, default the one the bundle names; it must hold the weights the bundle was "
        "trained on",
    )


@command(
    "predict", _predict_arguments, "predict the emotion of wav files with a trained model bundle"
)
def predict_command(args: argparse.Namespace) -> int:
    from ..deep.prediction import (  # the command's stage, loaded when it runs
        check_bundle_files,
        collect_audio_paths,
        predict_files,
    )

    # Bad paths and a broken bundle fail before TensorFlow is imported (several seconds).
    collect_audio_paths(args.audio)
    check_bundle_files(args.bundle)
    from ..deep.bundles import load_bundle  # the command's stage, loaded when it runs

    table = predict_files(
        load_bundle(args.bundle), args.audio, per_window=args.per_window, encoder=args.encoder
    )
    if args.json:
        print(table.to_json(orient="records", indent=2))
    else:
        print(table.to_string(index=False))
    warned = table.drop_duplicates("file")
    warned = warned[warned["warning"] != ""]
    if len(warned):
        from ..audio import clip_problems_line  # the command's stage, loaded when it runs

        problems = list(zip(warned["file"], warned["warning"]))
        print(
            f"warning: {clip_problems_line(problems, table['file'].nunique(), 'clips')}",
            file=sys.stderr,
        )
    return 0
