"""Small hand-made files for the tests' error paths: tones, and MSP-IMPROV trees with a label file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_tone(
    path: Path,
    *,
    seconds: float = 0.5,
    sr: int = 16_000,
    channels: int = 1,
    subtype: str = "PCM_16",
    frequency: float = 220.0,
    amplitude: float = 0.5,
) -> Path:
    """A sine tone (optionally multichannel) for reader and error-path tests."""
    t = np.arange(int(seconds * sr)) / sr
    tone = (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    data = (
        np.stack([tone * (c + 1) / channels for c in range(channels)], axis=1)
        if channels > 1
        else tone
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, sr, subtype=subtype)
    return path


CONSENSUS_LINE = "UTD-IMPROV-{name}.avi; {label}; A:{a}; V:3.000000; D:3.000000 ; N:3.000000;"
RATER_LINE = "RATER{r:03d}; Neutral; ; A:3.0; V:3.0; D:3.0; N:3.0;"


def write_msp_tree(
    root: Path,
    names_labels: dict[str, str],
    *,
    label_file: str | None = "Evaluation.txt",
    extra_labels: dict[str, str] | None = None,
    nest: str = "session1",
) -> Path:
    """A tiny MSP-IMPROV tree: one short tone per name under ``nest/<S01A>/<type>/``, and a label file."""
    for name in names_labels:
        folder = root / nest / name[11:15] / (name[20] if len(name) > 20 else "R")
        write_tone(folder / f"{name}.wav", seconds=0.3, sr=44_100)
    if label_file:
        blocks = []
        for i, (name, label) in enumerate({**names_labels, **(extra_labels or {})}.items()):
            stem = name.replace("MSP-IMPROV-", "")
            blocks.append(
                "\n".join(
                    [
                        CONSENSUS_LINE.format(
                            name=stem, label=label, a="NaN" if i == 0 else "2.500000"
                        ),
                        RATER_LINE.format(r=1),
                        RATER_LINE.format(r=1),
                        RATER_LINE.format(r=2),
                    ]
                )
            )
        (root / label_file).write_text("\n\n".join(blocks) + "\n")
    return root


def untrained_bundle(folder: Path) -> Path:
    """An untrained smoke-size improved model saved as a bundle in ``folder`` (predictions
    need no training)."""
    from ser_utils import config
    from ser_utils.audio.spectrograms import spectrogram_shape
    from ser_utils.deep.bundles import save_bundle
    from ser_utils.deep.models import build_model
    from ser_utils.deep.training import set_global_seed

    recipe = config.improved_recipe("msp-improv", "smoke")
    set_global_seed(0)
    shape = spectrogram_shape(
        recipe.audio.target_length, recipe.audio.target_sr, recipe.spectrogram
    )
    model = build_model(recipe.model, (*shape, 1), len(config.FOUR_CLASSES))
    return save_bundle(folder, model, labels=config.FOUR_CLASSES, recipe=recipe)
