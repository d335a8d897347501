"""The ``ser`` command: the notebooks' pipeline without a notebook.

This module only parses arguments and prints results: every sub-command calls the function
of :mod:`ser_utils.experiments` (or of the stage's module) that the notebooks call; a recipe
named on the command line becomes a :class:`~ser_utils.config.Recipe` here. Errors the
user can fix (a missing label file, a corrupt wav, an unknown corpus) are printed as one
line, ``error: …``, with exit status 2 — never a traceback.

    ser synth OUT_DIR [--corpus tess|msp-improv|all] [--size tiny|mini|full] [--seed N]
    ser data prepare | check CORPUS ROOT | manifest CORPUS ROOT --out FILE.csv
    ser features CORPUS ROOT --set frames|functionals|egemaps --out DIR
    ser traditional CORPUS ROOT --model NAME --protocol NAME [--subset NAME] [--features SET]
                    [--grid NAME] [--speaker-norm] [--out RUN_DIR]
    ser folds CORPUS ROOT --protocol NAME --out FILE.csv
    ser arrays CORPUS ROOT --recipe original|improved --out DIR
    ser train CORPUS ROOT --recipe original|improved [--protocol NAME] [--out RUN_DIR]
    ser evaluate CORPUS ROOT --recipe original|improved|fusion --protocol NAME [--out RUN_DIR]
    ser dry-run CORPUS ROOT [--recipe original] [--protocol original-4fold] [--seeds N] [--max-steps N]
    ser predict BUNDLE AUDIO... [--json] [--per-window]
    ser run
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from . import config, paths
from .errors import SerError
from .storage import check_output_dir, check_output_file

log = logging.getLogger("ser")

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


def recipe_for(name: str, corpus: str, root: Path, profile: str | None = None):
    """The recipe a command names, for its corpus at ``profile`` (default: the corpus
    folder's, :func:`ser_utils.paths.profile`)."""
    return config.get_recipe(name, corpus, profile or paths.profile(root))


def _corpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("corpus", choices=config.CORPORA, help="which corpus")
    parser.add_argument("root", type=Path, help="the corpus folder (e.g. dataset/MSP-IMPROV)")


# ------------------------------------------------------------------ synthetic data
#: Sizes of the synthetic corpora (ser_utils.synthetic.SIZES, not imported here: it is slow).
SYNTHETIC_SIZES = ("tiny", "mini", "full")


def _synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out_dir", type=Path, help="folder that receives TESS/ and MSP-IMPROV/")
    parser.add_argument("--corpus", choices=(*config.CORPORA, "all"), default="all")
    parser.add_argument("--size", choices=SYNTHETIC_SIZES, default="mini")
    parser.add_argument("--seed", type=int, default=0)


@command(
    "synth", _synth_arguments, "write synthetic TESS and MSP-IMPROV corpora in the real layouts"
)
def run_synth(args: argparse.Namespace) -> int:
    from . import synthetic

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
def run_data_prepare(args: argparse.Namespace) -> int:
    from . import data_check

    base = data_check.prepare_data(size=args.size)
    print(f"data directory: {base} (profile {paths.profile()})")
    return 0


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    _corpus_argument(parser)
    parser.add_argument(
        "--strict", action="store_true", help="fail on unlabelled or unparseable files"
    )


@command(
    "data check",
    _check_arguments,
    "count labels, speakers, sessions, rates, durations and skipped files",
)
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


@command("run", _run_arguments, "the whole pipeline: data, manifests, every notebook")
def run_pipeline(args: argparse.Namespace) -> int:
    from . import pipeline

    pipeline.run_all(notebooks_dir=args.notebooks)
    return 0


# ------------------------------------------------------------- traditional models
def _traditional_arguments(parser: argparse.ArgumentParser) -> None:
    # Names are checked in run_traditional (not argparse choices) so a wrong one is a one-line error.
    parser.add_argument("corpus", help=f"which corpus: {', '.join(config.CORPORA)}")
    parser.add_argument("root", type=Path, help="the corpus folder (e.g. dataset/MSP-IMPROV)")
    parser.add_argument(
        "--model", default="rbf_svm", help="mlp, tree, linear_svm, forest or rbf_svm (default)"
    )
    parser.add_argument(
        "--protocol",
        default="original-random",
        help="original-random (default), original-4fold, loso (MSP-IMPROV) or speaker",
    )
    parser.add_argument(
        "--subset",
        default=None,
        help="rt-4class (MSP-IMPROV default: the original's 1218), emotions (TESS default), rt, 4class or all",
    )
    parser.add_argument(
        "--features", default="frames", help="feature set: frames (default), functionals or egemaps"
    )
    parser.add_argument(
        "--grid",
        default="none",
        help="none (default), original (SVC grid, 5-fold, accuracy) or grouped (UA, speaker-grouped)",
    )
    parser.add_argument(
        "--recipe",
        default="original",
        help="audio chain of the features: original (default) or improved",
    )
    parser.add_argument(
        "--random-state", type=int, default=None, help="seed of the models (default: the recipe's)"
    )
    parser.add_argument(
        "--split-random-state",
        type=int,
        default=config.ORIGINAL_SPLIT_RANDOM_STATE,
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
        "--jobs", type=int, default=1, help="joblib workers for features and grid search"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="feature cache (default outputs/features)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="the run directory (default outputs/runs/<run name>)"
    )


@command("traditional", _traditional_arguments, "evaluate a traditional model under a protocol")
def run_traditional(args: argparse.Namespace) -> int:
    from . import experiments

    config.check_choice(args.corpus, config.CORPORA, "corpus")
    run = experiments.run_traditional(
        recipe_for(args.recipe, args.corpus, args.root),
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
        n_jobs=args.jobs,
        cache_dir=args.cache_dir,
        out=args.out,
    )
    from .evaluation import fold_table

    print(fold_table(run.cross_validation).to_string(float_format=lambda v: f"{v:.3f}"))
    summary = run.cross_validation.summary
    print(
        f"UA {summary.ua:.3f} ± {summary.ua_std:.3f}  WA {summary.wa:.3f} ± {summary.wa_std:.3f}  "
        f"-> {run.directory}"
    )
    return 0


# --------------------------------------------------------------------------- folds
def _folds_arguments(parser: argparse.ArgumentParser) -> None:
    _corpus_argument(parser)
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
def run_folds(args: argparse.Namespace) -> int:
    from . import experiments

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


# ------------------------------------------------------------ deep models: train / evaluate
def _deep_arguments(parser: argparse.ArgumentParser, *, protocol_required: bool) -> None:
    _corpus_argument(parser)
    parser.add_argument("--recipe", choices=config.RECIPES, default="original")
    parser.add_argument(
        "--protocol",
        required=protocol_required,
        default=None,
        help="original-4fold | loso | original-random | speaker"
        + ("" if protocol_required else " (cross-validate before the final model)"),
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="the run directory (default outputs/runs/<run name>)"
    )
    parser.add_argument(
        "--profile",
        choices=config.PROFILES,
        default=None,
        help="full (the original sizes) or smoke (tiny); default: smoke on synthetic data",
    )
    parser.add_argument(
        "--arrays", type=Path, default=None, help="arrays folder (default: under outputs/arrays)"
    )
    parser.add_argument(
        "--folds", type=int, nargs="+", default=None, help="run only these folds (1-based)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override the recipe's number of epochs"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=None,
        metavar="SEED",
        help="training seeds, one cross-validation each (default: "
        + ", ".join(
            f"{profile} {' '.join(map(str, seeds))}"
            for profile, seeds in config.ORIGINAL_4FOLD_TRAINING_SEEDS.items()
        )
        + " for original-4fold; the recipe's seed otherwise)",
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="processes for array generation")


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    _deep_arguments(parser, protocol_required=False)


def _evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    _deep_arguments(parser, protocol_required=True)
    parser.add_argument("--save-models", action="store_true", help="save each fold's model bundle")


def _deep_run(args: argparse.Namespace, *, train_final: bool) -> int:
    from . import experiments
    from .evaluation import original_table

    run = experiments.run_deep(
        recipe_for(args.recipe, args.corpus, args.root, args.profile),
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
def run_train(args: argparse.Namespace) -> int:
    return _deep_run(args, train_final=True)


@command(
    "evaluate",
    _evaluate_arguments,
    "cross-validate a deep model under a protocol and write a report",
)
def run_evaluate(args: argparse.Namespace) -> int:
    return _deep_run(args, train_final=False)


def _dry_run_arguments(parser: argparse.ArgumentParser) -> None:
    _corpus_argument(parser)
    parser.add_argument("--recipe", choices=config.RECIPES, default="original")
    parser.add_argument(
        "--protocol",
        default="original-4fold",
        help="the protocol of the real run (default original-4fold)",
    )
    parser.add_argument(
        "--profile",
        choices=config.PROFILES,
        default="full",
        help="full (the original sizes, default) or smoke",
    )
    parser.add_argument(
        "--seeds", type=int, default=1, help="training seeds of the real run (default 1)"
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop the measured epoch after this many training steps",
    )
    parser.add_argument(
        "--arrays", type=Path, default=None, help="arrays folder (default: under outputs/arrays)"
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="processes for array generation")


@command(
    "dry-run",
    _dry_run_arguments,
    "one fold, one epoch at full size: peak memory, seconds per step, projected time of the whole run",
)
def run_dry_run(args: argparse.Namespace) -> int:
    from .experiments import format_dry_run, run_dry_run

    check_output_dir(args.arrays or paths.arrays_root(), "--arrays")
    result = run_dry_run(
        config.get_recipe(args.recipe, args.corpus, args.profile),
        args.root,
        protocol=args.protocol,
        seeds=args.seeds,
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


@command(
    "predict", _predict_arguments, "predict the emotion of wav files with a trained model bundle"
)
def run_predict(args: argparse.Namespace) -> int:
    from .prediction import check_bundle_files, collect_audio_paths, predict_files

    # Bad paths and a broken bundle fail before TensorFlow is imported (several seconds).
    collect_audio_paths(args.audio)
    check_bundle_files(args.bundle)
    from .bundles import load_bundle

    table = predict_files(load_bundle(args.bundle), args.audio, per_window=args.per_window)
    if args.json:
        print(table.to_json(orient="records", indent=2))
    else:
        print(table.to_string(index=False))
    warned = table.drop_duplicates("file")
    warned = warned[warned["warning"] != ""]
    if len(warned):
        print(
            f"warning: {len(warned)} of {table['file'].nunique()} clips: the label is not meaningful — "
            f"{warned['file'].iloc[0]}: {warned['warning'].iloc[0]}",
            file=sys.stderr,
        )
    return 0


# --------------------------------------------------------------------------- arrays
def _arrays_arguments(parser: argparse.ArgumentParser) -> None:
    _corpus_argument(parser)
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
def run_arrays(args: argparse.Namespace) -> int:
    from . import experiments

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
def run_features(args: argparse.Namespace) -> int:
    from . import experiments

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


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ser", description="Speech emotion recognition pipeline")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each stage does")
    groups: dict[str, argparse._SubParsersAction] = {
        "": parser.add_subparsers(dest="command", required=True)
    }
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
    from .progress import show_progress

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
