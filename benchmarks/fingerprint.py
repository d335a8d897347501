"""What the content fingerprint of the caches costs, beside what the caches save.

For every file of a corpus, side by side in one run: the file identity with its content
fingerprint (``storage.file_identity``: stat + BLAKE2b of the bytes), the same identity
without the fingerprint (stat alone), the check of every clip that ``ser data check`` and
``ser features`` make (:func:`ser_utils.corpora.check.clip_report`), and the per-file work the
caches avoid — reading and preprocessing the clip with the original recipe's chain plus its
frame features, on the first ``--feature-files`` files. Prints milliseconds per file and the
ratio.

    python benchmarks/fingerprint.py CORPUS ROOT [--feature-files 40]

The file cache of the operating system is warmed by a first pass, so the figures are those of a
re-run (the case a cache serves); a cold disk makes hashing and decoding alike slower.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from ser_utils import audio, config
from ser_utils.corpora import load_corpus
from ser_utils.corpora.check import clip_report
from ser_utils.features import feature_vector
from ser_utils.storage import content_fingerprint, file_identity


def _seconds(function, paths) -> float:
    start = time.perf_counter()
    for path in paths:
        function(path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", choices=config.CORPORA)
    parser.add_argument("root", type=Path)
    parser.add_argument("--feature-files", type=int, default=40)
    args = parser.parse_args()

    manifest = load_corpus(args.corpus, args.root)
    paths = manifest["path"].tolist()
    total_bytes = sum(os.stat(path).st_size for path in paths)
    recipe = config.get_recipe("original", args.corpus, "full")
    _seconds(content_fingerprint, paths)  # warm the page cache: a re-run's conditions

    stat_only = _seconds(lambda p: (Path(p).stat(), Path(p).resolve()), paths)
    identity = _seconds(file_identity, paths)
    start = time.perf_counter()
    clip_report(manifest)  # what data check and features add: every clip decoded once
    clips = time.perf_counter() - start

    def features(path):
        samples, sr = audio.load_and_preprocess(path, recipe.audio)
        feature_vector(samples, sr, "frames", config=recipe.features)

    sample = paths[: args.feature_files]
    features(sample[0])  # numba's kernels compiled outside the timing
    per_file_features = _seconds(features, sample) / len(sample)

    n = len(paths)
    print(f"{args.corpus}: {n} files, {total_bytes / 1e6:.0f} MB in {args.root}")
    print(f"  identity, stat only:           {1e3 * stat_only / n:8.3f} ms/file")
    print(
        f"  identity with BLAKE2b:         {1e3 * identity / n:8.3f} ms/file "
        f"({total_bytes / 1e6 / identity:.0f} MB/s; {identity:.2f} s for the corpus)"
    )
    print(f"  read every clip (clip_report): {1e3 * clips / n:8.3f} ms/file ({clips:.2f} s)")
    print(
        f"  read + preprocess + frames:    {1e3 * per_file_features:8.1f} ms/file "
        f"(first {len(sample)} files)"
    )
    print(f"  fingerprint / feature work:    {(identity - stat_only) / n / per_file_features:.4f}")


if __name__ == "__main__":
    main()
