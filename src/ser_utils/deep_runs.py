"""``ser train`` and ``ser evaluate``: the deep-model work of notebooks 05 and 07 as a
command, from a corpus folder to a run directory (:mod:`ser_utils.reports`).

Stages, each printed as it starts: manifest -> arrays (streamed to .npy, reused when up
to date) -> cross-validation under a protocol -> final model bundle (``train`` only) ->
report.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

from . import config, evaluation
from .config import Recipe
from .errors import SerError
from .storage import read_json

__all__ = ["run_deep", "run_from_cli", "profile_for", "compositions"]


def profile_for(root: Path) -> str:
    """``SER_PROFILE`` when set, else ``smoke`` for a synthetic corpus and ``full`` for a real one."""
    if os.environ.get("SER_PROFILE"):
        return config.current_profile()
    return "smoke" if (Path(root) / config.SYNTHETIC_MARKER).exists() else "full"


def _recipe(name: str, corpus: str, root: Path, profile: str | None, epochs: int | None) -> Recipe:
    recipe = config.get_recipe(name, corpus, profile or profile_for(root))
    if epochs is not None:
        if epochs < 1:
            raise SerError(f"--epochs must be at least 1, got {epochs}")
        recipe = dataclasses.replace(recipe, training=dataclasses.replace(recipe.training, epochs=epochs))
    return recipe


def run_deep(corpus: str, root: str | Path, *, command: str, recipe_name: str = "original", protocol: str | None,
             out: str | Path, profile: str | None = None, arrays: str | Path | None = None,
             folds: list[int] | None = None, epochs: int | None = None, n_jobs: int = 2,
             save_models: bool = False, seeds: list[int] | None = None) -> dict[str, Path]:
    """Run the deep pipeline on ``corpus`` at ``root`` and write the run directory ``out``.

    ``command`` ``"evaluate"`` cross-validates under ``protocol``; ``"train"`` also (when a
    protocol is given) and then trains the final model on every utterance of the subset and
    saves it as ``out/model``. ``seeds``: the training seeds of the cross-validation (default
    :func:`ser_utils.end_to_end.default_training_seeds`: 3 draws of original-4fold in the full
    profile, 1 in smoke). Returns the paths written.
    """
    from .arrays import arrays_dir, generate_arrays, load_arrays
    from .data_check import check_corpus
    from .reports import write_run_directory

    if protocol is not None and protocol not in evaluation.PROTOCOLS:
        raise SerError(f"unknown protocol {protocol!r}: expected one of {', '.join(evaluation.PROTOCOLS)}")
    root, out = Path(root), Path(out)
    recipe = _recipe(recipe_name, corpus, root, profile, epochs)
    steps = 2 + (protocol is not None) + (command == "train") + 1
    step = iter(range(1, steps + 1))
    start = time.perf_counter()
    print(f"[{next(step)}/{steps}] manifest of {corpus} at {root} ({recipe.name} recipe, {recipe.profile} profile)",
          flush=True)
    manifest = check_corpus(corpus, root)
    print(f"[{next(step)}/{steps}] arrays", flush=True)
    paths = generate_arrays(manifest, recipe, Path(arrays) if arrays else arrays_dir(recipe), n_jobs=n_jobs)
    spectrograms, _, metadata = load_arrays(paths.directory)
    print(f"      {spectrograms.shape[0]} clips, spectrograms {spectrograms.shape[1:]} in {paths.directory}", flush=True)
    rows, histories, bundle = None, {}, None
    if protocol is not None:
        from .end_to_end import cross_validate_seeds, default_training_seeds

        seeds = list(seeds) if seeds else list(default_training_seeds(recipe, protocol))
        print(f"[{next(step)}/{steps}] cross-validation: {protocol}, {recipe.training.epochs} epochs per fold, "
              f"training seed(s) {', '.join(map(str, seeds))}", flush=True)
        rows = cross_validate_seeds(spectrograms, metadata, recipe=recipe, protocol_name=protocol, seeds=seeds,
                                    folds=folds, out_dir=out / "folds" if save_models else None, verbose=2)
        print(evaluation.original_table(rows).round(3).to_string(), flush=True)
        histories.update({f"fold {row['fold']}" + (f" seed {row['training_seed']}" if len(seeds) > 1 else ""):
                          row.get("history") for row in rows})
    if command == "train":
        from .end_to_end import train_bundle

        print(f"[{next(step)}/{steps}] final model on every utterance, {recipe.training.epochs} epochs", flush=True)
        bundle, history = train_bundle(spectrograms, metadata, recipe=recipe, directory=out / "model", verbose=2,
                                       sample_rate=read_json(paths.info).get("sample_rate"))
        histories["final model"] = history
    print(f"[{next(step)}/{steps}] report", flush=True)
    written = write_run_directory(out, command=command, recipe=recipe, corpus_root=root, protocol=protocol,
                                  rows=rows, histories=histories, bundle=bundle,
                                  extra={"folds_run": folds or "all", "arrays": str(paths.directory),
                                         "training_seeds": seeds if protocol is not None else None},
                                  composition=compositions(metadata, protocol))
    print(f"done in {time.perf_counter() - start:.0f} s; wrote {out}:")
    for name, path in written.items():
        print(f"  {name:<16}{path}")
    return written


def compositions(metadata, protocol: str | None) -> dict:
    """:func:`evaluation.fold_composition` of ``protocol`` over the 4-class rows, and, for the
    original protocol, of leave-one-session-out beside it (when the corpus has sessions)."""
    from .end_to_end import subset_rows

    if protocol is None:
        return {}
    rows = subset_rows(metadata)
    names = [protocol]
    if protocol == "original-4fold" and "session" in rows.columns and rows["session"].nunique() > 1:
        names.append("loso")
    return {name: evaluation.fold_composition(rows, evaluation.make_protocol(name, rows)) for name in names}


def run_from_cli(args: argparse.Namespace, *, command: str) -> dict[str, Path]:
    return run_deep(args.corpus, args.root, command=command, recipe_name=args.recipe, protocol=args.protocol,
                    out=args.out, profile=args.profile, arrays=args.arrays, folds=args.folds, epochs=args.epochs,
                    n_jobs=args.n_jobs, save_models=getattr(args, "save_models", False), seeds=args.seeds)
