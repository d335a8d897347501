"""Every result of the package on the tiny synthetic corpora, recorded; two records compared.

A change that should not move a number (a refactor, a dependency-free clean-up) is checked by
recording before and after and comparing the two files::

    python benchmarks/refactor_check.py record before.json     # on the old code
    python benchmarks/refactor_check.py record after.json      # on the new code
    python benchmarks/refactor_check.py compare before.json after.json

``record`` writes the synthetic ``tiny`` corpora (``ser synth --size tiny --seed 0``) into a
fresh work folder (no feature cache or arrays are reused), then runs, in the smoke profile:

* ``ser evaluate`` for every recipe × protocol × corpus the package supports (7 protocol and
  corpus pairs × 3 recipes), on at most two folds and a few epochs per run — enough to go
  through every branch of the fold loop, the ensembles and the fusion; one run with two
  training seeds and the fold models saved; ``ser train`` with ``ser predict`` on its bundle;
* ``ser traditional`` for each of the five models and every protocol, the original and the
  grouped grid, the three feature sets, both audio chains, speaker normalisation, the
  permuted-label control and another random split;
* ``ser folds`` for every protocol;
* rows of ``benchmarks/improved_variants.py`` that reach the fold loop through the package's
  functions rather than ``ser`` (the scaled SVM, single networks on other inputs, ensembles,
  fusion combiners, the fusion of one network with the SVM).

It stores the digest of every synthetic file, each run's configuration (without paths, times
and versions), every fold's metrics and learning curves, the fold table, and every prediction
(utterance, fold, seed, predicted label, probabilities). ``compare`` prints the first
difference — numbers to 1e-9, strings and predictions identical — and exits 1, or prints what
it compared and exits 0. A record takes 14–16 minutes of CPU (measured on a 2-core AMD EPYC,
family 25; 47–62 minutes of wall time while other jobs loaded the machine to 4–15).

The command line and the run directories it writes are the stable surface this script reads;
the benchmark rows call the package's functions, imported in :func:`package_api` alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

BENCHMARKS = Path(__file__).resolve().parent
#: Configuration keys that name where or when a run happened, not what it computed.
VOLATILE_CONFIG = ("created", "environment", "seconds", "corpus_root", "arrays")
#: Fold keys that are wall-clock times.
VOLATILE_FOLD = ("seconds", "fit_seconds")
TOLERANCE = 1e-9

#: (corpus, protocol) pairs the package supports: TESS has no sessions, so no ``loso``.
PROTOCOLS = (
    ("msp-improv", "original-random"),
    ("msp-improv", "original-4fold"),
    ("msp-improv", "loso"),
    ("msp-improv", "speaker"),
    ("tess", "original-random"),
    ("tess", "original-4fold"),
    ("tess", "speaker"),
)
RECIPES = ("original", "improved", "fusion")
#: Epochs per deep run: the original recipe keeps its smoke epochs (4); the improved network and
#: each fusion member train a few, which is every branch of their code and a fraction of the time.
DEEP_EPOCHS = {"original": 4, "improved": 8, "fusion": 3}
TRADITIONAL_MODELS = ("mlp", "tree", "linear_svm", "forest", "rbf_svm")


# --------------------------------------------------------------------------- the runs
def deep_runs() -> list[tuple[str, list[str]]]:
    """(name, ``ser`` arguments after the corpus root) of every deep run."""
    runs = []
    for corpus, protocol in PROTOCOLS:
        for recipe in RECIPES:
            runs.append(
                (
                    f"evaluate {corpus} {recipe} {protocol}",
                    [corpus, "--recipe", recipe, "--protocol", protocol]
                    + ["--folds", "1", "2", "--epochs", str(DEEP_EPOCHS[recipe])],
                )
            )
    runs.append(
        (
            "evaluate msp-improv original original-4fold, seeds 0 1, fold models saved",
            ["msp-improv", "--recipe", "original", "--protocol", "original-4fold"]
            + ["--seeds", "0", "1", "--save-models", "--epochs", "2"],
        )
    )
    return runs


def traditional_runs() -> list[tuple[str, list[str]]]:
    """(name, ``ser traditional`` arguments after the corpus root) of every traditional run."""
    runs = [
        (
            f"traditional msp-improv {model} loso",
            ["msp-improv", "--model", model, "--protocol", "loso"],
        )
        for model in TRADITIONAL_MODELS
    ]
    runs += [
        (f"traditional tess {model} speaker", ["tess", "--model", model, "--protocol", "speaker"])
        for model in TRADITIONAL_MODELS
    ]
    runs += [
        (f"traditional {corpus} rbf_svm {protocol}", [corpus, "--protocol", protocol])
        for corpus, protocol in PROTOCOLS
        if protocol != "loso"
    ]
    extra = {
        "original grid": ["msp-improv", "--grid", "original", "--protocol", "original-random"],
        "original grid linear_svm": ["tess", "--model", "linear_svm", "--grid", "original"],
        "grouped grid": ["msp-improv", "--grid", "grouped", "--protocol", "loso"],
        "grouped grid forest tess": [
            "tess",
            "--model",
            "forest",
            "--grid",
            "grouped",
            "--protocol",
            "speaker",
        ],
        "functionals": ["msp-improv", "--features", "functionals", "--protocol", "loso"],
        "egemaps improved audio grouped": [
            "msp-improv",
            "--features",
            "egemaps",
            "--recipe",
            "improved",
        ]
        + ["--grid", "grouped", "--protocol", "loso"],
        "egemaps speaker-norm": [
            "msp-improv",
            "--features",
            "egemaps",
            "--speaker-norm",
            "--protocol",
            "loso",
        ],
        "functionals speaker-norm grouped": [
            "msp-improv",
            "--features",
            "functionals",
            "--speaker-norm",
        ]
        + ["--grid", "grouped", "--protocol", "loso"],
        "functionals tess speaker-norm": [
            "tess",
            "--features",
            "functionals",
            "--speaker-norm",
            "--protocol",
            "speaker",
        ],
        "permuted labels": ["msp-improv", "--permute-labels", "--protocol", "loso"],
        "split random state 3": ["msp-improv", "--split-random-state", "3"],
        "subset rt": ["msp-improv", "--subset", "rt", "--protocol", "original-4fold"],
        "subset all tess": [
            "tess",
            "--subset",
            "all",
            "--protocol",
            "original-4fold",
            "--model",
            "mlp",
        ],
    }
    runs += [(f"traditional {name}", arguments) for name, arguments in extra.items()]
    return runs


#: Rows of benchmarks/improved_variants.py, as (row name, fold numbers or None for every fold).
BENCHMARK_ROWS: tuple[tuple[str, tuple[int, ...] | None], ...] = (
    ("rbf_svm functionals", None),
    ("rbf_svm functionals, scaled", None),
    ("rbf_svm egemaps, improved audio, scaled, speaker-normalised", None),
    ("rbf_svm egemaps, improved audio, grouped grid, speaker-normalised", None),
    ("tcn + level branch, utterance norm", (1, 2)),
    ("improved, speaker-normalised log-mel (one network)", (1, 2)),
    ("fusion: improved + functionals SVM (mean of probabilities)", None),
    ("ensemble: 3 seeds on the whole training part (network alone)", (1,)),
    ("improved + functionals as a second input (one network)", (1,)),
    ("fusion: 5 inner-fold networks + Platt SVM, weight chosen on inner folds", (1,)),
    ("fusion: 5 inner-fold networks + softmax SVM, stacking C 1", (1,)),
    ("fusion: the same, both members speaker-normalised (SVM on functionals)", (1,)),
)
#: Epochs of every network of the benchmark rows.
BENCHMARK_EPOCHS = 3
#: The fold keys kept for a benchmark row: its scores, the members' scores and its predictions.
BENCHMARK_KEYS = ("fold", "wa", "ua", "macro_f1", "ua_network", "ua_svm", "wa_network", "wa_svm")


# ------------------------------------------------------------------------ recording
def ser(arguments: list[str], environment: dict) -> str:
    """Run ``ser`` with ``arguments``; its output, or exit with what it printed."""
    command = [str(Path(sys.executable).with_name("ser")), *arguments]
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus_digests(data: Path) -> dict[str, str]:
    """sha256 of every file the synthetic generator wrote, by relative path."""
    return {
        str(path.relative_to(data)): digest(path)
        for path in sorted(data.rglob("*"))
        if path.is_file()
    }


def run_record(directory: Path) -> dict:
    """What a run directory holds: configuration, fold rows, fold table, predictions."""
    config = json.loads((directory / "config.json").read_text())
    for key in VOLATILE_CONFIG:
        config.pop(key, None)
    metrics = json.loads((directory / "metrics.json").read_text())
    folds = [
        {key: value for key, value in fold.items() if key not in (*VOLATILE_FOLD, "predictions")}
        for fold in metrics["folds"]
    ]
    table = pd.read_csv(directory / "metrics.csv")
    table = table.drop(columns=[c for c in VOLATILE_FOLD if c in table.columns])
    return {
        "config": config,
        "summary": {k: v for k, v in metrics.items() if k not in ("folds", "name")},
        "folds": folds,
        "fold_table": json.loads(table.to_json(orient="records")),
        "predictions": predictions_with_seeds(
            pd.read_csv(directory / "predictions.csv"), metrics["folds"]
        ),
    }


def predictions_with_seeds(table: pd.DataFrame, folds: list[dict]) -> list[dict]:
    """``predictions.csv`` rows with the seed of their fold: the file holds the folds' test
    predictions one fold after another, in the order of ``metrics.json``'s folds."""
    records, start = [], 0
    for fold in folds:
        block = table.iloc[start : start + fold["n_test"]]
        if len(block) != fold["n_test"] or set(block["fold"]) != {fold["fold"]}:
            sys.exit(
                f"predictions.csv does not follow the folds of metrics.json at fold {fold['fold']}"
            )
        for record in json.loads(block.to_json(orient="records")):
            records.append(
                {**record, "seed": fold.get("seed"), "training_seed": fold.get("training_seed")}
            )
        start += fold["n_test"]
    if start != len(table):
        sys.exit(f"predictions.csv holds {len(table)} rows, the folds {start}")
    return records


def package_api():
    """The package's functions the benchmark rows call: the one place to adapt when they move."""
    from types import SimpleNamespace

    from ser_utils import config, evaluation, features, traditional
    from ser_utils.corpora import load_corpus
    from ser_utils.deep import arrays
    from ser_utils.deep.views import SpeakerNormalised
    from ser_utils.experiments import cross_validate_recipe
    from ser_utils.features import speaker_norm

    def evaluate_folds(protocol, y, fit_predict, labels, **options):
        # the fold loop passes the fold number first
        return evaluation.cross_validate(
            protocol, y, lambda fold, train, test: fit_predict(train, test), labels, **options
        )

    return {
        "config": config,
        "evaluation": SimpleNamespace(
            make_protocol=evaluation.make_protocol,
            select_files=evaluation.select_files,
            evaluate_folds=evaluate_folds,
        ),
        "arrays": arrays,
        "features": features,
        "speaker_norm": SimpleNamespace(
            normalise_features=speaker_norm.normalise_features, SpeakerNormalised=SpeakerNormalised
        ),
        "traditional": traditional,
        "load_corpus": load_corpus,
        "subset_rows": arrays.subset_rows,
        # one function for every recipe: one network per fold, or the fusion's ensemble and SVM
        "cross_validate_model": cross_validate_recipe,
        "cross_validate_recipe": cross_validate_recipe,
        # the one-network fusion row goes through the recipe machinery (its variant is a recipe)
        "cross_validate_fusion": None,
        "fold_rows": lambda result: [fold.to_dict() for fold in result.folds],
    }


def benchmark_records(root: Path, work: Path) -> dict[str, dict]:
    """The rows of :data:`BENCHMARK_ROWS`, run as benchmarks/improved_variants.py runs them."""
    import dataclasses

    sys.path.insert(0, str(BENCHMARKS))
    import improved_variants as bench

    api = package_api()
    config, evaluation = api["config"], api["evaluation"]
    base = config.improved_recipe("msp-improv", "smoke")
    manifest = api["load_corpus"]("msp-improv", root)
    loaded, matrices = {}, {}

    def arrays_for(recipe):
        chain = recipe.audio.scaling
        if chain not in loaded:
            paths = api["arrays"].generate_arrays(
                manifest, recipe, work / f"bench-arrays-{chain}", n_jobs=1, progress=False
            )
            loaded[chain] = api["arrays"].load_arrays(paths.directory)
        return loaded[chain]

    spectrograms, _, metadata = arrays_for(base)
    files = evaluation.select_files(manifest)

    def feature_matrix(feature_set, normalised, chain="original"):
        if (feature_set, chain) not in matrices:
            matrices[feature_set, chain] = api["features"].extract_features(
                files,
                feature_set,
                n_jobs=1,
                progress=False,
                recipe=config.get_recipe(chain, "msp-improv", "smoke"),
                cache_dir=work / "bench-features",
            )
        matrix = matrices[feature_set, chain]
        return (
            api["speaker_norm"].normalise_features(matrix, metadata["speaker"])
            if normalised
            else matrix
        )

    rows = api["subset_rows"](metadata)
    protocol = evaluation.make_protocol("loso", rows)
    y_rows = rows["label"].astype(str).to_numpy()
    positions = rows["row"].to_numpy()
    records = {}
    for name, folds in BENCHMARK_ROWS:
        start = time.perf_counter()
        if name in bench.BASELINES:
            matrix = feature_matrix(
                "egemaps" if "egemaps" in name else "functionals",
                "speaker-normalised" in name,
                "improved" if "improved audio" in name else "original",
            )
            if "scaled" in name:

                def scaled_svm(train, test, matrix=matrix):
                    model = api["traditional"].make_model(
                        "rbf_svm", random_state=base.training.seed, scaler=True
                    )
                    return model.fit(matrix[positions[train]], y_rows[train]).predict(
                        matrix[positions[test]]
                    )

                result = evaluation.evaluate_folds(
                    protocol, y_rows, scaled_svm, config.FOUR_CLASSES, progress=False
                )
            else:
                result = api["traditional"].evaluate_model(
                    matrix[positions],
                    rows["label"],
                    protocol,
                    "rbf_svm",
                    labels=config.FOUR_CLASSES,
                    grid="grouped" if "grid" in name else "none",
                    progress=False,
                    inner_groups=rows[protocol.group_column].to_numpy(),
                )
        else:
            variant = bench.VARIANTS[name]
            recipe = bench.variant_recipe(base, variant)
            recipe = dataclasses.replace(
                recipe, training=dataclasses.replace(recipe.training, epochs=BENCHMARK_EPOCHS)
            )
            spectrograms, _, metadata = arrays_for(recipe)
            if recipe.fusion is not None:
                result = api["cross_validate_recipe"](
                    spectrograms,
                    metadata,
                    recipe=recipe,
                    protocol_name="loso",
                    features=feature_matrix(
                        recipe.fusion.features, False, recipe.fusion.features_recipe
                    ),
                    folds=folds,
                    progress=False,
                )
            elif variant.get("fusion"):
                result = api["cross_validate_fusion"](
                    spectrograms,
                    metadata,
                    feature_matrix("functionals", False),
                    recipe=recipe,
                    protocol_name="loso",
                    progress=False,
                )
            else:
                result = api["cross_validate_model"](
                    api["speaker_norm"].SpeakerNormalised(spectrograms, metadata["speaker"])
                    if variant.get("speaker_norm")
                    else spectrograms,
                    metadata,
                    recipe=recipe,
                    protocol_name="loso",
                    folds=folds,
                    progress=False,
                )
        fold_rows = api["fold_rows"](result)
        records[f"benchmark {name}"] = {
            "folds": [{k: row[k] for k in BENCHMARK_KEYS if k in row} for row in fold_rows],
            "predictions": [
                {"fold": row["fold"], "utterance_id": u, "predicted": p}
                for row in fold_rows
                for u, p in zip(row["predictions"]["utterance_id"], row["predictions"]["predicted"])
            ],
        }
        print(f"  {name}: {time.perf_counter() - start:.0f} s", flush=True)
    return records


def record(out: Path, work: Path) -> None:
    started = time.perf_counter()
    data, outputs = work / "data", work / "outputs"
    environment = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MPLBACKEND": "Agg",
        "SER_PROFILE": "smoke",
        "SER_DATA_DIR": str(data),
        "SER_OUTPUT_DIR": str(outputs),
        "NUMBA_CACHE_DIR": str(work / "numba-cache"),
    }
    os.environ.update(
        {k: environment[k] for k in ("SER_PROFILE", "SER_DATA_DIR", "SER_OUTPUT_DIR")}
    )
    ser(["synth", "--out", str(data), "--size", "tiny", "--seed", "0"], environment)
    roots = {"msp-improv": data / "MSP-IMPROV", "tess": data / "TESS"}
    result = {"corpora": corpus_digests(data), "runs": {}, "folds": {}}

    def timed_ser(name: str, arguments: list[str]) -> str:
        start = time.perf_counter()
        output = ser(arguments, environment)
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
        return output

    runs = [("evaluate", name, args) for name, args in deep_runs()]
    runs += [("traditional", name, args) for name, args in traditional_runs()]
    for number, (command, name, arguments) in enumerate(runs):
        directory = work / "runs" / f"{number:02d}"
        corpus, rest = arguments[0], arguments[1:]
        timed_ser(name, [command, corpus, str(roots[corpus]), *rest, "--out", str(directory)])
        result["runs"][name] = run_record(directory)

    # the final model of a run, and what `ser predict` says with it
    directory = work / "runs" / "train"
    timed_ser(
        "train msp-improv improved loso",
        ["train", "msp-improv", str(roots["msp-improv"]), "--recipe", "improved"]
        + ["--protocol", "loso", "--folds", "1", "--epochs", "4", "--out", str(directory)],
    )
    result["runs"]["train msp-improv improved loso"] = run_record(directory)
    clips = [
        path
        for corpus in ("msp-improv", "tess")
        for path in sorted(roots[corpus].rglob("*.wav"))
        if "__MACOSX" not in path.parts and not path.name.startswith("._")
    ]
    clips = clips[:6] + clips[-3:]
    predicted = json.loads(
        ser(["predict", str(directory / "model"), *map(str, clips), "--json"], environment)
    )
    for row in predicted:
        row["file"] = str(Path(row["file"]).relative_to(data))
    result["runs"]["predict with the trained bundle"] = {"predictions": predicted}

    for corpus, protocol in PROTOCOLS:
        for recipe in ("original", "improved"):
            path = work / "folds" / f"{corpus}-{protocol}-{recipe}.csv"
            ser(
                [
                    "folds",
                    corpus,
                    str(roots[corpus]),
                    "--protocol",
                    protocol,
                    "--recipe",
                    recipe,
                    "--out",
                    str(path),
                ],
                environment,
            )
            result["folds"][f"{corpus} {protocol} {recipe}"] = digest(path)

    print("benchmark rows (benchmarks/improved_variants.py):", flush=True)
    result["runs"].update(benchmark_records(roots["msp-improv"], work))
    result["seconds"] = round(time.perf_counter() - started)
    out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"{len(result['runs'])} runs recorded in {result['seconds']} s -> {out}")


# ------------------------------------------------------------------------ comparing
class Difference(Exception):
    pass


def compare_values(before, after, where: str, counts: dict) -> None:
    """Raise :class:`Difference` at the first place ``before`` and ``after`` differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        if set(before) != set(after):
            raise Difference(
                f"{where}: keys differ — only before: {sorted(set(before) - set(after))}, "
                f"only after: {sorted(set(after) - set(before))}"
            )
        for key in before:
            compare_values(before[key], after[key], f"{where}.{key}", counts)
        return
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            raise Difference(f"{where}: {len(before)} entries before, {len(after)} after")
        for index, (b, a) in enumerate(zip(before, after)):
            compare_values(b, a, f"{where}[{index}]", counts)
        return
    numbers = (int, float)
    if isinstance(before, numbers) and isinstance(after, numbers) and not isinstance(before, bool):
        if math.isnan(before) and math.isnan(after):
            return
        difference = abs(before - after)
        counts["max_abs_difference"] = max(counts["max_abs_difference"], difference)
        counts["numbers"] += 1
        if not difference <= TOLERANCE:
            raise Difference(
                f"{where}: {before!r} before, {after!r} after (difference {difference:.3g})"
            )
        return
    if before != after:
        raise Difference(f"{where}: {before!r} before, {after!r} after")


def compare(before_path: Path, after_path: Path) -> int:
    before, after = (json.loads(Path(p).read_text()) for p in (before_path, after_path))
    counts = {"numbers": 0, "max_abs_difference": 0.0}
    try:
        for part in ("corpora", "folds", "runs"):
            compare_values(before[part], after[part], part, counts)
    except Difference as difference:
        print(f"first difference: {difference}")
        return 1
    runs = before["runs"].values()
    folds = sum(len(run.get("folds", [])) for run in runs)
    predictions = sum(len(run.get("predictions", [])) for run in runs)
    print(
        f"identical: {len(before['corpora'])} synthetic files, {len(before['folds'])} fold "
        f"assignments, {len(before['runs'])} runs, {folds} folds, {predictions} predictions; "
        f"{counts['numbers']} numbers, max abs difference {counts['max_abs_difference']:.3g} "
        f"(recorded in {before.get('seconds')} s and {after.get('seconds')} s)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    recording = commands.add_parser("record", help="run everything, write the record")
    recording.add_argument("out", type=Path, help="JSON file to write")
    recording.add_argument(
        "--work", type=Path, default=None, help="work folder (default: a new temporary one)"
    )
    comparing = commands.add_parser("compare", help="compare two records")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    work = args.work or Path(tempfile.mkdtemp(prefix="refactor-check-"))
    if work.exists() and any(work.iterdir()):
        parser.error(f"--work {work} is not empty: give a new folder, so nothing cached is reused")
    work.mkdir(parents=True, exist_ok=True)
    record(args.out, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
