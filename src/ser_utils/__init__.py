"""ser_utils: the shared package behind the speech emotion recognition notebooks and the
``ser`` command.

One folder per stage, each importing only the stages below it: :mod:`~ser_utils.app` (the
``ser`` command, the pipeline, the notebooks' helpers) → :mod:`~ser_utils.experiments` (the
runs) → :mod:`~ser_utils.traditional`, :mod:`~ser_utils.deep`, :mod:`~ser_utils.reports` →
:mod:`~ser_utils.evaluation` (protocols, metrics, the fold loop, tables) →
:mod:`~ser_utils.features` → :mod:`~ser_utils.corpora` → :mod:`~ser_utils.audio` →
:mod:`~ser_utils.synthetic` → the base modules :mod:`~ser_utils.config`, :mod:`~ser_utils.paths`,
:mod:`~ser_utils.errors`, :mod:`~ser_utils.storage` and :mod:`~ser_utils.progress`.

Importing the package is cheap: TensorFlow is imported only by the modules of
:mod:`ser_utils.deep` that build and train models, when a deep model is needed.
"""

__version__ = "0.1.0"
