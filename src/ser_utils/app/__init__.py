"""The application: the ``ser`` command (argument parsing only; one module per command group),
the pipeline runner of ``ser run`` and the helpers the notebooks start with.

Modules
-------
:mod:`~ser_utils.app.cli`
    ``ser``: the parser, ``main``, one-line errors and exit statuses.
:mod:`~ser_utils.app.cli_docs`
    ``docs/cli.md``, written from the parser.
:mod:`~ser_utils.app.commands`, :mod:`~ser_utils.app.data_commands`, :mod:`~ser_utils.app.model_commands`
    The commands, registered by group.
:mod:`~ser_utils.app.pipeline`
    ``ser data prepare`` and ``ser run``.
:mod:`~ser_utils.app.notebook`
    The notebooks' set-up cell and their Colab badges.
:mod:`~ser_utils.app.colab`
    The notebooks' Colab cell: clone or copy, then install with every extra the notebooks import.
"""
