"""Tables of a cross-validation, computed from its :class:`~ser_utils.evaluation.cross_validation.CrossValidation`
— the fold table, the predictions, the spread over training seeds, the original study beside
this project — and of a protocol: what each fold tests and which utterance is where.

Examples
--------
>>> import numpy as np
>>> from ser_utils import config
>>> from ser_utils.evaluation.cross_validation import cross_validate
>>> from ser_utils.evaluation.protocols import make_protocol
>>> manifest = pd.DataFrame({"label": ["angry", "happy", "neutral", "sad"] * 6,
...                          "session": np.repeat([1, 2, 3], 8)})
>>> y = manifest["label"].to_numpy()
>>> result = cross_validate(make_protocol("loso", manifest), y, lambda fold, train, test: y[test],
...                         config.FOUR_CLASSES, progress=False)
>>> fold_table(result).loc["mean", ["ua", "wa"]].tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .. import config
from .cross_validation import CrossValidation
from .metrics import SCORE_KEYS
from .protocols import Protocol, check_no_leakage, manifest_column

__all__ = [
    "fold_table",
    "original_table",
    "prediction_table",
    "compare_with_original",
    "fold_composition",
    "fold_assignments",
]


def _table_value(value):
    if isinstance(value, dict) and all(
        isinstance(v, (str, numbers.Number)) or v is None for v in value.values()
    ):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return value


def fold_table(result: CrossValidation) -> pd.DataFrame:
    """One row per fold (``wa``, ``ua``, ``macro_f1``, ``n_test``, the members' scores and every
    scalar the model reported), then ``mean`` and ``std`` rows over the numeric columns.

    The index is named ``fold`` (1, 2, …, 'mean', 'std'). ``std`` is the population
    standard deviation (``ddof=0``, as scikit-learn's ``std_test_score``); flat dicts
    such as chosen hyperparameters are shown as ``key=value`` text.
    """
    records = []
    for fold in result.folds:
        row = fold.to_dict()
        record = {"fold": row["fold"]}
        for key, value in row.items():
            value = _table_value(value)
            if key != "fold" and (isinstance(value, (str, numbers.Number)) or value is None):
                record[key] = value
        records.append(record)
    table = pd.DataFrame.from_records(records).set_index("fold")
    first = [k for k in (*SCORE_KEYS, "n_train", "n_test") if k in table.columns]
    table = table[first + [c for c in table.columns if c not in first]]
    numeric = [
        c
        for c in table.columns
        if pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c])
    ]
    mean = table[numeric].mean()
    std = table[numeric].std(ddof=0)
    table.index = table.index.astype(object)
    table.loc["mean"] = mean.reindex(table.columns)
    table.loc["std"] = std.reindex(table.columns)
    return table


def original_table(result: CrossValidation, keys: Sequence[str] = SCORE_KEYS) -> pd.DataFrame:
    """Each fold's scores over the training seeds: mean and standard deviation, and the same
    for the fold means of the draws (row ``mean``).

    Parameters
    ----------
    result : CrossValidation
        Folds of one or several training seeds (folds without a ``training_seed`` count as one
        draw).
    keys : sequence of str
        Scores to summarise (:meth:`~ser_utils.evaluation.cross_validation.FoldResult.score`).

    Returns
    -------
    pandas.DataFrame
        Index fold 1..k and ``mean``; columns ``<key>`` (mean over seeds) and ``<key>_sd``
        (population standard deviation over seeds, 0 for one seed), and ``n_seeds``. The
        ``mean`` row is the mean over seeds of each draw's fold mean, its ``_sd`` the spread
        of those draw means.
    """
    frame = pd.DataFrame(
        [
            {
                "fold": fold.fold,
                "training_seed": 0 if fold.training_seed is None else fold.training_seed,
                **{key: fold.score(key) for key in keys},
            }
            for fold in result.folds
        ]
    )
    by_fold = frame.groupby("fold")[list(keys)]
    draws = frame.groupby("training_seed")[list(keys)].mean()
    table = pd.concat([by_fold.mean(), by_fold.std(ddof=0).add_suffix("_sd")], axis=1)
    table.index = table.index.astype(object)
    table.loc["mean"] = pd.concat([draws.mean(), draws.std(ddof=0).add_suffix("_sd")])
    table = table[[column for key in keys for column in (key, f"{key}_sd")]]
    table["n_seeds"] = len(draws)
    return table


def prediction_table(result: CrossValidation) -> pd.DataFrame:
    """Every test prediction of every fold, one row per utterance and fold.

    Returns
    -------
    pandas.DataFrame
        Columns ``utterance_id``, ``fold``, ``split`` ('test'), ``true``, ``predicted`` and,
        when the model gave probabilities, ``p_<class>`` per class of ``result.labels``.
    """
    frames = []
    for fold in result.folds:
        predictions = fold.predictions
        frame = pd.DataFrame(
            {
                "utterance_id": list(predictions.utterance_id),
                "fold": fold.fold,
                "split": "test",
                "true": list(predictions.true),
                "predicted": list(predictions.predicted),
            }
        )
        if predictions.probabilities is not None:
            frame = frame.join(
                pd.DataFrame(
                    predictions.probabilities.tolist(), columns=[f"p_{c}" for c in result.labels]
                )
            )
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def compare_with_original(result: CrossValidation) -> pd.DataFrame:
    """The original-4fold scores beside the original's reported accuracies (%).

    The original reported folds 1-3 (53.44, 46.23, 52.79 %) and the mean (50.29 %), which
    implies fold 4 (≈ 48.7 %), from one training run; it never reported UA or macro-F1.
    With several training seeds each fold shows the mean over the seeds and its standard
    deviation, so the original's single draw can be placed within the spread.

    Returns
    -------
    pandas.DataFrame
        Index fold 1-4 and ``mean``; columns ``original WA``, ``WA``, ``WA sd``, ``UA``,
        ``UA sd``, ``macro-F1`` (%) and ``seeds`` (how many draws).
    """
    reported = list(config.ORIGINAL_RESULTS["cnn_convlstm_folds_wa"])
    mean = float(config.ORIGINAL_RESULTS["cnn_convlstm_mean_wa"])
    known = [value for value in reported if value is not None]
    implied = len(reported) * mean - sum(known)  # the one fold it did not report
    original = [implied if value is None else value for value in reported]
    summary = original_table(result)
    table = summary[["wa", "wa_sd", "ua", "ua_sd", "macro_f1"]] * 100
    table.columns = ["WA", "WA sd", "UA", "UA sd", "macro-F1"]
    table.insert(0, "original WA", pd.Series(original + [mean], index=[1, 2, 3, 4, "mean"]) * 100)
    table["seeds"] = summary["n_seeds"]
    table.attrs["implied_fold"] = reported.index(None) + 1 if None in reported else None
    return table.astype(float).round(2)


def fold_composition(
    subset: pd.DataFrame, protocol: Protocol, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """What each fold of ``protocol`` tests: class counts, sessions, speakers, and how many of
    its test speakers the training part also holds.

    Parameters
    ----------
    subset : pandas.DataFrame
        The rows ``protocol`` was made from, in the same order (``label``, and ``speaker`` /
        ``session`` when the corpus has them).
    protocol : Protocol
    labels : sequence of str, optional
        Class order of the count columns; default the labels present, in vocabulary order.

    Returns
    -------
    pandas.DataFrame
        Index ``fold`` (1-based); columns ``n_train``, ``n_test``, one test count per class,
        ``test_sessions``, ``test_speakers`` (comma-separated), ``n_test_speakers``,
        ``test_speakers_in_training`` (how many of them the training part holds) and
        ``test_utterances_seen_speaker`` (share of test utterances whose speaker is in training).

    Examples
    --------
    The original's unshuffled 4 folds over rows in session order: the middle folds test
    speakers the training part also holds.

    >>> import numpy as np
    >>> from ser_utils.evaluation.protocols import make_protocol
    >>> subset = pd.DataFrame({"label": ["angry", "happy", "neutral", "sad"] * 6,
    ...                        "session": np.repeat([1, 2, 3], 8),
    ...                        "speaker": np.repeat(["F01", "M01", "F02", "M02", "F03", "M03"], 4)})
    >>> table = fold_composition(subset, make_protocol("original-4fold", subset))
    >>> table["test_speakers_in_training"].tolist()
    [1, 3, 3, 1]
    """
    y = subset["label"].astype(str).to_numpy()
    if labels is None:
        present = set(y)
        labels = [
            label
            for label in (*config.EMOTIONS, config.OTHER_LABEL, config.NO_AGREEMENT_LABEL)
            if label in present
        ]
    speakers = manifest_column(subset, "speaker")
    sessions = manifest_column(subset, "session")
    records = []
    for fold, (train, test) in enumerate(protocol.split(y), start=1):
        counts = pd.Series(y[test]).value_counts()
        record = {
            "fold": fold,
            "n_train": len(train),
            "n_test": len(test),
            **{label: int(counts.get(label, 0)) for label in labels},
        }
        if sessions is not None:
            record["test_sessions"] = ",".join(sorted(set(sessions[test]), key=_natural))
        if speakers is not None:
            tested, trained = set(speakers[test]), set(speakers[train])
            record.update(
                test_speakers=",".join(sorted(tested)),
                n_test_speakers=len(tested),
                test_speakers_in_training=len(tested & trained),
                test_utterances_seen_speaker=float(np.isin(speakers[test], list(trained)).mean()),
            )
        records.append(record)
    return pd.DataFrame.from_records(records).set_index("fold")


def _natural(value: str):
    return (0, int(value)) if value.isdigit() else (1, value)


def fold_assignments(
    subset: pd.DataFrame,
    protocol: Protocol,
    validation: Callable[[np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray]]
    | None = None,
) -> pd.DataFrame:
    """Which utterance is in which part of which fold: one row per utterance and fold.

    Parameters
    ----------
    subset : pandas.DataFrame
        The rows ``protocol`` was made from, in the same order (``utterance_id``, ``label``).
    protocol : Protocol
    validation : callable, optional
        ``validation(labels, speakers) -> (fit_positions, validation_positions)`` over one
        training part, as the recipe's training holds it out (e.g.
        :func:`ser_utils.deep.training.validation_split` with the recipe's training config: for
        the original, ``train_test_split(train, test_size=0.2, random_state=727)``, not
        stratified). None: every training row is ``train``.

    Returns
    -------
    pandas.DataFrame
        Columns ``utterance_id``, ``fold`` (1-based), ``split`` ('train', 'validation' or
        'test'), fold by fold, rows in subset order within each fold.
    """
    y = subset["label"].astype(str).to_numpy()
    ids = subset["utterance_id"].astype(str).to_numpy()
    speakers = subset["speaker"].astype(str).to_numpy() if "speaker" in subset.columns else None
    frames = []
    for fold, (train, test) in enumerate(protocol.split(y), start=1):
        check_no_leakage(protocol, train, test, fold=fold)
        split = np.full(len(y), "", dtype=object)
        split[train] = "train"
        if validation is not None:
            _, held_out = validation(y[train], None if speakers is None else speakers[train])
            split[train[np.asarray(held_out)]] = "validation"
        split[test] = "test"
        used = np.sort(np.concatenate([train, test]))
        frames.append(pd.DataFrame({"utterance_id": ids[used], "fold": fold, "split": split[used]}))
    return pd.concat(frames, ignore_index=True)
