"""The deep branch: arrays, lazy views of them, the Keras models, their training, ensembles,
saved bundles and prediction on new audio.

Importing this package (or its ``arrays``, ``views`` and ``validation`` modules) does not import
TensorFlow; the modules that build and train models do, when they are imported.
"""
