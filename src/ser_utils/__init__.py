"""ser_utils: the shared package behind the speech emotion recognition notebooks and the
``ser`` command.

Importing the package is cheap: TensorFlow is imported only by :mod:`ser_utils.deep.models`
and :mod:`ser_utils.deep.training`, when a deep model is needed.
"""

__version__ = "0.1.0"
