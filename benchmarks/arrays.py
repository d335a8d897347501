"""Array generation: the original study's way against ``ser arrays``.

Both run in their own subprocess on the synthetic ``full``-size MSP-IMPROV (1272 R+T files,
made with :func:`ser_utils.synthetic.make_msp_improv` when ``--data`` holds none), at the
full profile's sizes, for two numbers of files N (``--limit`` and half of it):

(a) **original style**: sequential; every file loaded twice with ``librosa.load`` (a first
    pass to find the longest trimmed clip, a second to process it); resampling, where the
    recipe resamples, with ``kaiser_best`` (needs resampy; ``soxr_vhq`` when it is missing);
    noise reduction on the padded clip; the spectrogram frame by frame; everything kept in
    Python lists and turned into arrays at the end, then saved;
(b) **ours**: :func:`ser_utils.deep.arrays.generate_arrays` with ``n_jobs`` workers, streamed
    to memory-mapped ``.npy`` files.

Reported: wall time of each subprocess and their ratio; peak memory, sampled from /proc
every 50 ms: the resident set of the largest process (the original's one process; ours:
the parent or one worker — what ``ru_maxrss`` of ``RUSAGE_CHILDREN`` would show) and, for
ours, the sum over the parent and its workers. Targets: >= 1.8x for the original recipe on 2
cores, >= 10x for the improved recipe, ours <= 600 MB per process whatever N while the
original's grows with N. An original-recipe run also checks that both ways give the same spectrograms.

    python benchmarks/arrays.py                       # every R+T file (N = 636 and 1272)
    python benchmarks/arrays.py --limit 40 --recipe original
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

PAGE = os.sysconf("SC_PAGE_SIZE")


# ----------------------------------------------------------------------- measuring
def _tree_rss(root: int) -> dict[int, int]:
    """Resident bytes of ``root`` and each of its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    sizes = {}
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                sizes[pid] = int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return sizes


def run_measured(command: list[str]) -> dict:
    """Run ``command``: wall time, peak RSS of its largest process and of its whole process tree
    (sampled every 50 ms), and its JSON report (last line of stdout)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = {"process": 0, "tree": 0, "processes": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            sizes = _tree_rss(process.pid)
            if sizes:
                peak["process"] = max(peak["process"], max(sizes.values()))
                peak["tree"] = max(peak["tree"], sum(sizes.values()))
                peak["processes"] = max(peak["processes"], len(sizes))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"benchmark worker failed ({' '.join(command[-6:])}):\n{stderr[-3000:]}")
    report = json.loads(stdout.strip().splitlines()[-1])
    return {
        "seconds": seconds,
        "peak_process_mb": peak["process"] / 2**20,
        "peak_tree_mb": peak["tree"] / 2**20,
        "processes": peak["processes"],
        **report,
    }


# ------------------------------------------------------------------ original style
def _plain_log_mel(samples: np.ndarray, sr: int, spectrogram_config) -> np.ndarray:
    """Log-mel frame by frame: centred frames, |rfft|² per frame, mel matrix, dB — a plain loop."""
    import librosa

    n_fft, hop = spectrogram_config.n_fft, spectrogram_config.mel_hop_length
    padded = np.pad(samples, n_fft // 2)
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann, as librosa
    mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=spectrogram_config.n_mels)
    columns = []
    for start in range(0, len(padded) - n_fft + 1, hop):
        power = np.abs(np.fft.rfft(padded[start : start + n_fft] * window)) ** 2
        columns.append(mel @ power)
    return librosa.power_to_db(np.array(columns).T, ref=1.0, amin=1e-10, top_db=80.0)


def original_style(manifest_csv: str, recipe_name: str, out_dir: str) -> dict:
    """The original's array generation for ``recipe_name``, as it was written: lists, two loads."""
    import resource

    import librosa
    import noisereduce

    from ser_utils import config
    from ser_utils.audio.spectrograms import original_spectrogram_reference

    recipe = config.get_recipe(recipe_name, "msp-improv", "full")
    audio = recipe.audio
    paths = pd.read_csv(manifest_csv)["path"].tolist()
    res_type, note = "kaiser_best", ""
    if audio.target_sr:
        try:
            import resampy  # noqa: F401
        except ImportError:
            res_type, note = (
                "soxr_vhq",
                "resampy is not installed: kaiser_best replaced by soxr_vhq",
            )

    def load(path):
        if audio.target_sr:
            return librosa.load(path, sr=audio.target_sr, res_type=res_type)
        return librosa.load(path, sr=None)

    def scale(y):
        return (
            y * config.ORIGINAL_SCALE_GAIN if audio.scaling == "original" else y / np.max(np.abs(y))
        )

    def trim(y):
        return librosa.effects.trim(
            y,
            top_db=audio.trim_top_db,
            frame_length=audio.trim_frame_length,
            hop_length=audio.trim_hop_length,
        )[0]

    longest = 0
    for path in paths:  # first pass: the longest trimmed clip (the original padded to it)
        y, sr = load(path)
        longest = max(longest, len(trim(scale(y))))
    length = audio.target_length  # the recipe's length: the same arrays as ours
    audios, spectrograms, labels = [], [], []
    for path in paths:  # second pass: load again and process
        y, sr = load(path)
        y = trim(scale(y))
        y = np.pad(y, (0, max(0, length - len(y))))[:length]
        y = noisereduce.reduce_noise(y=y, sr=sr)
        audios.append(y)
        if recipe.spectrogram.kind == "original":
            # float64, as the original's np.log of a float64 power array
            spectrograms.append(
                original_spectrogram_reference(y, sr, config=recipe.spectrogram).astype(np.float64)
            )
        else:
            spectrograms.append(_plain_log_mel(y, sr, recipe.spectrogram))
        labels.append(Path(path).stem)
    audios, spectrograms, labels = np.array(audios), np.array(spectrograms), np.array(labels)
    np.save(Path(out_dir) / "audios.npy", audios)
    np.save(Path(out_dir) / "spectrograms.npy", spectrograms)
    np.save(Path(out_dir) / "labels.npy", labels)
    return {
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "note": note,
        "spectrogram_shape": list(spectrograms.shape),
        "longest_trimmed": longest,
    }


def ours(manifest_csv: str, recipe_name: str, out_dir: str, n_jobs: int) -> dict:
    import resource

    from ser_utils import config
    from ser_utils.deep import arrays

    recipe = config.get_recipe(recipe_name, "msp-improv", "full")
    paths = arrays.generate_arrays(
        pd.read_csv(manifest_csv), recipe, out_dir, n_jobs=n_jobs, progress=False
    )
    shape = np.load(paths.spectrograms, mmap_mode="r").shape
    return {
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "spectrogram_shape": list(shape),
        "note": "",
    }


# ---------------------------------------------------------------------------- driver
def _max_difference(original_dir: Path, ours_dir: Path) -> float:
    a = np.load(original_dir / "spectrograms.npy", mmap_mode="r")
    b = np.load(ours_dir / "spectrograms.npy", mmap_mode="r")
    return float(max(np.max(np.abs(a[i] - b[i])) for i in range(len(a))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder holding MSP-IMPROV/ (default outputs/benchmarks/synthetic-full; made if absent)",
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="largest N (default: every R+T file)"
    )
    parser.add_argument("--recipe", choices=("original", "improved", "both"), default="both")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--worker", choices=("original", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # inside a measured subprocess
        recipe = args.recipe
        report = (
            original_style(args.manifest, recipe, args.out)
            if args.worker == "original"
            else ours(args.manifest, recipe, args.out, args.n_jobs)
        )
        print(json.dumps(report))
        return 0

    from ser_utils import config, paths, synthetic
    from ser_utils.corpora import load_msp_improv
    from ser_utils.evaluation import select_files

    data = args.data or paths.output_dir() / "benchmarks" / "synthetic-full"
    root = data / "MSP-IMPROV"
    if not (root / config.SYNTHETIC_MARKER).exists() and not any(root.rglob("*.wav")):
        print(f"making the synthetic full-size MSP-IMPROV in {root} …", flush=True)
        synthetic.make_msp_improv(root, size="full", seed=0)
    rows = select_files(load_msp_improv(root), "rt")
    largest = min(args.limit or len(rows), len(rows))
    sizes = sorted({max(1, largest // 2), largest})
    recipes = ("original", "improved") if args.recipe == "both" else (args.recipe,)
    print(
        f"{len(rows)} R+T files in {root}; N = {', '.join(map(str, sizes))}; full-profile sizes; "
        f"ours with n_jobs={args.n_jobs}; {os.cpu_count()} CPUs",
        flush=True,
    )

    results = []
    for recipe in recipes:
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix="ser-bench-") as tmp:
                tmp = Path(tmp)
                manifest = tmp / "manifest.csv"
                rows.head(n).to_csv(manifest, index=False)
                measured = {}
                for worker in ("original", "ours"):
                    out = tmp / worker
                    out.mkdir()
                    command = [
                        sys.executable,
                        __file__,
                        "--worker",
                        worker,
                        "--recipe",
                        recipe,
                        "--manifest",
                        str(manifest),
                        "--out",
                        str(out),
                        "--n-jobs",
                        str(args.n_jobs),
                    ]
                    measured[worker] = run_measured(command)
                difference = (
                    _max_difference(tmp / "original", tmp / "ours")
                    if recipe == "original"
                    else None
                )
            row = {
                "recipe": recipe,
                "N": n,
                "original s": measured["original"]["seconds"],
                "ours s": measured["ours"]["seconds"],
                "speed-up": measured["original"]["seconds"] / measured["ours"]["seconds"],
                "original peak MB": measured["original"]["peak_process_mb"],
                "ours peak MB": measured["ours"]["peak_process_mb"],
                "ours tree MB": measured["ours"]["peak_tree_mb"],
                "ours processes": measured["ours"]["processes"],
                "original ru_maxrss MB": measured["original"]["ru_maxrss_mb"],
                "ours ru_maxrss MB": measured["ours"]["ru_maxrss_mb"],
                "spectrograms": "x".join(map(str, measured["ours"]["spectrogram_shape"])),
                "max |diff|": difference,
            }
            results.append(row)
            print(pd.DataFrame([row]).round(2).to_string(index=False), flush=True)
            if measured["original"]["note"]:
                print(f"  note: {measured['original']['note']}", flush=True)

    table = pd.DataFrame(results)
    print(
        "\nsummary — peak MB: RSS of the largest process (the original's single process; ours: the parent "
        "or a worker), sampled every 50 ms;\n  ours tree MB: RSS summed over our parent and its workers (shared "
        "library pages counted once per process); max |diff|: original spectrograms, original style vs ours"
    )
    print(table.round(2).to_string(index=False))
    for recipe, target in (("original", 1.8), ("improved", 10.0)):
        part = table[table["recipe"] == recipe]
        if len(part):
            speed = part["speed-up"].iloc[-1]
            print(
                f"{recipe}: speed-up {speed:.2f}x at N={part['N'].iloc[-1]} (target >= {target}x: "
                f"{'met' if speed >= target else 'NOT met'}); ours peak {part['ours peak MB'].max():.0f} MB per "
                f"process (target <= 600 MB: {'met' if part['ours peak MB'].max() <= 600 else 'NOT met'}), "
                f"{part['ours tree MB'].max():.0f} MB over its {part['ours processes'].max()} processes; original peak "
                f"{' -> '.join(f'{v:.0f}' for v in part['original peak MB'])} MB over N = "
                f"{' -> '.join(map(str, part['N']))}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
