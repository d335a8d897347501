"""Whisper embeddings measured: leave-one-session-out UA beside the best traditional model.

For each corpus in the MSP-IMPROV layout (a synthetic one from ``ser synth``, the held-out
espeak-ng ones of ``benchmarks/heldout_corpus.py``), on the rows and folds of the strongest
traditional model of this repository, run through the ``ser`` command::

    ser traditional msp-improv ROOT --recipe improved --features egemaps --speaker-norm \\
        --grid grouped --protocol loso

(and the plain functionals SVM, ``--features functionals --protocol loso``), the frozen
Whisper encoder's embeddings (:mod:`ser_utils.features.encoders`, the bundled tiny.en, on the
audio chain of that eGeMAPS run) are scored on the same folds:

- logistic regression and RBF SVM on the mean + std pooled embeddings, with fixed settings
  and with a UA-scored grid grouped by session, each without and with speaker normalisation;
- the compute types side by side (``--compute-types float32 int8``): seconds per clip, how
  far the pooled embeddings move, and the UA of the models on each;
- the encoder over 30-s windows padded with silence, as Whisper transcribes (``--padded``);
- the whole clips, at 16 kHz but not trimmed or cropped to the recipe's length (``--whole``);
- small Keras heads over the frozen frame sequence (``--heads``): attentive statistics
  pooling, or mean + std pooling, then one dense layer.

Every row is UA and WA mean ± sd over the folds (population sd, as ``ser`` reports it).
Seconds per clip are split into reading + the audio chain, Whisper's front end, the encoder
and pooling, with the machine's load average beside them.

    python benchmarks/encoders.py /tmp/synth/MSP-IMPROV /tmp/heldout/MSP-IMPROV \\
        --compute-types float32 int8 --padded --heads --out /tmp/encoders.json

Everything is kept under ``--work`` (default a temporary folder), one folder per corpus: the
``ser`` runs, and the embeddings per encoder identity, so a second run only trains.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ser_utils import audio  # noqa: E402
from ser_utils.config import AudioConfig  # noqa: E402
from ser_utils.features import encoders  # noqa: E402
from ser_utils.features.speaker_norm import normalise_features  # noqa: E402
from ser_utils.traditional import SOUND_GRIDS  # noqa: E402

#: The ``ser`` command of this interpreter's environment (the one on PATH otherwise).
SER = [str(Path(sys.executable).with_name("ser"))]
if not Path(SER[0]).is_file():
    SER = ["ser"]
#: The best traditional model of the repository (its rows and folds are everyone's), and the
#: plain functionals SVM.
BASELINES: dict[str, list[str]] = {
    "eGeMAPS SVM, improved chain, speaker-norm, grouped grid": [
        "--recipe",
        "improved",
        "--features",
        "egemaps",
        "--speaker-norm",
        "--grid",
        "grouped",
    ],
    "functionals SVM, plain": ["--features", "functionals"],
}
REFERENCE = next(iter(BASELINES))
LOGISTIC_GRID = {"model__C": [0.001, 0.01, 0.1, 1.0], "model__class_weight": [None, "balanced"]}
#: Keras heads over the frame sequence: name -> pooling.
HEADS: dict[str, str] = {
    "attentive statistics pooling + dense": "attentive",
    "mean + std pooling + dense": "mean",
}


# ---------------------------------------------------------------------------- the corpus
@dataclass
class Corpus:
    """The R+T recordings of one corpus (speaker statistics are taken over them, as
    ``ser traditional --speaker-norm`` does), the evaluated rows with their folds, and the
    audio chain of the reference run."""

    name: str
    work: Path
    recordings: pd.DataFrame
    rows: pd.DataFrame  # utterance_id, fold, label, position (row of ``recordings``)
    audio: AudioConfig
    baselines: dict[str, dict]


def run_ser(arguments: list[str]) -> None:
    result = subprocess.run([*SER, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"ser {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")


def fold_table(metrics: dict) -> dict:
    return {"ua": [f["ua"] for f in metrics["folds"]], "wa": [f["wa"] for f in metrics["folds"]]}


def load_corpus(root: Path, work: Path, name: str) -> Corpus:
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "manifest.csv").is_file():
        run_ser(["data", "manifest", "msp-improv", str(root), "--out", str(work / "manifest.csv")])
    manifest = pd.read_csv(work / "manifest.csv")
    recordings = manifest[manifest["recording_type"].isin(["R", "T"])].reset_index(drop=True)
    baselines = {}
    for index, (label, options) in enumerate(BASELINES.items()):
        out = work / f"baseline-{index}"
        start = time.perf_counter()
        if not (out / "metrics.json").is_file():
            run_ser(
                ["traditional", "msp-improv", str(root), "--protocol", "loso", *options]
                + ["--out", str(out), "--cache-dir", str(work / "feature-cache")]
            )
        baselines[label] = {
            **fold_table(json.loads((out / "metrics.json").read_text())),
            "seconds": time.perf_counter() - start,
        }
    reference = work / "baseline-0"
    predictions = pd.read_csv(reference / "predictions.csv")
    rows = predictions[predictions["split"] == "test"][["utterance_id", "fold", "true"]]
    rows = rows.rename(columns={"true": "label"}).reset_index(drop=True)
    position = pd.Series(np.arange(len(recordings)), index=recordings["utterance_id"])
    rows["position"] = position.loc[rows["utterance_id"]].to_numpy()
    chain = json.loads((reference / "config.json").read_text())["recipe"]["audio"]
    return Corpus(name, work, recordings, rows, AudioConfig(**chain), baselines)


# ----------------------------------------------------------------------------- embeddings
@dataclass
class Embeddings:
    pooled: np.ndarray  # (recordings, 2 d)
    frames: list[np.ndarray]  # per recording, (frames, d) float16
    seconds: dict[str, float]  # read, front_end, encoder, pooling: totals over the recordings
    load_average: list[float] | None = None  # the machine's, when the embeddings were made


#: The audio chain of the whole clip: 16 kHz, nothing trimmed, cropped or padded (the whisper
#: feature set's).
WHOLE_CLIP = encoders.WHISPER_AUDIO


def _cache_file(
    corpus: Corpus, encoder: encoders.WhisperEncoder, padded: bool, whole: bool
) -> Path:
    tags = ("-padded" if padded else "") + ("-whole" if whole else "")
    return corpus.work / f"whisper-{encoder.identity[:16]}{tags}.npz"


def _save(path: Path, embeddings: Embeddings) -> None:
    np.savez(
        path,
        pooled=embeddings.pooled,
        frames=np.concatenate(embeddings.frames),
        lengths=np.array([len(f) for f in embeddings.frames]),
        seconds=json.dumps(embeddings.seconds),
        load_average=json.dumps(embeddings.load_average),
    )


def _load(path: Path) -> Embeddings:
    with np.load(path) as data:  # each data[key] reads the array again: once each here
        stacked, lengths = data["frames"], data["lengths"]
        frames = np.split(stacked, np.cumsum(lengths)[:-1])
        load = json.loads(str(data["load_average"])) if "load_average" in data else None
        return Embeddings(data["pooled"], frames, json.loads(str(data["seconds"])), load)


def embed(
    corpus: Corpus, compute_types: list[str], *, padded: bool = False, whole: bool = False
) -> dict[str, Embeddings]:
    """Embeddings of every R+T recording per compute type, from the reference run's audio
    chain (or the whole clip at 16 kHz). The compute types run side by side on each clip, their
    order alternating from clip to clip, so that a change in the machine's load falls on all of
    them alike."""
    models = {ct: encoders.WhisperEncoder(compute_type=ct, progress=False) for ct in compute_types}
    result = {
        ct: _load(_cache_file(corpus, m, padded, whole))
        for ct, m in models.items()
        if _cache_file(corpus, m, padded, whole).is_file()
    }
    todo = [ct for ct in compute_types if ct not in result]
    if not todo:
        return result
    from tqdm.auto import tqdm

    loader = functools.partial(
        audio.load_and_preprocess, config=WHOLE_CLIP if whole else corpus.audio
    )
    seconds = {ct: {"read": 0.0, "front_end": 0.0, "encoder": 0.0, "pooling": 0.0} for ct in todo}
    pooled, frames = {ct: [] for ct in todo}, {ct: [] for ct in todo}
    paths = corpus.recordings["path"].tolist()
    label = f"{corpus.name}: whisper {'+'.join(todo)}{' padded' if padded else ''}"
    label += " whole clips" if whole else ""
    load_before = os.getloadavg()[0]
    for i, path in enumerate(tqdm(paths, desc=label, unit="file")):
        start = time.perf_counter()
        samples, sr = loader(path)
        read = time.perf_counter() - start
        for ct in todo if i % 2 == 0 else todo[::-1]:
            seconds[ct]["read"] += read
            sequence = encoders.whisper_frames(
                samples, sr, encoder=models[ct], pad_to_window=padded, timings=seconds[ct]
            )
            start = time.perf_counter()
            pooled[ct].append(encoders.pool_frames(sequence))
            seconds[ct]["pooling"] += time.perf_counter() - start
            frames[ct].append(sequence.astype(np.float16))
    for ct in todo:
        load = [load_before, os.getloadavg()[0]]
        result[ct] = Embeddings(np.stack(pooled[ct]), frames[ct], seconds[ct], load)
        _save(_cache_file(corpus, models[ct], padded, whole), result[ct])
    return result


def embedding_shift(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """How far embeddings ``b`` are from ``a``, row by row: relative L2 distance and cosine
    similarity (median and worst), and the distance relative to the spread between rows."""
    distance = np.linalg.norm(a - b, axis=1)
    relative = distance / np.linalg.norm(a, axis=1)
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    spread = np.linalg.norm(a - a.mean(0), axis=1)
    return {
        "relative_l2_median": float(np.median(relative)),
        "relative_l2_max": float(relative.max()),
        "cosine_median": float(np.median(cosine)),
        "cosine_min": float(cosine.min()),
        "distance_over_spread_median": float(np.median(distance / spread)),
    }


# ---------------------------------------------------------------------------- the models
def _pipeline(model: str):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    estimator = (
        LogisticRegression(C=1.0, max_iter=5000)
        if model == "logreg"
        else SVC(kernel="rbf", C=10, gamma="scale", random_state=0)
    )
    return Pipeline([("scaler", StandardScaler()), ("model", estimator)])


def sklearn_scores(features: np.ndarray, rows: pd.DataFrame, model: str, grid: bool) -> dict:
    """UA and WA per fold of ``model`` (``logreg`` or ``rbf_svm``, scaled) on the rows'
    features; with ``grid``, C and class weights chosen by UA in leave-one-session-out
    within the training part."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut

    X, y, folds = features[rows["position"]], rows["label"].to_numpy(), rows["fold"].to_numpy()
    ua, wa = [], []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        estimator = _pipeline(model)
        if grid:
            estimator = GridSearchCV(
                estimator,
                LOGISTIC_GRID if model == "logreg" else SOUND_GRIDS["rbf_svm"],
                cv=LeaveOneGroupOut(),
                scoring="balanced_accuracy",
            )
            estimator.fit(X[train], y[train], groups=folds[train])
        else:
            estimator.fit(X[train], y[train])
        predicted = estimator.predict(X[test])
        ua.append(balanced_accuracy_score(y[test], predicted))
        wa.append(accuracy_score(y[test], predicted))
    return {"ua": ua, "wa": wa}


def speaker_normalised_frames(frames: list[np.ndarray], speakers: pd.Series) -> list[np.ndarray]:
    """Every frame z-normalised with its speaker's mean and sd over all the speaker's frames."""
    out = [None] * len(frames)
    for speaker in speakers.unique():
        members = np.flatnonzero(speakers.to_numpy() == speaker)
        stacked = np.concatenate([frames[i].astype(np.float32) for i in members])
        mean, spread = stacked.mean(0), stacked.std(0) + 1e-6
        for i in members:
            out[i] = ((frames[i].astype(np.float32) - mean) / spread).astype(np.float32)
    return out


def head_scores(
    frames: list[np.ndarray],
    rows: pd.DataFrame,
    pooling: str,
    *,
    standardise: bool,
    epochs: int,
    units: int,
    dropout: float,
    seed: int = 0,
) -> dict:
    """UA and WA per fold of a Keras head over the frame sequences of the rows: statistics
    pooling (attention-weighted, or plain mean and sd) over the frames, dropout, one dense layer
    (ReLU), softmax. Adam (1e-3), batches of 32, class weights, a fixed number of epochs; the
    frames standardised with the training part's statistics when ``standardise``."""
    import logging

    logging.getLogger("tensorflow").setLevel(
        logging.ERROR
    )  # one model per fold: retracing is expected
    import keras
    from keras import layers, ops
    from sklearn.metrics import accuracy_score, balanced_accuracy_score
    from sklearn.utils.class_weight import compute_class_weight

    class StatisticsPooling(layers.Layer):
        def __init__(self, attentive: bool, **kwargs):
            super().__init__(**kwargs)
            self.attentive = attentive
            if attentive:
                self.hidden, self.score = layers.Dense(units, activation="tanh"), layers.Dense(1)

        def call(self, inputs):
            x, mask = inputs
            if self.attentive:
                logits = ops.squeeze(self.score(self.hidden(x)), -1) + (mask - 1.0) * 1e9
                weights = ops.softmax(logits, axis=1)
            else:
                weights = mask / ops.sum(mask, axis=1, keepdims=True)
            weights = ops.expand_dims(weights, -1)
            mean = ops.sum(weights * x, axis=1)
            variance = ops.sum(weights * ops.square(x), axis=1) - ops.square(mean)
            return ops.concatenate([mean, ops.sqrt(ops.maximum(variance, 1e-6))], axis=-1)

    selected = [frames[i] for i in rows["position"]]
    length, dim = max(len(f) for f in selected), selected[0].shape[1]
    X = np.zeros((len(selected), length, dim), np.float32)
    mask = np.zeros((len(selected), length), np.float32)
    for i, sequence in enumerate(selected):
        X[i, : len(sequence)], mask[i, : len(sequence)] = sequence, 1.0
    labels = sorted(rows["label"].unique())
    y = rows["label"].map({label: i for i, label in enumerate(labels)}).to_numpy()
    folds = rows["fold"].to_numpy()
    ua, wa = [], []
    for fold in np.unique(folds):
        train, test = folds != fold, folds == fold
        inputs = X
        if standardise:
            valid = np.concatenate([selected[i] for i in np.flatnonzero(train)]).astype(np.float32)
            inputs = (X - valid.mean(0)) / (valid.std(0) + 1e-6) * mask[..., None]
        keras.utils.set_random_seed(seed + int(fold))
        sequence_in, mask_in = keras.Input((length, dim)), keras.Input((length,))
        pooled = StatisticsPooling(pooling == "attentive")([sequence_in, mask_in])
        hidden = layers.Dense(units, activation="relu")(layers.Dropout(dropout)(pooled))
        output = layers.Dense(len(labels), activation="softmax")(layers.Dropout(dropout)(hidden))
        model = keras.Model([sequence_in, mask_in], output)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        weights = compute_class_weight("balanced", classes=np.arange(len(labels)), y=y[train])
        model.fit(
            [inputs[train], mask[train]],
            y[train],
            epochs=epochs,
            batch_size=32,
            verbose=0,
            class_weight=dict(enumerate(weights)),
        )
        predicted = model.predict([inputs[test], mask[test]], verbose=0).argmax(1)
        ua.append(balanced_accuracy_score(y[test], predicted))
        wa.append(accuracy_score(y[test], predicted))
        keras.backend.clear_session()
    return {"ua": ua, "wa": wa}


# ----------------------------------------------------------------------------- the report
def summary(scores: dict) -> dict:
    return {
        "ua": float(np.mean(scores["ua"])),
        "ua_sd": float(np.std(scores["ua"])),
        "wa": float(np.mean(scores["wa"])),
        "wa_sd": float(np.std(scores["wa"])),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def evaluate_corpus(corpus: Corpus, args: argparse.Namespace) -> dict:
    from threadpoolctl import threadpool_limits

    # one BLAS thread: on a loaded machine two threads spinning on tiny products are 10x slower
    with threadpool_limits(limits=1):
        return _evaluate_corpus(corpus, args)


def _evaluate_corpus(corpus: Corpus, args: argparse.Namespace) -> dict:
    results: list[dict] = []

    def add(method: str, scores: dict, **extra):
        row = {"corpus": corpus.name, "method": method, **summary(scores), **extra}
        row["folds_ua"] = [round(float(u), 4) for u in scores["ua"]]
        results.append(row)
        print(
            f"  {method:<72} UA {row['ua']:.3f} ± {row['ua_sd']:.3f}  WA {row['wa']:.3f}",
            flush=True,
        )

    for label, scores in corpus.baselines.items():
        add(label, scores, seconds=round(scores["seconds"], 1))
    embedded = embed(corpus, args.compute_types)
    speakers = corpus.recordings["speaker"]
    timing = {
        ct: {k: v / len(corpus.recordings) for k, v in e.seconds.items()}
        for ct, e in embedded.items()
    }
    variants = {f"whisper {ct}": e for ct, e in embedded.items()}
    if args.padded:
        padded = embed(corpus, args.compute_types[:1], padded=True)[args.compute_types[0]]
        variants[f"whisper {args.compute_types[0]}, 30-s windows padded with silence"] = padded
        timing["padded"] = {k: v / len(corpus.recordings) for k, v in padded.seconds.items()}
    if args.whole:
        whole = embed(corpus, args.compute_types[:1], whole=True)[args.compute_types[0]]
        variants[f"whisper {args.compute_types[0]}, whole clips (not trimmed or cropped)"] = whole
        timing["whole"] = {k: v / len(corpus.recordings) for k, v in whole.seconds.items()}
    shifts = {}
    first = args.compute_types[0]
    for ct in args.compute_types[1:]:
        shifts[ct] = embedding_shift(embedded[first].pooled, embedded[ct].pooled)
    for name, embeddings in variants.items() if not args.heads_only else ():
        for normalised in (False, True):
            features = (
                normalise_features(embeddings.pooled, speakers) if normalised else embeddings.pooled
            )
            for model in ("logreg", "rbf_svm"):
                for grid in (False, True):
                    if grid and name != f"whisper {first}":
                        continue  # the grid only on the main features: it costs 5x
                    method = (
                        f"{name}: {'logistic regression' if model == 'logreg' else 'RBF SVM'}"
                        f"{', grouped grid' if grid else ''}{', speaker-norm' if normalised else ''}"
                    )
                    add(method, sklearn_scores(features, corpus.rows, model, grid))
    if args.heads or args.heads_only:
        frames = embedded[first].frames
        normalised_frames = speaker_normalised_frames(frames, speakers)
        for name, pooling in HEADS.items():
            for normalised in (False, True):
                start = time.perf_counter()
                scores = head_scores(
                    normalised_frames if normalised else frames,
                    corpus.rows,
                    pooling,
                    standardise=not normalised,
                    epochs=args.epochs,
                    units=args.units,
                    dropout=args.dropout,
                )
                add(
                    f"whisper {first} frames: {name}{', speaker-norm' if normalised else ''}"
                    f" ({args.epochs} epochs)",
                    scores,
                    seconds=round(time.perf_counter() - start, 1),
                )
    return {
        "rows": results,
        "seconds_per_clip": timing,
        "compute_type_shift": shifts,
        "load_average_while_embedding": {
            kind: e.load_average for kind, e in {**embedded, **variants}.items()
        },
        "n_recordings": len(corpus.recordings),
        "n_rows": len(corpus.rows),
    }


def identity_cost() -> dict:
    """Seconds of :func:`encoder_identity` of the bundled model, cold (hash) and warm (memo)."""
    path = encoders.resolve_encoder()
    encoders._content_digest.cache_clear()
    start = time.perf_counter()
    encoders.encoder_identity(path, "float32")
    cold = time.perf_counter() - start
    start = time.perf_counter()
    encoders.encoder_identity(path, "int8")
    warm = time.perf_counter() - start
    megabytes = sum((path / name).stat().st_size for name in ("model.bin", "config.json")) / 1e6
    return {"cold_seconds": cold, "warm_seconds": warm, "megabytes": megabytes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roots", nargs="+", type=Path, help="MSP-IMPROV-layout corpus folders")
    parser.add_argument("--names", nargs="+", help="a short name per corpus (default: the path)")
    parser.add_argument("--compute-types", nargs="+", default=["float32"])
    parser.add_argument("--padded", action="store_true", help="also 30-s windows padded")
    parser.add_argument("--heads", action="store_true", help="also Keras heads on the frames")
    parser.add_argument(
        "--whole", action="store_true", help="also the whole clips (16 kHz, not trimmed or cropped)"
    )
    parser.add_argument(
        "--heads-only", action="store_true", help="only the Keras heads (after an earlier run)"
    )
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--work", type=Path, help="folder kept between runs (default: temporary)")
    parser.add_argument("--out", type=Path, help="JSON file of every row")
    args = parser.parse_args(argv)
    names = args.names or [str(root) for root in args.roots]
    if len(names) != len(args.roots):
        parser.error("give one name per corpus")
    work = args.work or Path(tempfile.mkdtemp(prefix="encoders-"))
    print(
        f"{cpu_name()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} "
        f"(a shared machine: timings move with the load); work folder {work}"
    )
    report = {"cpu": cpu_name(), "identity": identity_cost(), "corpora": {}}
    print(
        "encoder identity of the bundled model: {cold_seconds:.3f} s cold for "
        "{megabytes:.0f} MB, {warm_seconds:.6f} s once known".format(**report["identity"])
    )
    for root, name in zip(args.roots, names):
        print(f"\n== {name} ({root})", flush=True)
        corpus = load_corpus(root, work / name.replace(" ", "_"), name)
        print(f"  {len(corpus.rows)} rows, {len(corpus.recordings)} R+T recordings", flush=True)
        result = evaluate_corpus(corpus, args)
        report["corpora"][name] = result
        for kind, stages in result["seconds_per_clip"].items():
            print(
                f"  seconds per clip, {kind}: "
                + ", ".join(f"{stage} {value:.4f}" for stage, value in stages.items())
            )
        for ct, shift in result["compute_type_shift"].items():
            print(
                f"  {ct} against {args.compute_types[0]}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in shift.items())
            )
        print(
            f"  load average (1 min) before/after the embeddings: {result['load_average_while_embedding']}"
        )
        if args.out:
            args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
