"""The original's evaluation notebook, re-typed as plain librosa and scikit-learn calls, beside
``ser traditional --protocol original-random`` on the same arrays: WA and UA per random_state.

The original arrays are made as ``ser arrays msp-improv ROOT --recipe original --profile full``
makes them (skipped when ``OUT/arrays`` is complete). The original's code then reads
``audio.npy`` and ``labels.npy``: MFCC and chroma_stft with ``sr=22050`` hard-coded, RMS and ZCR,
hop 544, frame by frame; rows labelled ``other`` or ``X`` masked; ``train_test_split(X, Y,
random_state=RS)``; ``SVC(C=10, gamma='scale', kernel='rbf')``, no scaler. ``ser traditional``'s
run (its code path, :func:`ser_utils.experiments.run_traditional`) extracts its features from
the files through the original recipe, its feature cache first filled from the same arrays.
With ``--true-rate`` the original's code is also run with the files' own rate in place of its
22 050 Hz, which is what this project computed before it repeated the original's rates.

    python benchmarks/heldout_corpus.py /tmp/heldout
    python benchmarks/original_evaluation.py /tmp/heldout/MSP-IMPROV --out /tmp/heldout-eval
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC
from tqdm.auto import tqdm

from ser_utils import config, experiments, features, traditional
from ser_utils.corpora import load_msp_improv, select_subset
from ser_utils.deep.arrays import generate_arrays


def original_features(audios: np.ndarray, sr: int) -> np.ndarray:
    """The evaluation notebook's feature cell: four librosa calls, swapaxes, concatenate, reshape."""
    rows = []
    for y in tqdm(audios, desc=f"original's features (sr={sr})", unit="clip"):
        y = np.asarray(y)
        stacked = np.concatenate(
            [
                np.swapaxes(f[np.newaxis], 1, 2)
                for f in (
                    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=544),
                    librosa.feature.chroma_stft(y=y, sr=sr, hop_length=544),
                    librosa.feature.rms(y=y, hop_length=544),
                    librosa.feature.zero_crossing_rate(y, hop_length=544),
                )
            ],
            axis=2,
        )
        rows.append(stacked.reshape(1, -1)[0])
    return np.stack(rows)


def original_scores(X: np.ndarray, labels: np.ndarray, random_state: int) -> tuple[float, float]:
    """The evaluation notebook's mask, split and SVC: (WA, UA)."""
    keep = ~((labels == "other") | (labels == "X"))
    X_train, X_test, y_train, y_test = train_test_split(
        X[keep], labels[keep], random_state=random_state
    )
    predicted = SVC(C=10, gamma="scale", kernel="rbf").fit(X_train, y_train).predict(X_test)
    return accuracy_score(y_test, predicted), balanced_accuracy_score(y_test, predicted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="an MSP-IMPROV folder")
    parser.add_argument("--out", type=Path, required=True, help="arrays, feature cache, runs")
    parser.add_argument("--profile", default="full", choices=config.PROFILES)
    parser.add_argument("--random-states", type=int, nargs="+", default=[1, 3, 4])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--true-rate", action="store_true", help="also the original's code at the files' rate"
    )
    args = parser.parse_args(argv)
    recipe = config.original_recipe("msp-improv", args.profile)
    manifest = load_msp_improv(args.root)
    written = generate_arrays(manifest, recipe, args.out / "arrays", n_jobs=args.jobs)
    audios = np.load(written.audio, mmap_mode="r")
    labels = np.load(written.labels)
    rate = int(json.loads(written.info.read_text())["sample_rate"])
    four = select_subset(manifest, "rt-4class")
    print(
        f"{len(labels)} R+T clips at {sorted(set(manifest['sample_rate']))} Hz, {len(four)} in four "
        f"classes; arrays {audios.shape}, labels.npy: "
        + ", ".join(f"{k} {int((labels == k).sum())}" for k in sorted(set(labels)))
    )
    # the run's features from the arrays' audio: the cache entries its own extraction would write
    order = pd.read_csv(written.metadata)["utterance_id"]
    paths = manifest.set_index("utterance_id").loc[order, "path"].astype(str).tolist()
    features.extract_features(
        paths,
        "frames",
        recipe=traditional.as_original_ran(recipe),
        cache_dir=args.out / "cache",
        n_jobs=args.jobs,
        audio_loader=features.PreloadedAudio(audios, rate, paths),
    )
    X = original_features(audios, config.ORIGINAL_EVALUATION_FEATURE_SR)
    X_true = original_features(audios, rate) if args.true_rate else None
    print("random_state | original's code WA / UA | ser traditional WA / UA", end="")
    print(" | original's code at the files' rate WA / UA" if args.true_rate else "")
    for random_state in args.random_states:
        wa, ua = original_scores(X, labels, random_state)
        run = experiments.run_traditional(
            recipe,
            args.root,
            protocol="original-random",
            split_random_state=random_state,
            cache_dir=args.out / "cache",
            out=args.out / f"run-{random_state}",
            n_jobs=args.jobs,
            progress=False,
        )
        (fold,) = run.cross_validation.folds
        row = f"{random_state} | {wa:.4f} / {ua:.4f} | {fold.wa:.4f} / {fold.ua:.4f}"
        if X_true is not None:
            true_wa, true_ua = original_scores(X_true, labels, random_state)
            row += f" | {true_wa:.4f} / {true_ua:.4f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
