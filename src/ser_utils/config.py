"""Named recipes, profiles and constants: one place for every fact of the pipeline.

The **original** recipe reproduces the original study step by step (every number below is
taken from it); the **improved** recipe fixes its known flaws. Each stage reads a frozen
dataclass, so a run is fully described by the recipe it was given.

Where things live and which profile a run uses: :mod:`ser_utils.paths`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .errors import ChoiceError

# --------------------------------------------------------------------------- labels
#: One label vocabulary for every corpus.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
#: MSP-IMPROV consensus labels outside the emotions; kept in manifests, filtered by subsets.
OTHER_LABEL = "other"
NO_AGREEMENT_LABEL = "no_agreement"
#: The four MSP-IMPROV classes, in the order used for every model output and report.
FOUR_CLASSES: tuple[str, ...] = ("angry", "happy", "neutral", "sad")

#: TESS file-name suffix -> label.
TESS_LABELS: dict[str, str] = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "surprise",
    "sad": "sad",
}
#: MSP-IMPROV letters (file-name target emotion and Evaluation.txt consensus) -> label.
MSP_IMPROV_LABELS: dict[str, str] = {
    "A": "angry",
    "H": "happy",
    "S": "sad",
    "N": "neutral",
    "O": OTHER_LABEL,
    "X": NO_AGREEMENT_LABEL,
}
MSP_IMPROV_RECORDING_TYPES: tuple[str, ...] = ("P", "R", "S", "T")
#: The recording types the original study used: read (R) and target improvised (T).
ORIGINAL_RECORDING_TYPES: tuple[str, ...] = ("R", "T")

CORPORA: tuple[str, ...] = ("tess", "msp-improv")
#: Written by ser_utils.synthetic at the root of each corpus it makes.
SYNTHETIC_MARKER = ".synthetic.json"
#: Folder names under the data directory, for users' copies and the synthetic corpora.
CORPUS_FOLDERS: dict[str, str] = {"tess": "TESS", "msp-improv": "MSP-IMPROV"}

# ----------------------------------------------------------- the original's constants
#: int16 samples x 1000 / 32768: on soundfile's float samples (int16 / 32768) a gain of 1000.
ORIGINAL_SCALE_GAIN = 1000.0
TESS_ORIGINAL_SAMPLE_RATE = 22_050
TESS_ORIGINAL_LENGTH = 145_180  # longest TESS clip at 22 050 Hz
TESS_ORIGINAL_HOP = 610  # -> 239 frames
MSP_IMPROV_ORIGINAL_LENGTH = 338_368  # longest trimmed R+T clip at the native rate
MSP_IMPROV_ORIGINAL_HOP = 544  # -> 623 frames
#: The rate the original's first notebook resampled every clip from (TESS and MSP-IMPROV alike):
#: the frame rate of the TESS file OAF_half_angry.wav, left in a variable.
ORIGINAL_STALE_SAMPLE_RATE = 24_414
#: The rate its first notebook gave librosa's mfcc and chroma_stft on MSP-IMPROV (what
#: ``librosa.load(sr=None)`` last returned) and its evaluation notebook's hard-coded one.
MSP_IMPROV_ORIGINAL_FEATURE_SR = 44_100
ORIGINAL_EVALUATION_FEATURE_SR = 22_050
#: ... and on TESS (the rate of the last file its loop loaded).
TESS_ORIGINAL_FEATURE_SR = 24_414
#: Hop of the first notebook's untrimmed MSP-IMPROV run (598 878 samples -> 687 frames).
MSP_IMPROV_ORIGINAL_UNTRIMMED_HOP = 873
ORIGINAL_TRIM_TOP_DB = 25.0
ORIGINAL_TRIM_FRAME_LENGTH = 256
ORIGINAL_TRIM_HOP_LENGTH = 64
#: The spectrogram code of the original assumes this rate (1764-sample window, 882 hop).
ORIGINAL_SPECTROGRAM_SAMPLE_RATE = 44_100
ORIGINAL_SPECTROGRAM_SHAPE = (442, 382)
ORIGINAL_SPLIT_TEST_SIZE = 0.25
ORIGINAL_SPLIT_RANDOM_STATE = 1
ORIGINAL_EVALUATION_RANDOM_STATES: tuple[int, ...] = (1, 3, 4)
ORIGINAL_N_FOLDS = 4
ORIGINAL_VALIDATION_SIZE = 0.2
ORIGINAL_VALIDATION_RANDOM_STATE = 727
ORIGINAL_GRID_CV = 5
ORIGINAL_MODEL_PARAMETERS = 33_148_420

#: What the original study reported; shown beside this project's numbers.
ORIGINAL_RESULTS: dict[str, object] = {
    "tess_random_split_accuracy": {
        "mlp": 0.976,
        "tree": 0.850,
        "linear_svm": 0.999,
        "forest": 0.943,
    },
    "msp_acted_accuracy": {"mlp": 0.365, "tree": 0.358, "linear_svm": 0.381, "forest": 0.390},
    "msp_acted_trimmed_accuracy": {"mlp": 0.415, "linear_svm": 0.425, "rbf_svm": 0.456},
    "msp_acted_trimmed_rbf_cv5": (0.42, 0.03),
    "msp_consensus_accuracy": {
        "mlp": 0.469,
        "tree": 0.390,
        "linear_svm": 0.425,
        "forest": 0.459,
        "rbf_svm": 0.513,
    },
    "msp_grid_best": {"kernel": "rbf", "C": 10, "gamma": "scale", "accuracy": 0.528},
    "svm_evaluation": {  # random 75/25 splits, random_state 1, 3, 4
        "random_state": [1, 3, 4],
        "wa": [0.518, 0.505, 0.508],
        "macro_f1": [0.445, 0.435, 0.439],
        "ua": [0.442, 0.430, 0.436],
    },
    "cnn_convlstm_folds_wa": [0.5344, 0.4623, 0.5279, None],  # fourth fold ~0.487, implied
    "cnn_convlstm_mean_wa": 0.5029,
    "cnn_convlstm_fold1_recall": {"angry": 0.41, "happy": 0.14, "sad": 0.02, "neutral": 0.95},
}

#: The real corpora's sizes, for sanity checks on users' copies.
TESS_FILES = 2800
MSP_IMPROV_ORIGINAL_SUBSET_COUNTS: dict[str, int] = {
    "angry": 284,
    "happy": 224,
    "sad": 186,
    "neutral": 524,
}


# ------------------------------------------------------------------------ stages
@dataclass(frozen=True)
class AudioConfig:
    """Preprocessing chain applied by :func:`ser_utils.audio.preprocess`, in this order:
    scale -> resample -> trim -> denoise (if ``denoise_before_pad``) -> pad/crop -> denoise.
    """

    #: ``"original"`` (x1000, the original's int16 x 1000 / 32768), ``"peak"`` or ``"none"``.
    scaling: str = "none"
    #: Target sample rate; ``None`` keeps each file's own rate.
    target_sr: int | None = None
    resample_type: str = "soxr_hq"
    trim: bool = False
    trim_top_db: float = ORIGINAL_TRIM_TOP_DB
    trim_frame_length: int = ORIGINAL_TRIM_FRAME_LENGTH
    trim_hop_length: int = ORIGINAL_TRIM_HOP_LENGTH
    #: Pad with trailing zeros or crop to this many samples; ``None`` keeps the length.
    target_length: int | None = None
    denoise: bool = False
    #: The original denoised the padded clip (slow); denoising before padding is cheaper.
    denoise_before_pad: bool = False
    #: The rate the resampler is told the clip has; ``None``: the file's own (the original's first
    #: notebook: :data:`ORIGINAL_STALE_SAMPLE_RATE` whatever the file).
    resample_from: int | None = None
    #: The rate noise reduction is told: ``"audio"`` the clip's rate at that step, ``"file"`` the
    #: file's own rate (the original's, also after resampling).
    denoise_rate: str = "audio"


@dataclass(frozen=True)
class FrameFeatureConfig:
    """The original's 34 frame features: MFCC (20), chroma_stft (12), RMS, ZCR."""

    hop_length: int = MSP_IMPROV_ORIGINAL_HOP
    n_mfcc: int = 20
    n_chroma: int = 12
    n_fft: int = 2048
    #: The rate mfcc and chroma_stft are told; ``None``: the clip's own (the original passed others).
    sr: int | None = None
    #: Flattening of (frames, 34): ``"feature"`` (all of MFCC 1, then MFCC 2, …) or ``"frame"``
    #: (frame by frame, the original's ``swapaxes`` then ``reshape``).
    flatten_order: str = "feature"


@dataclass(frozen=True)
class SpectrogramConfig:
    """Input of the deep models: the original's log power spectrogram, or log-mel."""

    kind: str = "original"  # "original" | "logmel"
    window_seconds: float = 0.040
    hop_seconds: float = 0.020
    max_frequency: float = 11_025.0
    eps: float = 1e-14
    #: log-mel only
    n_mels: int = 64
    n_fft: int = 512
    mel_hop_length: int = 160


@dataclass(frozen=True)
class ModelConfig:
    """Deep model builder and its hyperparameters (keywords of the builder)."""

    name: str = "original_cnn_convlstm"  # | "improved_tcn" | "improved_crnn" | "lstm_frame" | "cnn_spectrogram"
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 25
    batch_size: int = 32
    learning_rate: float = 5e-4
    validation_size: float = ORIGINAL_VALIDATION_SIZE
    validation_random_state: int = ORIGINAL_VALIDATION_RANDOM_STATE
    #: ``"random"`` (the original) or ``"speaker"`` (grouped, no speaker in both parts).
    validation_split: str = "random"
    early_stopping_patience: int | None = None
    class_weight: bool = False
    #: The run's one random seed: weights, dropout, batch order, augmentation, and the
    #: ``random_state`` of traditional models fitted with the recipe.
    seed: int = 0
    deterministic_ops: bool = False
    mixed_precision: bool = False
    #: ``"default"`` (one GPU or the CPU) or ``"mirrored"`` (tf.distribute.MirroredStrategy, every GPU).
    distribution: str = "default"
    #: ``"constant"`` or ``"cosine"`` (learning rate from ``learning_rate`` down to 0 over ``epochs``).
    learning_rate_schedule: str = "constant"
    #: SpecAugment on training batches: this many frequency masks and time masks per example,
    #: each at most ``spec_augment_width`` (a fraction of the axis) wide; 0 masks = off.
    spec_augment_masks: int = 0
    spec_augment_width: float = 0.1
    #: mixup on training batches: Beta(alpha, alpha) weights between shuffled pairs; 0 = off.
    mixup_alpha: float = 0.0


@dataclass(frozen=True)
class FusionConfig:
    """An ensemble of the recipe's network over speaker-grouped inner folds, fused with the
    RBF SVM on utterance features, eGeMAPS by default (:mod:`ser_utils.experiments.fusion`,
    :mod:`ser_utils.deep.ensemble`).

    Every choice is made on the training part of a fold: each member is validated on its
    held-out inner fold, whose predictions (out-of-fold) also fit the combiner.
    """

    #: Inner folds of the training part, one network per fold (speaker-grouped; stratified
    #: when a single training speaker is left).
    members: int = 5
    #: ``"inner"``: one member per inner fold (out-of-fold predictions for the combiner);
    #: ``"seeds"``: every member on the whole training part, other seeds (no out-of-fold
    #: predictions: combiner ``"network"`` or ``"mean"`` only).
    member_split: str = "inner"
    #: How the members' test probabilities are pooled: ``"geometric"`` (normalised mean of
    #: the log-probabilities, as the stacking sees them) or ``"arithmetic"``.
    pooling: str = "geometric"
    #: Speaker normalisation of both members (:mod:`ser_utils.features.speaker_norm`): the network's
    #: log-mel bins minus the speaker's mean, the SVM's features z-normalised within each
    #: speaker — statistics over the speaker's arrays rows whatever their label, the test
    #: speaker's unlabelled recordings included. (:meth:`Recipe.from_dict` reads a saved recipe without
    #: this key as off.)
    speaker_norm: bool = True
    #: Give the network the SVM's features too, packed after the log-mel frames
    #: (:class:`ser_utils.deep.views.PackedFeatures`, ``improved_tcn(packed_columns=…)``).
    network_features: bool = False
    #: Feature set of the SVM (:func:`ser_utils.features.extract_features`): ``"egemaps"``
    #: (openSMILE's 88 eGeMAPSv02 functionals), ``"functionals"`` (of the 34 frame features) or
    #: ``"whisper"`` (the recipe's pretrained encoder, pooled; its own audio chain).
    features: str = "egemaps"
    #: Recipe whose audio chain the SVM's features are made from, as ``ser traditional
    #: --recipe``: ``"improved"`` (16 kHz, trimmed, no noise reduction) or ``"original"``
    #: (the original's chain, whose noise reduction costs eGeMAPS most of its value:
    #: benchmarks/improved_variants.py). (:meth:`Recipe.from_dict` reads a saved recipe without
    #: this key as original.)
    features_recipe: str = "improved"
    #: ``"softmax"`` of the decision values or ``"platt"`` (sigmoids on cross-validated
    #: decision values) (:func:`ser_utils.traditional.svm_probabilities`).
    svm_calibration: str = "softmax"
    #: ``"stacking"``: a multinomial logistic regression on the log-probabilities of both,
    #: fitted on the inner out-of-fold predictions; ``"weight"``: the weighted mean with the
    #: network weight of best inner out-of-fold UA; ``"mean"``: the plain mean;
    #: ``"network"``: the network ensemble alone (the SVM only reported beside it).
    combiner: str = "stacking"
    #: Inverse regularisation of the stacking regression.
    stacking_c: float = 0.1
    #: Balanced class weights in the stacking regression.
    stacking_class_weight: bool = True


@dataclass(frozen=True)
class Recipe:
    """Everything a run of the pipeline needs, for one corpus."""

    name: str
    corpus: str
    profile: str
    audio: AudioConfig
    features: FrameFeatureConfig
    spectrogram: SpectrogramConfig
    model: ModelConfig
    training: TrainingConfig
    #: Ensemble + late fusion with an SVM on utterance features (the ``fusion`` recipe); None: one network.
    fusion: FusionConfig | None = None
    #: The pretrained speech encoder of the ``whisper`` feature set (``--encoder NAME_OR_PATH``:
    #: a CTranslate2 model folder or a standard Whisper name); None: the bundled tiny.en.
    encoder: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Recipe:
        return cls(
            name=data["name"],
            corpus=data["corpus"],
            profile=data["profile"],
            audio=AudioConfig(**data["audio"]),
            features=FrameFeatureConfig(**data["features"]),
            spectrogram=SpectrogramConfig(**data["spectrogram"]),
            model=ModelConfig(
                data["model"]["name"],
                {
                    key: tuple(value) if isinstance(value, list) else value
                    for key, value in data["model"]["params"].items()
                },
            ),
            training=TrainingConfig(**data["training"]),
            fusion=FusionConfig(
                **{"speaker_norm": False, "features_recipe": "original", **data["fusion"]}
            )
            if data.get("fusion")
            else None,
            encoder=data.get("encoder"),
        )


PROFILES: tuple[str, ...] = ("full", "smoke")
RECIPES: tuple[str, ...] = ("original", "improved", "fusion")
#: Recipes on a frozen pretrained speech encoder (its ``whisper`` embeddings), for ``ser
#: evaluate`` / ``ser train``: a head over it, and the fusion recipe with it as the SVM member.
ENCODER_RECIPES: tuple[str, ...] = ("whisper-head", "fusion-whisper")
#: smoke profile: clips of 2 s at 44.1 kHz -> original spectrogram (442, 99).
SMOKE_MSP_IMPROV_LENGTH = 88_200
SMOKE_TESS_LENGTH = 48_000
#: Epochs in the smoke profile: enough for the improved network to learn the synthetic corpus,
#: few enough that every notebook runs in CI in minutes (the full profile keeps 25 / 60). The
#: original model stays at chance on the synthetic corpus whatever its smoke epochs (12 gave
#: UA 0.25): 4 show that it trains.
SMOKE_ORIGINAL_EPOCHS = 4
SMOKE_IMPROVED_EPOCHS = 60
#: The improved recipe's epochs at full size (no early stopping: a cosine schedule to the end).
IMPROVED_EPOCHS = 60
#: Networks of the fusion recipe's ensemble (inner folds), full and smoke profiles.
FUSION_MEMBERS = 5
SMOKE_FUSION_MEMBERS = 5
#: Sessions notebook 07 runs leave-one-session-out on in the smoke profile (every one in full).
SMOKE_LOSO_FOLDS: tuple[int, ...] = (1,)
IMPROVED_SAMPLE_RATE = 16_000
IMPROVED_LENGTH_SECONDS = 6.0


def check_choice(value: str, choices, what: str) -> str:
    """``value`` when it is one of ``choices``; otherwise a :class:`~ser_utils.errors.ChoiceError`
    naming ``what`` was given and the choices — the one check of every name the package takes.

    >>> check_choice("loso", ("loso", "speaker"), "protocol")
    'loso'
    >>> check_choice("kfold", ("loso", "speaker"), "protocol")
    Traceback (most recent call last):
    ser_utils.errors.ChoiceError: unknown protocol 'kfold': expected one of loso, speaker
    """
    if value not in choices:
        raise ChoiceError(f"unknown {what} {value!r}: expected one of {', '.join(choices)}")
    return value


def original_recipe(corpus: str = "msp-improv", profile: str = "full") -> Recipe:
    """The original study's chain for ``corpus``, at ``profile`` size."""
    check_choice(corpus, CORPORA, "corpus")
    check_choice(profile, PROFILES, "profile")
    smoke = profile == "smoke"
    if corpus == "tess":
        audio = AudioConfig(
            scaling="original",
            target_sr=TESS_ORIGINAL_SAMPLE_RATE,
            target_length=SMOKE_TESS_LENGTH if smoke else TESS_ORIGINAL_LENGTH,
            denoise=True,
        )
        features = FrameFeatureConfig(hop_length=TESS_ORIGINAL_HOP)
    else:
        audio = AudioConfig(
            scaling="original",
            target_sr=None,
            trim=True,
            target_length=SMOKE_MSP_IMPROV_LENGTH if smoke else MSP_IMPROV_ORIGINAL_LENGTH,
            denoise=True,
        )
        features = FrameFeatureConfig(hop_length=MSP_IMPROV_ORIGINAL_HOP)
    training = TrainingConfig(epochs=SMOKE_ORIGINAL_EPOCHS) if smoke else TrainingConfig()
    model = ModelConfig(
        name="original_cnn_convlstm",
        params={"filters": (8, 16), "convlstm_filters": 16, "dense_units": 32} if smoke else {},
    )
    return Recipe(
        "original",
        corpus,
        profile,
        audio,
        features,
        SpectrogramConfig(kind="original"),
        model,
        training,
    )


def improved_recipe(corpus: str = "msp-improv", profile: str = "full") -> Recipe:
    """The fixed chain: 16 kHz, trimming, log-mel input at the recorded level, a temporal
    convolution network that standardises with training-set statistics and sees the
    utterance's mean spectrum (:func:`ser_utils.deep.models.improved_tcn`), class weights, a
    cosine learning-rate schedule over a fixed number of epochs and a speaker-grouped
    validation part (a stratified one when a single training speaker is left, as under
    TESS leave-one-speaker-out).

    Level is kept: no peak normalisation and no per-utterance standardisation, which
    together removed loudness, a cue that separates angry from happy
    (benchmarks/improved_variants.py measures each step). SpecAugment and mixup are
    available in :class:`TrainingConfig` but off: on the synthetic corpus SpecAugment
    lowered UA and mixup moved it by less than the spread between folds.

    No early stopping: with two or three held-out speakers the validation accuracy swings
    from epoch to epoch, a noisy signal to stop on; the cosine schedule ends every run at a
    small learning rate instead, and the validation curves stay as a diagnostic.

    Spectral-gating noise reduction is off: it is about 90 % of the original chain's
    preprocessing time (benchmarks/arrays.py); ``dataclasses.replace(recipe.audio,
    denoise=True)`` turns it back on (before padding, so the padding stays silent)."""
    check_choice(corpus, CORPORA, "corpus")
    check_choice(profile, PROFILES, "profile")
    smoke = profile == "smoke"
    seconds = 2.0 if smoke else IMPROVED_LENGTH_SECONDS
    audio = AudioConfig(
        scaling="none",
        target_sr=IMPROVED_SAMPLE_RATE,
        trim=True,
        target_length=int(seconds * IMPROVED_SAMPLE_RATE),
        denoise=False,
        denoise_before_pad=True,
    )
    features = FrameFeatureConfig(
        hop_length=TESS_ORIGINAL_HOP if corpus == "tess" else MSP_IMPROV_ORIGINAL_HOP
    )
    training = TrainingConfig(
        epochs=SMOKE_IMPROVED_EPOCHS if smoke else IMPROVED_EPOCHS,
        # smoke: ~120 training utterances per fold; batches of 16 give them enough steps
        batch_size=16 if smoke else 32,
        learning_rate=3e-3,
        validation_split="speaker",
        early_stopping_patience=None,
        class_weight=True,
        learning_rate_schedule="cosine",
    )
    model = ModelConfig(
        name="improved_tcn",
        params={
            "input_normalisation": "corpus",
            **({"channels": 32, "dilations": (1, 2, 4)} if smoke else {}),
        },
    )
    return Recipe(
        "improved",
        corpus,
        profile,
        audio,
        features,
        SpectrogramConfig(kind="logmel"),
        model,
        training,
    )


def fusion_recipe(corpus: str = "msp-improv", profile: str = "full") -> Recipe:
    """The improved recipe's network as an ensemble over speaker-grouped inner folds, fused
    with the RBF SVM on eGeMAPS (made from the improved recipe's audio chain, as ``ser
    traditional --recipe improved --features egemaps``) by a stacking regression fitted on the inner
    out-of-fold predictions; both members speaker-normalised, with statistics that use no
    label but do use the test speaker's unlabelled recordings (:class:`FusionConfig`,
    :mod:`ser_utils.features.speaker_norm`; benchmarks/improved_variants.py)."""
    improved = improved_recipe(corpus, profile)
    return dataclasses.replace(
        improved,
        name="fusion",
        fusion=FusionConfig(members=SMOKE_FUSION_MEMBERS if profile == "smoke" else FUSION_MEMBERS),
    )


#: The whisper-head recipe's epochs (full and smoke: the head is small, its input cached).
ENCODER_HEAD_EPOCHS = 40
SMOKE_ENCODER_HEAD_EPOCHS = 30


def whisper_head_recipe(corpus: str = "msp-improv", profile: str = "full") -> Recipe:
    """A small network over the frozen Whisper encoder: mean + std pooling of its frames (the
    cached ``whisper`` feature set, :mod:`ser_utils.features.encoders`), a corpus-statistics
    normalisation, one dense layer (128 ReLU units, dropout 0.3) and a softmax
    (:func:`ser_utils.deep.models.encoder_head`); Adam 1e-3, batches of 32, class weights, a
    fixed number of epochs, a speaker-grouped validation part for the learning curves. The
    encoder reads each whole clip at 16 kHz (not trimmed, cropped or padded)."""
    improved = improved_recipe(corpus, profile)
    smoke = profile == "smoke"
    return dataclasses.replace(
        improved,
        name="whisper-head",
        audio=AudioConfig(target_sr=IMPROVED_SAMPLE_RATE),
        model=ModelConfig(name="encoder_head", params={"units": 128, "dropout": 0.3}),
        training=dataclasses.replace(
            improved.training,
            epochs=SMOKE_ENCODER_HEAD_EPOCHS if smoke else ENCODER_HEAD_EPOCHS,
            batch_size=32,
            learning_rate=1e-3,
            learning_rate_schedule="constant",
        ),
    )


def fusion_whisper_recipe(corpus: str = "msp-improv", profile: str = "full") -> Recipe:
    """The fusion recipe with the frozen Whisper encoder as its SVM member: the improved
    recipe's network ensemble fused with the RBF SVM on speaker-normalised mean + std Whisper
    embeddings (``ser traditional --features whisper --speaker-norm``) instead of eGeMAPS."""
    fusion = fusion_recipe(corpus, profile)
    return dataclasses.replace(
        fusion, name="fusion-whisper", fusion=dataclasses.replace(fusion.fusion, features="whisper")
    )


def get_recipe(name: str, corpus: str, profile: str) -> Recipe:
    """The recipe ``name`` (``original`` | ``improved`` | ``fusion`` | ``whisper-head`` |
    ``fusion-whisper``) for ``corpus`` at ``profile``
    size: how a name given on the command line becomes a :class:`Recipe`
    (:func:`ser_utils.paths.profile` tells the profile of a corpus folder).

    >>> get_recipe("original", "msp-improv", "full").spectrogram.kind
    'original'
    """
    check_choice(name, RECIPES + ENCODER_RECIPES, "recipe")
    makers = {
        "original": original_recipe,
        "improved": improved_recipe,
        "fusion": fusion_recipe,
        "whisper-head": whisper_head_recipe,
        "fusion-whisper": fusion_whisper_recipe,
    }
    return makers[name](corpus, profile)


# ------------------------------------------------------------- controls and repeats
#: Seed of the permuted-label control (labels shuffled within each training part).
CONTROL_PERMUTATION_SEED = 0
#: Training seeds of the original 4-fold protocol: several draws in the full profile (the
#: original reported one), one in the smoke profile to keep CI fast.
ORIGINAL_4FOLD_TRAINING_SEEDS: dict[str, tuple[int, ...]] = {"full": (0, 1, 2), "smoke": (0,)}

#: The original's CNN-ConvLSTM exploration: pooling type and size, filters of the first conv
#: block (the second has twice as many), Adam learning rate, L1 strength.
ORIGINAL_EXPLORATION_GRID: dict[str, tuple] = {
    "pooling": ("max", "average"),
    "pool_size": (2, 3, 4, 5),
    "filters": (16, 32, 64),
    "learning_rate": (1e-5, 1e-4, 5e-4, 1e-3),
    "l1": (1e-3, 1e-2),
}
#: Epochs of each exploration variant in the smoke profile (the full profile trains the recipe's 25).
SMOKE_EXPLORATION_EPOCHS = 2
#: The original's cross-validation of the RBF SVM on acted labels: ``cross_val_score(…, cv=5)``.
ORIGINAL_ACTED_CV = 5
#: Validation accuracies the original's exploration reached (lowest, highest).
ORIGINAL_EXPLORATION_VAL_ACCURACY: tuple[float, float] = (0.43, 0.55)
