"""Every variant tried on the way to the improved recipe, with its leave-one-session-out UA.

One row per variant: UA and WA mean ± sd over the folds, seconds per fold. All variants
see the same folds (``loso``: leave one MSP-IMPROV session out) and the same utterances
(the 4-class R+T subset), beside the traditional baselines of ``ser traditional`` (RBF SVM
on functionals or eGeMAPS, with and without the UA-scored, session-grouped grid and speaker
normalisation) on the same rows.
Negative results stay in the table.

    python benchmarks/improved_variants.py dataset/MSP-IMPROV --profile smoke
    python benchmarks/improved_variants.py outputs/synthetic/MSP-IMPROV --variants "rbf_svm functionals" \
        "improved: tcn, corpus norm + level branch"

Arrays are generated under ``--work`` (default a temporary folder) once per audio chain.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ser_utils import config, evaluation  # noqa: E402
from ser_utils.config import FusionConfig, ModelConfig, Recipe  # noqa: E402

#: The fusion recipe's SVM before eGeMAPS joined it: functionals of the original audio chain.
FUNCTIONALS_SVM = {"features": "functionals", "features_recipe": "original"}
#: The fusion rows measured before speaker normalisation and eGeMAPS joined the recipe.
EARLIER_FUSION = {"speaker_norm": False, **FUNCTIONALS_SVM}
#: name -> changes from the improved recipe: ``audio`` (AudioConfig fields), ``model``
#: (builder name and params; None keeps the recipe's) and ``training`` (TrainingConfig fields).
#: ``ensemble`` holds the changes from the fusion recipe's settings (``FusionConfig``) of a row
#: that trains an ensemble or fuses with an SVM; ``speaker_norm`` marks a single network on
#: speaker-normalised log-mel (:mod:`ser_utils.features.speaker_norm`).
#: ``smoke`` params apply to the smoke profile only (the small sizes CI trains);
#: ``training smoke`` / ``training full`` are training changes for one profile.
VARIANTS: dict[str, dict] = {
    "crnn (previous improved recipe)": {
        "model": ("improved_crnn", {}),
        "smoke": {"filters": (8, 16), "recurrent_units": 16},
        "audio": {"scaling": "peak"},
        "training": {"learning_rate_schedule": "constant", "learning_rate": 1e-3, "batch_size": 32},
        "training smoke": {"epochs": 15},
        "training full": {"epochs": 40, "early_stopping_patience": 8},
    },
    "tcn, utterance norm, peak audio (level removed twice)": {
        "model": ("improved_tcn", {"input_normalisation": "utterance", "level_units": 0}),
        "audio": {"scaling": "peak"},
    },
    "tcn + level branch, utterance norm, peak audio": {
        "model": ("improved_tcn", {"input_normalisation": "utterance"}),
        "audio": {"scaling": "peak"},
    },
    "tcn + level branch, utterance norm": {
        "model": ("improved_tcn", {"input_normalisation": "utterance"})
    },
    "tcn, corpus norm, no level branch": {"model": ("improved_tcn", {"level_units": 0})},
    "improved: tcn, corpus norm + level branch": {},
    "improved + level spread (variance per mel bin)": {
        "model": ("improved_tcn", {"level_spread": True})
    },
    "improved + SpecAugment (2 masks, 10 %)": {"training": {"spec_augment_masks": 2}},
    "improved + mixup (alpha 0.2)": {"training": {"mixup_alpha": 0.2}},
    "improved, constant learning rate": {"training": {"learning_rate_schedule": "constant"}},
    "improved, lr 1e-3, batch 32, 30 epochs (first try)": {
        "training": {"learning_rate": 1e-3, "batch_size": 32, "epochs": 30}
    },
    # one network (a seed "ensemble" of one) and the functionals SVM, their probabilities' mean
    "fusion: improved + functionals SVM (mean of probabilities)": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 1,
            "member_split": "seeds",
            "combiner": "mean",
            "pooling": "arithmetic",
        }
    },
    "improved, 128 mels, 64 ms window (finer pitch harmonics)": {
        "spectrogram": {"n_mels": 128, "n_fft": 1024}
    },
    # ``ensemble``: FusionConfig changes (ser_utils.experiments.fusion): members on inner folds
    # (or seeds), the SVM beside them (on functionals in these earlier rows), and how the two are combined.
    "ensemble: 5 networks on speaker-grouped inner folds (network alone)": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "combiner": "network",
            "pooling": "arithmetic",
        }
    },
    "ensemble: 3 inner-fold networks, 30 epochs (network alone)": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 3,
            "combiner": "network",
            "pooling": "arithmetic",
        },
        "training": {"epochs": 30},
    },
    "ensemble: 3 seeds on the whole training part (network alone)": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 3,
            "member_split": "seeds",
            "combiner": "network",
            "pooling": "arithmetic",
        }
    },
    "improved + functionals as a second input (one network)": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 1,
            "member_split": "seeds",
            "combiner": "network",
            "network_features": True,
        }
    },
    "fusion: 5 inner-fold networks + softmax SVM, mean": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "softmax",
            "combiner": "mean",
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + softmax SVM, weight chosen on inner folds": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "softmax",
            "combiner": "weight",
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + softmax SVM, stacking C 1": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "softmax",
            "combiner": "stacking",
            "stacking_c": 1.0,
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + softmax SVM, stacking C 0.1": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "softmax",
            "combiner": "stacking",
            "stacking_c": 0.1,
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + Platt SVM, mean": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "mean",
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + Platt SVM, weight chosen on inner folds": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "weight",
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + Platt SVM, stacking C 1": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "stacking",
            "stacking_c": 1.0,
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + Platt SVM, stacking C 0.1": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "stacking",
            "stacking_c": 0.1,
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + Platt SVM, stacking C 10": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "stacking",
            "stacking_c": 10.0,
            "pooling": "arithmetic",
        }
    },
    "fusion: 5 inner-fold networks + Platt SVM, stacking C 1, no class weights": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "stacking",
            "stacking_c": 1.0,
            "stacking_class_weight": False,
            "pooling": "arithmetic",
        }
    },
    "ensemble: 5 inner-fold networks, geometric pooling (network alone)": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "combiner": "network",
            "pooling": "geometric",
        }
    },
    "fusion: 5 inner-fold networks (geometric pooling) + Platt SVM, stacking C 0.1": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "platt",
            "combiner": "stacking",
            "stacking_c": 0.1,
            "pooling": "geometric",
        }
    },
    "fusion: 5 inner-fold networks (geometric pooling) + softmax SVM, stacking C 1": {
        "ensemble": {
            **EARLIER_FUSION,
            "members": 5,
            "svm_calibration": "softmax",
            "combiner": "stacking",
            "stacking_c": 1.0,
            "pooling": "geometric",
        }
    },
    "fusion: 5 inner-fold networks (geometric pooling) + softmax SVM, stacking C 0.1": {
        "ensemble": EARLIER_FUSION
    },
    "fusion: the same, 30 epochs per member": {
        "ensemble": EARLIER_FUSION,
        "training": {"epochs": 30},
    },
    # speaker normalisation (ser_utils.features.speaker_norm): each speaker's own mean removed
    "improved, speaker-normalised log-mel (one network)": {"speaker_norm": True},
    "fusion: the same, both members speaker-normalised (SVM on functionals)": {
        "ensemble": FUNCTIONALS_SVM
    },
    # the SVM of `ser traditional --recipe improved --features egemaps`, the strongest traditional model
    "fusion recipe: the same, the SVM on eGeMAPS of the improved audio chain": {"ensemble": {}},
}
#: ``ser traditional``'s RBF SVM on functionals: without a grid it takes the features unscaled, as
#: the original did; "scaled" is the same SVC after a StandardScaler fitted on the training part
#: (what ``ser traditional`` did before it followed the original there, and the SVM of the fusion);
#: "speaker-normalised" the same on features z-normalised within each speaker, as
#: ``ser traditional --speaker-norm`` (statistics over each speaker's R+T recordings, any label).
#: The "egemaps" rows are the same SVM on openSMILE's 88 eGeMAPSv02 functionals
#: (``ser traditional --features egemaps``); "improved audio" rows take their features from the
#: improved recipe's audio chain (``--recipe improved``: 16 kHz, no noise reduction) instead of the
#: original's.
BASELINES: tuple[str, ...] = (
    "rbf_svm functionals",
    "rbf_svm functionals, scaled",
    "rbf_svm functionals, grouped grid",
    "rbf_svm functionals, speaker-normalised",
    "rbf_svm functionals, scaled, speaker-normalised",
    "rbf_svm functionals, grouped grid, speaker-normalised",
    "rbf_svm egemaps, scaled",
    "rbf_svm egemaps, grouped grid",
    "rbf_svm egemaps, scaled, speaker-normalised",
    "rbf_svm egemaps, grouped grid, speaker-normalised",
    "rbf_svm egemaps, improved audio, scaled",
    "rbf_svm egemaps, improved audio, grouped grid",
    "rbf_svm egemaps, improved audio, speaker-normalised",
    "rbf_svm egemaps, improved audio, scaled, speaker-normalised",
    "rbf_svm egemaps, improved audio, grouped grid, speaker-normalised",
)


def variant_recipe(base: Recipe, changes: dict) -> Recipe:
    """``base`` with a variant's audio, spectrogram, model, training and fusion changes."""
    name, params = changes.get("model", (base.model.name, {}))
    if name == base.model.name:
        params = {**base.model.params, **params}
    elif base.profile == "smoke":
        params = {**changes.get("smoke", {}), **params}
    training = {**changes.get("training", {}), **changes.get(f"training {base.profile}", {})}
    fusion = base.fusion
    if "ensemble" in changes:
        fusion = dataclasses.replace(fusion or FusionConfig(), **changes["ensemble"])
    return dataclasses.replace(
        base,
        audio=dataclasses.replace(base.audio, **changes.get("audio", {})),
        spectrogram=dataclasses.replace(base.spectrogram, **changes.get("spectrogram", {})),
        model=ModelConfig(name, params),
        training=dataclasses.replace(base.training, **training),
        fusion=fusion,
    )


def summary(result, key: str = "ua") -> tuple[float, float]:
    """Mean and sd (population, as :func:`ser_utils.evaluation.fold_table`) of ``key`` over the
    folds of a :class:`~ser_utils.evaluation.CrossValidation` (``ua_svm``: a member's UA)."""
    values = np.array([fold.score(key) for fold in result.folds], dtype=float)
    return float(values.mean()), float(values.std())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "root", type=Path, help="an MSP-IMPROV folder (real, synthetic or heldout_corpus.py's)"
    )
    parser.add_argument("--profile", choices=config.PROFILES, default="smoke")
    parser.add_argument("--protocol", default="loso", choices=evaluation.PROTOCOLS)
    parser.add_argument(
        "--variants", nargs="*", default=None, help="names of VARIANTS / BASELINES (default all)"
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="folder for arrays (default: a temporary one)"
    )
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)

    from ser_utils import features, traditional
    from ser_utils.corpora import load_corpus
    from ser_utils.deep import arrays
    from ser_utils.deep.arrays import subset_rows
    from ser_utils.deep.views import SpeakerNormalised, packed_columns
    from ser_utils.experiments import cross_validate_recipe
    from ser_utils.features import speaker_norm

    names = args.variants or [*BASELINES, *VARIANTS]
    unknown = sorted(set(names) - set(VARIANTS) - set(BASELINES))
    if unknown:
        parser.error(f"unknown variants {unknown}: choose among {[*BASELINES, *VARIANTS]}")
    work = args.work or Path(tempfile.mkdtemp(prefix="improved-variants-"))
    base = config.improved_recipe("msp-improv", args.profile)
    manifest = load_corpus("msp-improv", args.root)
    loaded: dict[str, tuple] = {}

    def arrays_for(recipe: Recipe):
        chain = recipe.audio.scaling
        if recipe.spectrogram != base.spectrogram:
            chain += f"-mels{recipe.spectrogram.n_mels}-fft{recipe.spectrogram.n_fft}"
        if chain not in loaded:
            paths = arrays.generate_arrays(
                manifest, recipe, work / f"arrays-{chain}", n_jobs=args.jobs, progress=False
            )
            loaded[chain] = arrays.load_arrays(paths.directory)
        return loaded[chain]

    spectrograms, _, metadata = arrays_for(base)
    files = evaluation.select_files(manifest)  # the arrays' rows, with their paths
    assert list(files["utterance_id"]) == list(metadata["utterance_id"])
    feature_matrices: dict[tuple[str, str], np.ndarray] = {}

    def feature_matrix(feature_set: str, normalised: bool, chain: str = "original") -> np.ndarray:
        """``ser traditional --recipe chain --features feature_set [--speaker-norm]``'s matrix,
        extracted once."""
        if (feature_set, chain) not in feature_matrices:
            feature_matrices[feature_set, chain] = features.extract_features(
                files,
                feature_set,
                n_jobs=args.jobs,
                progress=False,
                recipe=config.get_recipe(chain, "msp-improv", args.profile),
                cache_dir=work / "features",
            )
        matrix = feature_matrices[feature_set, chain]
        # speaker normalisation: statistics over each speaker's arrays rows, whatever their label
        return (
            speaker_norm.normalise_features(matrix, metadata["speaker"]) if normalised else matrix
        )

    rows = subset_rows(metadata)
    protocol = evaluation.make_protocol(args.protocol, rows)
    print(
        f"{args.root}: {len(rows)} utterances, {protocol.n_splits} folds ({args.protocol}), "
        f"{args.profile} profile",
        flush=True,
    )
    results = []
    for name in names:
        start = time.perf_counter()
        parameters = None
        if name in BASELINES:
            grid = "grouped" if "grid" in name else "none"
            matrix = feature_matrix(
                "egemaps" if "egemaps" in name else "functionals",
                "speaker-normalised" in name,
                "improved" if "improved audio" in name else "original",
            )
            if "scaled" in name:
                y_rows = rows["label"].astype(str).to_numpy()

                def scaled_svm(fold, train, test, y_rows=y_rows, matrix=matrix):
                    model = traditional.make_model(
                        "rbf_svm", random_state=base.training.seed, scaler=True
                    )
                    return model.fit(matrix[rows["row"].to_numpy()[train]], y_rows[train]).predict(
                        matrix[rows["row"].to_numpy()[test]]
                    )

                folds = evaluation.cross_validate(
                    protocol, y_rows, scaled_svm, config.FOUR_CLASSES, progress=False
                )
            else:
                folds = traditional.evaluate_model(
                    matrix[rows["row"].to_numpy()],
                    rows["label"],
                    protocol,
                    "rbf_svm",
                    labels=config.FOUR_CLASSES,
                    grid=grid,
                    progress=False,
                    inner_groups=rows[protocol.group_column].to_numpy()
                    if protocol.group_column
                    else None,
                )
        else:
            recipe = variant_recipe(base, VARIANTS[name])
            spectrograms, _, metadata = arrays_for(recipe)
            svm_features = (
                feature_matrix(recipe.fusion.features, False, recipe.fusion.features_recipe)
                if recipe.fusion is not None
                else None
            )
            folds = cross_validate_recipe(
                SpeakerNormalised(spectrograms, metadata["speaker"])
                if VARIANTS[name].get("speaker_norm")
                else spectrograms,
                metadata,
                recipe=recipe,
                protocol_name=args.protocol,
                features=svm_features,
                progress=False,
            )
            from ser_utils.deep.models import build_model

            shape, model_config = tuple(spectrograms.shape[1:]), recipe.model
            if recipe.fusion is not None and recipe.fusion.network_features:
                columns = packed_columns(svm_features.shape[1], shape[0])
                shape = (shape[0], shape[1] + columns)
                model_config = ModelConfig(
                    model_config.name, {**model_config.params, "packed_columns": columns}
                )
            parameters = build_model(model_config, shape, len(config.FOUR_CLASSES)).count_params()
        seconds = (time.perf_counter() - start) / len(folds.folds)
        (ua, ua_sd), (wa, wa_sd) = summary(folds, "ua"), summary(folds, "wa")
        results.append((name, ua, ua_sd, wa, wa_sd, seconds, parameters))
        members = "".join(
            f", {member} alone {summary(folds, f'ua_{member}')[0]:.3f}"
            for member in ("network", "svm")
            if member in folds.folds[0].members
        )
        print(
            f"  {name}: UA {ua:.3f} ± {ua_sd:.3f}, WA {wa:.3f} ± {wa_sd:.3f}, {seconds:.1f} s/fold "
            f"[{', '.join(format(fold.ua, '.2f') for fold in folds.folds)}]{members}",
            flush=True,
        )

    header = f"{'variant':<80}{'UA':>15}{'WA':>15}{'s/fold':>8}{'parameters':>12}"
    print(f"\n{header}\n{'-' * len(header)}")
    for name, ua, ua_sd, wa, wa_sd, seconds, parameters in results:
        print(
            f"{name:<80}{ua:>8.3f} ± {ua_sd:.3f}{wa:>8.3f} ± {wa_sd:.3f}{seconds:>8.1f}"
            f"{'' if parameters is None else f'{parameters:,}':>12}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
