"""Small hand-made inputs for the tests: tones, MSP-IMPROV trees with a label file, manifests,
fold results and an untrained model bundle."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from ser_utils import config
from ser_utils.evaluation import CrossValidation, FoldPredictions, FoldResult


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


def hand_manifest() -> pd.DataFrame:
    """12 MSP-IMPROV-like rows over 3 sessions (6 speakers), with R/T/P/S and O/X labels."""
    rows = [
        # session, speaker, recording type, label
        (1, "F01", "R", "angry"),
        (1, "M01", "T", "happy"),
        (1, "F01", "P", "sad"),
        (1, "M01", "R", "other"),
        (2, "F02", "R", "neutral"),
        (2, "M02", "T", "sad"),
        (2, "F02", "S", "happy"),
        (2, "M02", "T", "no_agreement"),
        (3, "F03", "T", "angry"),
        (3, "M03", "R", "neutral"),
        (3, "F03", "S", "neutral"),
        (3, "M03", "P", "angry"),
    ]
    frame = pd.DataFrame(rows, columns=["session", "speaker", "recording_type", "label"])
    frame.insert(0, "utterance_id", [f"u{i:02d}" for i in range(len(frame))])
    frame["corpus"] = "msp-improv"
    return frame


def fold_result(fold, wa, ua, macro_f1, *, confusion=((1, 0), (0, 1)), **fields) -> FoldResult:
    """A fold of two classes ``a`` and ``b`` with the given scores, as the fold loop makes one."""
    return FoldResult(
        fold=fold,
        wa=wa,
        ua=ua,
        macro_f1=macro_f1,
        n_train=30,
        n_test=10,
        test_group=None,
        confusion=np.asarray(confusion),
        per_class=pd.DataFrame({"recall": [1.0, 1.0]}, index=["a", "b"]),
        predictions=FoldPredictions((), (), ()),
        **fields,
    )


FOLDS = CrossValidation(
    "loso",
    ("a", "b"),
    (
        fold_result(1, 0.5, 0.4, 0.3, details={"best_params": {"C": 1}}),
        fold_result(
            2, 0.7, 0.6, 0.5, details={"best_params": {"C": 10}}, confusion=((2, 1), (0, 3))
        ),
    ),
)


#: A CRNN small enough to train in a second on (16 freq, 24 frames) inputs.
TINY_CRNN = config.ModelConfig(
    "improved_crnn", {"filters": (4, 8), "recurrent_units": 8, "attention_units": 8, "dropout": 0.0}
)


TINY_TRAINING = config.TrainingConfig(
    epochs=3,
    batch_size=16,
    learning_rate=1e-2,
    validation_split="speaker",
    class_weight=True,
    seed=3,
    deterministic_ops=True,
)


#: A number of an MSP-IMPROV label line, and its consensus line as the synthetic corpus writes it.
NUMBER = r"(?:[1-5]\.\d{6}|NaN)"


CONSENSUS_PATTERN = re.compile(
    rf"^UTD-IMPROV-(S\d{{2}}[AHSN]-[FM]\d{{2}}-[PRST]-[FM]{{2}}\d{{2}})\.avi; ([AHSNOX]); "
    rf"A:{NUMBER}; V:{NUMBER}; D:{NUMBER} ; N:{NUMBER};$"
)


def wavs(root: Path) -> list[Path]:
    """The WAV files under ``root``, sorted, without macOS's ``._`` and ``__MACOSX`` copies."""
    return sorted(
        p for p in root.rglob("*.wav") if not p.name.startswith("._") and "__MACOSX" not in p.parts
    )


def read_blocks(label_file: Path) -> dict[str, tuple[str, list[str]]]:
    """``MSP-IMPROV-…`` stem -> (consensus letter, rater lines) straight from the text."""
    text = label_file.read_text(encoding="ascii")
    blocks = {}
    for block in text.rstrip("\n").split("\n\n"):
        header, *raters = block.split("\n")
        match = CONSENSUS_PATTERN.match(header)
        assert match, f"malformed consensus line: {header!r}"
        blocks["MSP-IMPROV-" + match.group(1)] = (match.group(2), raters)
    return blocks


def grouped_balanced_accuracy(
    features: np.ndarray, labels: np.ndarray, groups: np.ndarray
) -> float:
    """Leave-one-group-out balanced accuracy of a scaled logistic regression: how learnable
    the synthetic emotions are across ``groups``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    predicted = cross_val_predict(model, features, labels, groups=groups, cv=LeaveOneGroupOut())
    return balanced_accuracy_score(labels, predicted)
