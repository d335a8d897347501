"""Prediction latency of `ser predict` for a 5 s clip: warm (model loaded, median of
repeated calls) and cold (a fresh `ser predict` process), for the original and improved
recipes at full size, measured side by side in one run. Target: warm <= 100 ms.

    python benchmarks/predict.py [--repeats 20] [--profile full|smoke]

The models are untrained (latency does not depend on the weights); the clip is synthetic
speech from ser_utils.synthetic.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import soundfile as sf

from ser_utils import config
from ser_utils.audio.spectrograms import spectrogram_shape


def make_bundle(recipe_name: str, profile: str, folder: Path) -> Path:
    from ser_utils.deep.bundles import save_bundle
    from ser_utils.deep.models import build_model
    from ser_utils.deep.training import set_global_seed

    recipe = config.get_recipe(recipe_name, "msp-improv", profile)
    rate = recipe.audio.target_sr or config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE
    set_global_seed(0)
    shape = spectrogram_shape(recipe.audio.target_length, rate, recipe.spectrogram)
    model = build_model(recipe.model, (*shape, 1), len(config.FOUR_CLASSES))
    return save_bundle(
        folder / f"{recipe_name}-{profile}",
        model,
        labels=config.FOUR_CLASSES,
        recipe=recipe,
        extra={"sample_rate": rate},
    )


def make_clip(folder: Path, seconds: float = 5.0) -> Path:
    """A 5 s clip of synthetic speech: mini MSP-IMPROV files joined until 5 s."""
    from ser_utils import synthetic
    from ser_utils.audio import read_audio

    root = synthetic.make_msp_improv(folder / "MSP-IMPROV", size="mini", seed=0)
    pieces, total, sr = [], 0, 44_100
    for path in sorted(root.rglob("*-R-*.wav")):
        samples, sr = read_audio(path)
        pieces.append(samples)
        total += len(samples)
        if total >= seconds * sr:
            break
    clip = np.concatenate(pieces)[: int(seconds * sr)]
    sf.write(str(folder / "clip5s.wav"), clip, sr, subtype="PCM_16")
    return folder / "clip5s.wav"


def warm_latency(bundle_dir: Path, clip: Path, repeats: int) -> tuple[float, float]:
    from ser_utils.deep.bundles import load_bundle
    from ser_utils.deep.prediction import predict_files

    bundle = load_bundle(bundle_dir)
    predict_files(bundle, [clip])  # first call builds the graph
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict_files(bundle, [clip])
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def cold_latency(bundle_dir: Path, clip: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ser_utils.app.cli", "predict", str(bundle_dir), str(clip)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--profile", choices=config.PROFILES, default="full")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = make_clip(folder)
        print(
            f"clip: {sf.info(str(clip)).duration:.2f} s at {sf.info(str(clip)).samplerate} Hz; "
            f"profile {args.profile}; {os.cpu_count()} CPU cores"
        )
        print(
            f"{'recipe':<10}{'parameters':>12}{'warm median ms':>16}{'warm min ms':>13}{'cold s':>9}  target warm <= 100 ms"
        )
        for name in config.RECIPES:
            bundle_dir = make_bundle(name, args.profile, folder)
            from ser_utils.deep.bundles import load_bundle

            parameters = load_bundle(bundle_dir).model.count_params()
            median, best = warm_latency(bundle_dir, clip, args.repeats)
            cold = cold_latency(bundle_dir, clip)
            verdict = "met" if median <= 0.1 else "missed"
            print(
                f"{name:<10}{parameters:>12,}{median * 1000:>16.1f}{best * 1000:>13.1f}{cold:>9.2f}  {verdict}"
            )


if __name__ == "__main__":
    main()
