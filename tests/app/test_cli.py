"""One vocabulary in every ``ser`` command: one name per option, one meaning and help per name."""

from __future__ import annotations

import argparse
import re
from collections import defaultdict

import pytest

from ser_utils.app.cli import build_parser
from ser_utils.app.cli_docs import command_parsers

COMMANDS = {name: parser for name, parser, _ in command_parsers()}


def _listed(parser) -> dict[str, argparse.Action]:
    return {
        action.option_strings[-1]: action
        for action in parser._actions
        if action.option_strings and action.help is not argparse.SUPPRESS
    }


def test_one_option_name_for_workers_and_one_for_the_output():
    for name, parser in COMMANDS.items():
        listed = _listed(parser)
        assert not {"--jobs", "--workers", "--set", "--output", "--out-dir"} & set(listed), name
        if any(a.dest in {"n_jobs"} for a in parser._actions):
            assert "--n-jobs" in listed, name
    writers = {name for name, parser in COMMANDS.items() if "--out" in _listed(parser)}
    assert writers >= {
        "ser synth",
        "ser data manifest",
        "ser folds",
        "ser arrays",
        "ser features",
        "ser traditional",
        "ser train",
        "ser evaluate",
    }


def test_an_option_has_one_meaning_its_help_and_metavar_the_same_in_every_command():
    helps, metavars = defaultdict(set), defaultdict(set)
    for parser in COMMANDS.values():
        for option, action in _listed(parser).items():
            # what follows '; ' says this command's default or what it takes of the option
            helps[option].add(re.split(r"; | \(default", action.help % vars(action))[0])
            metavars[option].add(action.metavar)
    assert {o: h for o, h in helps.items() if len(h) > 1 and o != "--out"} == {}
    # --out alone names what it writes: FILE.csv, DIR or RUN_DIR
    assert {o: m for o, m in metavars.items() if len(m) > 1 and o != "--out"} == {}
    assert all(h.startswith("where to write ") for h in helps["--out"])
    assert len(helps["--recipe"]) == len(helps["--protocol"]) == len(helps["--n-jobs"]) == 1


@pytest.mark.parametrize(
    "argv, dest, value",
    [
        (["traditional", "tess", "T", "--jobs", "3"], "n_jobs", 3),  # the older name, unlisted
        (["traditional", "tess", "T", "--n-jobs", "3"], "n_jobs", 3),
        (["traditional", "tess", "T"], "n_jobs", 1),
        (["features", "tess", "T", "--features", "egemaps", "--out", "o"], "features", "egemaps"),
        (["dry-run", "msp-improv", "M", "--seeds", "0", "1"], "seeds", [0, 1]),
        (["evaluate", "msp-improv", "M", "--protocol", "loso", "--seeds", "4"], "seeds", [4]),
        (["synth", "--out", "d"], "out", "d"),
    ],
)
def test_options_parse_to_the_values_the_commands_read(argv, dest, value):
    got = getattr(build_parser().parse_args(argv), dest)
    assert (str(got) if dest == "out" else got) == value


@pytest.mark.parametrize(
    "argv, message",
    [
        (["synth", "d"], "required: --out"),
        (["features", "tess", "T", "--set", "frames", "--out", "o"], "required: --features"),
        (["evaluate", "msp-improv", "M"], "required: --protocol"),
    ],
)
def test_old_or_missing_names_are_refused_with_the_usage(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
