"""``ser run --plan``: what each notebook of ``ser run`` will cost on this machine, before any
of it is spent.

The plan is arithmetic on measured unit costs. What each notebook does is counted from the
configuration the notebooks read — the recipes of the profile, the protocols' folds on the
corpus's own rows (:func:`ser_utils.evaluation.make_protocol`), the training seeds
(:func:`~ser_utils.experiments.network.default_training_seeds`), the exploration's variants
(:func:`~ser_utils.experiments.exploration.exploration_variants`), the fusion's members — as
:class:`Work`: so many training steps of a network, validation and prediction steps, clips
to preprocess, SVM fits. Each unit is then measured once on this machine (:class:`Cost`):
one or two training and prediction steps of every network architecture at its real input
shape and batch size (after a step that traces), one clip through each recipe's array chain
and each feature set. Nothing is written: no arrays, no features, no run directory.

What is not projected is said so: the scikit-learn fits (SVMs, grid searches, and notebook
03's MLP, tree, linear SVM and forest) are counted, not timed — fitted on random values of the
real shape an SVM converges far slower than on features, so no cheap measure prices them; plots
and tables take seconds. Approximations: a step is timed on random values with ``train_on_batch`` (the data pipeline of ``fit`` adds
little); the whole exploration grid, when it is not the one chosen, is priced at the final
model's step. A feature cache already filled makes a rerun faster than planned; arrays already
on disk are recognised and not counted. The projection is as good as the machine is steady: a
machine whose load changes during the run runs faster or slower than measured.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config, paths
from ..audio import spectrogram_shape
from ..config import ModelConfig, Recipe
from ..corpora import check_corpus, select_files
from ..deep.arrays import subset_rows
from ..deep.devices import device_line
from ..deep.ensemble import inner_splits
from ..deep.validation import validation_split
from ..errors import CorpusError
from ..evaluation import make_protocol
from ..features import HANDCRAFTED_FEATURE_SETS
from ..traditional.evaluate import untrimmed_recipe
from ..traditional.models import ORIGINAL_GRID, SOUND_GRIDS
from ..traditional.search import inner_splitter
from .costs import Cost, clip_cost, measure_costs, step_costs
from .exploration import exploration_epochs, exploration_variants
from .network import default_training_seeds

__all__ = [
    "NOTEBOOKS",
    "Work",
    "Cost",
    "RunPlan",
    "count_work",
    "measure_costs",
    "plan_run",
    "format_plan",
]

#: The notebooks ``ser run`` executes, in order (tests/experiments/test_plan.py checks the folder).
NOTEBOOKS: tuple[str, ...] = (
    "01_dataset_analysis",
    "02_feature_extraction",
    "03_traditional_models",
    "04_generate_arrays",
    "05_cnn_convlstm_training",
    "06_evaluate_traditional_model",
    "07_evaluate_end_to_end_model",
    "08_pretrained_encoders",
)
#: What the scikit-learn fits count as: not timed (a fit on random values of the real shape
#: converges far slower than on features, so it would not measure the real cost).
SKLEARN_FIT = "scikit-learn fit (not timed)"
#: Notebook 08's dense heads on pooled embeddings: counted (seconds each, beside the encoder).
HEAD_TRAINING = "whisper-head training (not timed)"
#: scikit-learn models of notebook 03 beside the RBF SVM.
OTHER_TRADITIONAL_MODELS: tuple[str, ...] = ("mlp", "tree", "linear_svm", "forest")


@dataclass(frozen=True)
class Work:
    """``units`` of the measured unit ``cost`` that one notebook does, spread over ``parallel``
    cores; ``trainings`` networks trained (0 for other work); ``timed`` False: counted only."""

    notebook: str
    what: str
    cost: str
    units: int
    trainings: int = 0
    parallel: int = 1
    timed: bool = True


@dataclass(frozen=True)
class RunPlan:
    """What :func:`plan_run` counted and measured. Seconds."""

    data_dir: str
    profile: str
    corpora: tuple[str, ...]
    exploration: str
    works: tuple[Work, ...]
    costs: Mapping[str, Cost]
    grid_works: tuple[Work, ...] = ()  # notebook 05's exploration, had the whole grid been chosen
    device: str = ""
    measuring_seconds: float = 0.0

    def seconds(self, work: Work) -> float:
        if not work.timed or work.cost not in self.costs:
            return 0.0
        return work.units * self.costs[work.cost].seconds / max(1, work.parallel)

    def notebook_seconds(self, works: tuple[Work, ...] | None = None) -> dict[str, float]:
        totals = dict.fromkeys(NOTEBOOKS, 0.0)
        for work in self.works if works is None else works:
            totals[work.notebook] += self.seconds(work)
        return totals

    @property
    def total_seconds(self) -> float:
        return sum(self.notebook_seconds().values())

    def trainings(self) -> dict[str, int]:
        """Networks trained per notebook."""
        counts = dict.fromkeys(NOTEBOOKS, 0)
        for work in self.works:
            counts[work.notebook] += work.trainings
        return counts

    @property
    def grid_seconds(self) -> float:
        """Notebook 05's exploration had ``EXPLORATION = "grid"`` been chosen."""
        return sum(self.seconds(work) for work in self.grid_works)


# ------------------------------------------------------------------------------ counting
@dataclass
class _Counter:
    """Collects :class:`Work` and, per unit cost, the function that measures it."""

    works: list[Work] = field(default_factory=list)
    measures: dict[str, Callable[[], Cost]] = field(default_factory=dict)

    def add(self, work: Work, measure: Callable[[], Cost] | None = None) -> None:
        if work.units > 0:
            self.works.append(work)
        if measure is not None and work.cost not in self.measures:
            self.measures[work.cost] = measure


def _model_key(model: ModelConfig, shape: tuple[int, ...], batch_size: int) -> str:
    # the L1 strength and the learning rate change no step's cost
    params = {k: v for k, v in sorted(model.params.items()) if k != "l1"}
    described = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{model.name}({described}) {' × '.join(map(str, shape))}, batch {batch_size}"


def _input_shape(recipe: Recipe) -> tuple[int, int]:
    rate = recipe.audio.target_sr or config.ORIGINAL_SPECTROGRAM_SAMPLE_RATE
    return spectrogram_shape(recipe.audio.target_length, rate, recipe.spectrogram)


def _training_works(
    counter: _Counter,
    notebook: str,
    what: str,
    recipe: Recipe,
    *,
    model: ModelConfig | None = None,
    epochs: int,
    parts: list[tuple[int, int, int]],
    trainings: int = 1,
) -> None:
    """The steps of ``trainings`` × each ``(train, validation, test)`` size of ``parts``: per
    epoch the training and validation steps, then the test predictions."""
    model = model or recipe.model
    shape, batch = _input_shape(recipe), recipe.training.batch_size
    key = _model_key(model, shape, batch)
    steps = sum(math.ceil(n_train / batch) for n_train, _, _ in parts) * epochs * trainings
    predictions = (
        sum(
            math.ceil(n_val / batch) * epochs + math.ceil(n_test / batch)
            for _, n_val, n_test in parts
        )
        * trainings
    )
    measure = step_costs(key, model, shape, recipe)
    counter.add(
        Work(
            notebook,
            f"{what}: {len(parts) * trainings} training(s) × {epochs} epochs",
            f"training step: {key}",
            steps,
            trainings=len(parts) * trainings,
        ),
        measure["train"],
    )
    counter.add(
        Work(notebook, f"{what}: validation and test", f"prediction step: {key}", predictions),
        measure["predict"],
    )


def _fold_parts(
    rows: pd.DataFrame, protocol: str, recipe: Recipe, folds=None
) -> list[tuple[int, int, int]]:
    """``(training, validation, test)`` sizes of each fold of ``protocol`` over ``rows``, the
    validation part as the training holds it out."""
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy() if "speaker" in rows.columns else None
    parts = []
    for number, (train, test) in enumerate(make_protocol(protocol, rows).split(y), start=1):
        if folds is not None and number not in folds:
            continue
        kept, _ = validation_split(
            y[train], groups=None if speakers is None else speakers[train], config=recipe.training
        )
        parts.append((len(kept), len(train) - len(kept), len(test)))
    return parts


def _member_parts(rows: pd.DataFrame, recipe: Recipe, folds=None) -> list[tuple[int, int, int]]:
    """``(training, held out, test)`` sizes of every member of the fusion's inner ensembles."""
    y = rows["label"].astype(str).to_numpy()
    speakers = rows["speaker"].astype(str).to_numpy()
    parts = []
    for number, (train, test) in enumerate(make_protocol("loso", rows).split(y), start=1):
        if folds is not None and number not in folds:
            continue
        for inner, held in inner_splits(
            y[train], speakers[train], n_folds=recipe.fusion.members, seed=recipe.training.seed
        ):
            parts.append((len(inner), len(held), len(test)))
    return parts


def _clip_works(
    counter: _Counter,
    notebook: str,
    what: str,
    files: pd.DataFrame,
    recipe: Recipe,
    kind: str,
    *,
    parallel: int = 1,
) -> None:
    """One pass of ``recipe``'s audio chain and ``kind`` (a feature set, or ``arrays``) over ``files``."""
    trimmed = "" if recipe.audio.trim else ", untrimmed"
    key = f"clip: {recipe.corpus} {recipe.name} ({recipe.profile}{trimmed}) {kind}"
    counter.add(
        Work(notebook, what, key, len(files), parallel=parallel),
        clip_cost(key, files, recipe, kind),
    )


def _grid_fits(grid: Mapping[str, list], rows: pd.DataFrame, train: np.ndarray) -> int:
    """Fits of a grouped grid search in one fold: every candidate on every inner fold, then the refit."""
    speakers = rows["speaker"].astype(str).to_numpy()[train]
    splitter, groups, _ = inner_splitter(speakers, rows["label"].to_numpy()[train])
    n_inner = splitter.get_n_splits(np.zeros(len(train)), groups=groups)
    return math.prod(len(values) for values in grid.values()) * n_inner + 1


def count_work(
    data_dir: str | Path | None = None,
    profile: str | None = None,
    *,
    exploration: str = "original",
    manifests: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[list[Work], dict[str, Callable[[], Cost]], list[Work]]:
    """The work of every notebook of ``ser run`` on the corpora of ``data_dir`` at ``profile``
    (defaults as ``ser run``: :func:`ser_utils.paths.data_dir`, :func:`ser_utils.paths.profile`).

    Returns the works, the measuring function of each unit cost they name, and notebook 05's
    exploration as the whole grid would be (its costs included in the measures).
    """
    base = Path(data_dir) if data_dir is not None else paths.data_dir()
    corpora = tuple(c for c in config.CORPORA if paths.has_corpus(base, c))
    if not corpora:
        raise CorpusError(
            f"{base} holds neither TESS/ nor MSP-IMPROV/ — `ser data prepare` writes the "
            "synthetic corpora, or put the real ones under dataset/"
        )
    profile = profile or paths.profile(paths.corpus_root(corpora[0], base))
    manifests = dict(manifests or {})
    counter = _Counter()
    for corpus in corpora:
        start = time.perf_counter()
        if corpus not in manifests:
            manifests[corpus] = check_corpus(corpus, paths.corpus_root(corpus, base))
        cost = Cost(f"manifest: {corpus}", time.perf_counter() - start, "read and checked here")
        counter.add(
            Work(
                "01_dataset_analysis",
                f"{corpus}: manifest of {len(manifests[corpus])} files",
                cost.key,
                1,
            ),
            lambda cost=cost: cost,
        )
    files = {corpus: select_files(manifests[corpus]) for corpus in corpora}
    originals = {corpus: config.original_recipe(corpus, profile) for corpus in corpora}
    cores = os.cpu_count() or 1

    # 02 (and 03's LOSO sets and 07's eGeMAPS): each feature set over each corpus's files
    for corpus in corpora:
        _clip_works(
            counter,
            "02_feature_extraction",
            f"{corpus}: {', '.join(HANDCRAFTED_FEATURE_SETS)} of {len(files[corpus])} files",
            files[corpus],
            originals[corpus],
            "+".join(HANDCRAFTED_FEATURE_SETS),
            parallel=cores,  # extract_feature_sets' n_jobs=-1
        )
    grid_works: list[Work] = []
    if "tess" in corpora:
        _tess_traditional(counter, files["tess"], originals["tess"])
    if "msp-improv" in corpora:
        grid_works = _msp_improv_work(counter, files["msp-improv"], profile, exploration, cores)
    return counter.works, counter.measures, grid_works


def _tess_traditional(counter: _Counter, files: pd.DataFrame, recipe: Recipe) -> None:
    speakers = files["speaker"].nunique()
    fits = len(OTHER_TRADITIONAL_MODELS) * (1 + speakers)  # a random split, then each speaker
    counter.add(
        Work(
            "03_traditional_models",
            f"TESS: {', '.join(OTHER_TRADITIONAL_MODELS)} × (1 random split + {speakers} speakers)",
            SKLEARN_FIT,
            fits,
            timed=False,
        )
    )


def _msp_improv_work(
    counter: _Counter, files: pd.DataFrame, profile: str, exploration: str, cores: int
) -> list[Work]:
    recipes = {name: config.get_recipe(name, "msp-improv", profile) for name in config.RECIPES}
    original = recipes["original"]
    rows = subset_rows(files.assign(corpus="msp-improv"))
    y = rows["label"].astype(str).to_numpy()
    sessions = make_protocol("loso", rows).split(y)

    def svm(notebook, what, fits, feature_set="frames", recipe=original, **kw):
        what = f"{what} ({feature_set}, {recipe.name} audio)"
        counter.add(Work(notebook, what, SKLEARN_FIT, fits, timed=False, **kw))

    # 03: acted labels, consensus labels, the original's grid, LOSO with grouped tuning
    _clip_works(
        counter,
        "03_traditional_models",
        f"MSP-IMPROV: frames of {len(files)} untrimmed files",
        files,
        untrimmed_recipe(original, files),
        "frames",
        parallel=cores,
    )
    acted = 2 + config.ORIGINAL_ACTED_CV  # untrimmed and trimmed splits, then the 5-fold CV
    svm("03_traditional_models", "acted labels: RBF SVM", acted)
    counter.add(
        Work(
            "03_traditional_models",
            f"MSP-IMPROV acted and consensus labels: {', '.join(OTHER_TRADITIONAL_MODELS)} × 3",
            SKLEARN_FIT,
            len(OTHER_TRADITIONAL_MODELS) * 3,
            timed=False,
        )
    )
    original_grid = math.prod(len(v) for v in ORIGINAL_GRID.values()) * config.ORIGINAL_GRID_CV
    svm("03_traditional_models", "consensus labels: RBF SVM", 1)
    svm(
        "03_traditional_models",
        f"the original's grid ({original_grid} fits + refit)",
        original_grid + 1,
        parallel=cores,
    )
    grouped = sum(_grid_fits(SOUND_GRIDS["rbf_svm"], rows, train) for train, _ in sessions)
    svm("03_traditional_models", f"LOSO untuned ({len(sessions)} sessions)", len(sessions))
    for feature_set in HANDCRAFTED_FEATURE_SETS:
        svm(
            "03_traditional_models",
            f"LOSO {feature_set}, tuned in each fold",
            grouped,
            feature_set,
            parallel=cores,
        )
    # 04: the arrays of each recipe (those on disk are reused)
    for name in dict.fromkeys(paths.arrays_dir(r) for r in recipes.values()):
        recipe = next(r for r in recipes.values() if paths.arrays_dir(r) == name)
        if not (name / "arrays.json").is_file():
            _clip_works(
                counter,
                "04_generate_arrays",
                f"{recipe.name} arrays of {len(files)} files",
                files,
                recipe,
                "arrays",
                parallel=min(2, cores),  # the notebook's n_jobs=2
            )
    # 05: the exploration, then the final model on every 4-class utterance
    kept, _ = validation_split(
        y, groups=rows["speaker"].astype(str).to_numpy(), config=original.training
    )
    single = [(len(kept), len(rows) - len(kept), 0)]
    epochs = exploration_epochs(original)

    def explore(target: _Counter, variants: Mapping[str, Mapping]) -> None:
        for name, changes in variants.items():
            params = {k: v for k, v in changes.items() if k != "learning_rate"}
            model = ModelConfig(original.model.name, {**original.model.params, **params})
            _training_works(
                target,
                "05_cnn_convlstm_training",
                f"exploration: {name}",
                original,
                model=model,
                epochs=epochs,
                parts=single,
            )

    explore(counter, exploration_variants(profile, exploration))
    _training_works(
        counter,
        "05_cnn_convlstm_training",
        "final model",
        original,
        epochs=original.training.epochs,
        parts=single,
    )
    grid = _Counter()
    explore(grid, exploration_variants(profile, "grid"))
    final = _model_key(original.model, _input_shape(original), original.training.batch_size)
    for number, work in enumerate(grid.works):
        if work.cost not in counter.measures:  # priced at the final model's steps, not measured
            kind = work.cost.split(":", 1)[0]
            grid.works[number] = dataclasses.replace(work, cost=f"{kind}: {final}")
    # 06: the RBF SVM on three random splits and leave one session out
    svm(
        "06_evaluate_traditional_model",
        "3 random splits",
        len(config.ORIGINAL_EVALUATION_RANDOM_STATES),
    )
    svm("06_evaluate_traditional_model", f"LOSO ({len(sessions)} sessions)", len(sessions))
    # 07: original-4fold over its seeds, each recipe under LOSO, four tuned SVMs
    _training_works(
        counter,
        "07_evaluate_end_to_end_model",
        "original-4fold",
        original,
        epochs=original.training.epochs,
        parts=_fold_parts(rows, "original-4fold", original),
        trainings=len(default_training_seeds(original, "original-4fold")),
    )
    folds = None if profile == "full" else config.SMOKE_LOSO_FOLDS
    n_folds = len(sessions) if folds is None else len(folds)
    for name, recipe in recipes.items():
        seeds = len(default_training_seeds(recipe, "loso"))
        if recipe.fusion is None:
            parts = _fold_parts(rows, "loso", recipe, folds)
        else:
            parts = _member_parts(rows, recipe, folds)
            svm(
                "07_evaluate_end_to_end_model",
                f"fusion: RBF SVM of {n_folds} fold(s)",
                n_folds * (recipe.fusion.members + 1),  # each inner fold, then the whole part
                recipe.fusion.features,
                recipes[recipe.fusion.features_recipe],
            )
        _training_works(
            counter,
            "07_evaluate_end_to_end_model",
            f"{name} under LOSO",
            recipe,
            epochs=recipe.training.epochs,
            parts=parts,
            trainings=seeds,
        )
    improved = recipes["improved"]
    _clip_works(
        counter,
        "07_evaluate_end_to_end_model",
        f"eGeMAPS of {len(files)} files (improved audio)",
        files,
        improved,
        "egemaps",
        parallel=cores,
    )
    for feature_set, recipe in (("functionals", original), ("egemaps", improved)):
        svm(
            "07_evaluate_end_to_end_model",
            f"LOSO {feature_set} ({recipe.name} audio), tuned, with and without speaker normalisation",
            2 * grouped,
            feature_set,
            recipe,
        )  # run_traditional's n_jobs=1
    # 08: the encoder's embeddings of the R+T files, three tuned SVMs, the head under LOSO
    head = config.whisper_head_recipe("msp-improv", profile)
    _clip_works(
        counter,
        "08_pretrained_encoders",
        f"Whisper embeddings of {len(files)} files",
        files,
        head,
        "whisper",
    )
    svm(
        "08_pretrained_encoders",
        "LOSO eGeMAPS SVM, tuned, speaker-normalised",
        grouped,
        "egemaps",
        improved,
    )
    linear = sum(_grid_fits(SOUND_GRIDS["linear_svm"], rows, train) for train, _ in sessions)
    svm("08_pretrained_encoders", "LOSO linear SVM, tuned", linear, "whisper", head)
    svm("08_pretrained_encoders", "LOSO RBF SVM, tuned", grouped, "whisper", head)
    head_trainings = len(sessions) * len(default_training_seeds(head, "loso"))
    counter.add(
        Work(
            "08_pretrained_encoders",
            "whisper-head under LOSO",
            HEAD_TRAINING,
            head_trainings,
            trainings=head_trainings,
            timed=False,
        )
    )
    return grid.works


def plan_run(
    data_dir: str | Path | None = None,
    profile: str | None = None,
    *,
    exploration: str = "original",
    progress: bool = True,
) -> RunPlan:
    """Count the work of ``ser run`` (:func:`count_work`), measure each unit cost on this
    machine (:func:`measure_costs`) and return the plan; writes nothing."""
    base = Path(data_dir) if data_dir is not None else paths.data_dir()
    start = time.perf_counter()
    works, measures, grid_works = count_work(base, profile, exploration=exploration)
    profile = profile or paths.profile(
        next(paths.corpus_root(c, base) for c in config.CORPORA if paths.has_corpus(base, c))
    )
    costs = measure_costs(measures, progress=progress)
    return RunPlan(
        data_dir=str(base),
        profile=profile,
        corpora=tuple(c for c in config.CORPORA if paths.has_corpus(base, c)),
        exploration=exploration,
        works=tuple(works),
        costs=costs,
        grid_works=tuple(grid_works),
        device=device_line(),
        measuring_seconds=time.perf_counter() - start,
    )


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    if hours >= 48:
        return f"{hours / 24:.1f} days"
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def format_plan(plan: RunPlan, *, details: bool = False) -> str:
    """The plan as ``ser run --plan`` prints it: a line per notebook and the total; with
    ``details`` every counted work under its notebook, and the measured unit costs."""
    per_notebook, trainings = plan.notebook_seconds(), plan.trainings()
    untimed = {nb: collections.Counter() for nb in NOTEBOOKS}
    for work in plan.works:
        if not work.timed:
            untimed[work.notebook][work.cost] += work.units
    lines = [
        f"plan of ser run: {', '.join(plan.corpora)} in {plan.data_dir}, {plan.profile} profile; "
        f"{plan.device}; {os.cpu_count()} CPU cores",
    ]
    for notebook in NOTEBOOKS:
        extra = [f"{trainings[notebook]} networks trained"] if trainings[notebook] else []
        for cost, units in untimed[notebook].items():
            label = "scikit-learn fits" if cost == SKLEARN_FIT else cost.split(" (")[0] + "s"
            extra.append(f"+ {units} {label}, not timed")
        lines.append(
            f"  {notebook:32s} {_duration(per_notebook[notebook]):>14s}"
            + (f"  ({'; '.join(extra)})" if extra else "")
        )
        if details:
            for work in plan.works:
                if work.notebook == notebook:
                    seconds = plan.seconds(work)
                    lines.append(
                        f"      {work.what}: {work.units} × {work.cost}"
                        + (f" / {work.parallel} cores" if work.parallel > 1 else "")
                        + (f" = {_duration(seconds)}" if work.timed else "")
                    )
    lines.append(f"  {'total':32s} {_duration(plan.total_seconds):>14s}")
    if plan.grid_works:
        lines.append(
            f"notebook 05 explores {plan.exploration!r}: "
            + (
                f"the whole grid ({sum(w.trainings for w in plan.grid_works)} variants) would take "
                f"{_duration(plan.grid_seconds)} instead, at the final model's step time "
                '(EXPLORATION = "grid" in its parameters cell)'
                if plan.exploration != "grid"
                else f"{sum(w.trainings for w in plan.grid_works)} variants"
            )
        )
    lines.append(
        f"measured on this machine in {plan.measuring_seconds:.0f} s (load {os.getloadavg()[0]:.1f}); "
        "arrays already on disk are not counted again"
    )
    if details:
        lines.append("unit costs:")
        lines.extend(f"  {c.key}: {c.seconds:.3f} s ({c.how})" for c in plan.costs.values())
    return "\n".join(lines)
