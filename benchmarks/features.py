"""The original frame features: the original's per-file librosa loop against ``ser_utils.features``.

On the synthetic ``full``-size MSP-IMPROV corpus (made on first use), the R + T recordings
are preprocessed once with the original recipe (trim, pad to 338 368 samples, denoise) into a
memory-mapped array; both sides read the same padded clips from it, so preprocessing is
not what is timed. Then, each in its own subprocess (same machine, same run):

(a) ``original``  a sequential Python loop with the original's four plain librosa calls per
                  clip (``mfcc``, ``chroma_stft``, ``rms``, ``zero_crossing_rate``, hop 544);
(b) ``cold``      ``features.extract_features(..., "frames")`` on an empty cache, ``--n-jobs``
                  workers (default 2);
(c) ``warm``      the same call again: every file a cache hit.

    python benchmarks/features.py --limit 200      # quick run on the first 200 files
    python benchmarks/features.py                  # all 1272 R + T files

prints wall time, peak resident memory (VmHWM of the main process, and of the largest worker
process), the speed-ups (a)/(b) and (a)/(c), and the largest absolute difference between the
features of (a) and (b); writes the same as JSON under ``--work``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ser_utils import config, paths
from ser_utils.storage import write_json

VARIANTS = ("original", "cold", "warm")


def default_work_dir() -> Path:
    return paths.output_dir() / "benchmarks" / "features"


def _peak_rss_mib(pid: int | str = "self") -> float | None:
    """Peak resident memory (VmHWM) of a process, MiB. Not ``ru_maxrss``: on Linux that keeps the
    peak of the process that forked it across ``exec``."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else None


def _children() -> list[int]:
    """Process ids whose parent is this process (the joblib workers), from /proc."""
    children = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parent = int(entry.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid():
            children.append(int(entry.name))
    return children


# ------------------------------------------------------------------- preparation
def prepare(data: Path, work: Path, *, limit: int | None, n_jobs: int) -> dict:
    """Make the synthetic corpus if needed and write the preprocessed R + T clips to
    ``work/audio.npy`` (reused while the file list and recipe are unchanged)."""
    import joblib
    from tqdm.auto import tqdm

    from ser_utils import audio, evaluation, synthetic
    from ser_utils.corpora import load_msp_improv

    root = paths.corpus_root("msp-improv", data)
    synthetic.make_msp_improv(root, size="full")
    manifest = evaluation.select_files(load_msp_improv(root))
    if limit:
        manifest = manifest.iloc[:limit].reset_index(drop=True)
    recipe = config.original_recipe("msp-improv", "full")
    index = {
        "paths": list(map(str, manifest["path"])),
        "recipe": recipe.to_dict(),
        "identity": [[os.stat(p).st_size, os.stat(p).st_mtime_ns] for p in manifest["path"]],
    }
    work.mkdir(parents=True, exist_ok=True)
    index_path, audio_path = work / "audio.json", work / "audio.npy"
    if (
        index_path.exists()
        and audio_path.exists()
        and json.loads(index_path.read_text())["index"] == index
    ):
        print(f"preprocessed clips: {audio_path} (reused)", flush=True)
        return json.loads(index_path.read_text())
    index_path.unlink(missing_ok=True)
    clips = np.lib.format.open_memmap(
        audio_path, mode="w+", dtype=np.float32, shape=(len(manifest), recipe.audio.target_length)
    )
    rates = []
    jobs = (joblib.delayed(audio.load_and_preprocess)(p, recipe.audio) for p in manifest["path"])
    results = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    for i, (samples, sr) in enumerate(
        tqdm(results, total=len(manifest), desc="preprocess (original recipe)")
    ):
        clips[i] = samples
        rates.append(sr)
    clips.flush()
    del clips
    if len(set(rates)) != 1:
        raise SystemExit(f"the clips have several sample rates {sorted(set(rates))}; expected one")
    description = {"index": index, "sr": rates[0], "n": len(manifest)}
    write_json(description, index_path)
    return description


# ----------------------------------------------------------------------- variants
def run_variant(variant: str, work: Path, *, n_jobs: int) -> dict:
    """Time one variant in this process; save its features to ``work/<variant>.npy``."""
    import librosa  # noqa: F401 -- imported before the clock starts, as in the original's notebooks

    from ser_utils import features

    description = json.loads((work / "audio.json").read_text())
    paths, sr = description["index"]["paths"], description["sr"]
    clips = np.load(work / "audio.npy", mmap_mode="r")
    recipe = config.original_recipe("msp-improv", "full")
    hop = recipe.features.hop_length
    cache_dir = work / "cache"
    info = None
    start = time.perf_counter()
    if variant == "original":
        out = None
        for i in range(len(paths)):
            vector = original_features(
                np.asarray(clips[i]), sr, hop
            )  # as features.flatten_frames orders it
            if out is None:
                out = np.empty((len(paths), vector.size), dtype=np.float32)
            out[i] = vector
    else:
        loader = features.PreloadedAudio(clips, sr, paths)
        out, info = features.extract_features(
            paths,
            "frames",
            recipe=recipe,
            n_jobs=n_jobs,
            cache_dir=cache_dir,
            progress=False,
            audio_loader=loader,
            return_info=True,
        )
    seconds = time.perf_counter() - start
    workers = (
        [peak for peak in map(_peak_rss_mib, _children()) if peak] if variant == "cold" else []
    )
    np.save(work / f"{variant}.npy", out)
    return {
        "variant": variant,
        "seconds": seconds,
        "files": len(paths),
        "shape": list(out.shape),
        "peak_rss_mib": _peak_rss_mib(),
        "worker_peak_rss_mib": max(workers, default=None),
        "hits": info.hits if info else None,
        "misses": info.misses if info else None,
    }


def original_features(y: np.ndarray, sr: int, hop: int) -> np.ndarray:
    """The original's four plain librosa calls, (34, frames) flattened."""
    import librosa

    return np.vstack(
        [
            librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, hop_length=hop),
            librosa.feature.chroma_stft(y=y, sr=sr, hop_length=hop),
            librosa.feature.rms(y=y, hop_length=hop),
            librosa.feature.zero_crossing_rate(y, hop_length=hop),
        ]
    ).reshape(-1)


def reference_noise(work: Path, description: dict, row: int, cold: np.ndarray) -> dict:
    """How much the original's own float32 numbers move with the BLAS thread count, on clip ``row``:
    (a) ran with the default threads, (b) runs one thread per worker."""
    from threadpoolctl import threadpool_info, threadpool_limits

    y = np.asarray(np.load(work / "audio.npy", mmap_mode="r")[row])
    hop = config.MSP_IMPROV_ORIGINAL_HOP
    default = original_features(y, description["sr"], hop)
    with threadpool_limits(limits=1):
        single = original_features(y, description["sr"], hop)
    threads = max((pool["num_threads"] for pool in threadpool_info()), default=1)
    return {
        "row": row,
        "threads": threads,
        "original_vs_itself": float(np.max(np.abs(default - single))),
        "single_thread_vs_cold": float(np.max(np.abs(single - cold[row]))),
    }


def run_in_subprocess(variant: str, work: Path, *, n_jobs: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--variant",
        variant,
        "--work",
        str(work),
        "--n-jobs",
        str(n_jobs),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"variant {variant} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder for the synthetic full-size corpora (default <work>/data)",
    )
    parser.add_argument(
        "--work", type=Path, default=None, help=f"working folder (default {default_work_dir()})"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="use the first N R + T files (quick run)"
    )
    parser.add_argument(
        "--n-jobs", type=int, default=2, help="workers of ser_utils (and of the preprocessing)"
    )
    parser.add_argument("--variant", choices=VARIANTS, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work = (args.work or default_work_dir()).resolve()
    if args.variant:  # child process: one timed variant, one JSON line
        print(json.dumps(run_variant(args.variant, work, n_jobs=args.n_jobs)))
        return 0

    description = prepare(
        (args.data or work / "data").resolve(), work, limit=args.limit, n_jobs=args.n_jobs
    )
    shutil.rmtree(work / "cache", ignore_errors=True)  # (b) starts from an empty cache
    rows = {}
    for variant in VARIANTS:
        print(f"running {variant} …", flush=True)
        rows[variant] = run_in_subprocess(variant, work, n_jobs=args.n_jobs)
    original, cold, warm = (np.load(work / f"{v}.npy", mmap_mode="r") for v in VARIANTS)
    difference = float(np.max(np.abs(original - cold)))
    noise = reference_noise(
        work, description, int(np.argmax(np.max(np.abs(original - cold), axis=1))), cold
    )
    if not np.array_equal(cold, warm):
        raise SystemExit("the warm run returned other features than the cold run")
    ratios = {
        "cold": rows["original"]["seconds"] / rows["cold"]["seconds"],
        "warm": rows["original"]["seconds"] / rows["warm"]["seconds"],
    }
    print(
        f"\n{description['n']} R + T clips of {config.MSP_IMPROV_ORIGINAL_LENGTH} samples at {description['sr']} Hz, "
        f"hop {config.MSP_IMPROV_ORIGINAL_HOP} -> {rows['original']['shape'][1]} values each; "
        f"{os.cpu_count()} CPUs, ser_utils n_jobs={args.n_jobs}"
    )
    print(
        f"{'variant':<34}{'wall s':>9}{'files/s':>9}{'peak RSS MiB':>14}{'worker MiB':>12}{'speed-up':>10}"
    )
    labels = {
        "original": "(a) original loop, 4 librosa calls",
        "cold": "(b) ser_utils, cold cache",
        "warm": "(c) ser_utils, warm cache",
    }
    for variant in VARIANTS:
        row = rows[variant]
        worker = f"{row['worker_peak_rss_mib']:.0f}" if row["worker_peak_rss_mib"] else "–"
        ratio = f"{ratios[variant]:.1f}×" if variant in ratios else "1.0×"
        print(
            f"{labels[variant]:<34}{row['seconds']:>9.2f}{row['files'] / row['seconds']:>9.1f}"
            f"{row['peak_rss_mib']:>14.0f}{worker:>12}{ratio:>10}"
        )
    print(
        f"max |(a) − (b)| = {difference:.2e} (target ≤ 1e-4); cache: cold {rows['cold']['misses']} computed, "
        f"warm {rows['warm']['hits']} hits"
    )
    print(
        f"float32 noise floor, on the clip that differs most: the original calls with 1 BLAS thread instead of "
        f"{noise['threads']} differ from (a) by {noise['original_vs_itself']:.2e}, from (b) by "
        f"{noise['single_thread_vs_cold']:.2e}"
    )
    write_json(
        {
            "rows": rows,
            "ratios": ratios,
            "max_abs_difference": difference,
            "noise_floor": noise,
            "n_jobs": args.n_jobs,
            "cpus": os.cpu_count(),
            "files": description["n"],
        },
        work / "results.json",
    )
    shutil.rmtree(work / "cache", ignore_errors=True)
    for variant in VARIANTS:
        (work / f"{variant}.npy").unlink(missing_ok=True)
    print(f"results: {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
