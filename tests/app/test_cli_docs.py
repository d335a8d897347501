"""docs/cli.md is what the parser says (ser_utils.app.cli_docs); the README's command lines name
real commands and options."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ser_utils.app import cli_docs

ROOT = Path(__file__).resolve().parents[2]


def _options(parser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


COMMANDS = {name: parser for name, parser, _ in cli_docs.command_parsers()}


def test_docs_cli_md_is_what_the_parser_says():
    committed = (ROOT / "docs" / "cli.md").read_text()
    assert committed == cli_docs.cli_markdown(), (
        f"docs/cli.md is stale: run `{cli_docs.REGENERATE}` and commit it"
    )


def test_the_page_lists_every_command_with_its_usage_and_every_listed_option():
    page = cli_docs.cli_markdown()
    for name, parser in COMMANDS.items():
        section = page.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert cli_docs.usage(name, parser) in section
        for action in parser._actions:
            if action.option_strings[-1:] not in ([], ["--help"]) and action.help != "==SUPPRESS==":
                assert f"`{action.option_strings[-1]}" in section, (name, action.option_strings)
    assert "--jobs " not in page and "--set " not in page  # hidden older names are not listed


def test_usage_marks_optional_options_and_spells_out_repeated_ones():
    usage = cli_docs.usage("ser evaluate", COMMANDS["ser evaluate"])
    assert usage.startswith("ser evaluate CORPUS ROOT [--recipe NAME] --protocol NAME ")
    assert "[--seeds SEED [SEED ...]]" in usage and "[--save-models]" in usage


def _shown_commands(readme: str) -> list[tuple[str, list[str]]]:
    """Every ``ser COMMAND …`` a Markdown text shows (code blocks and inline code), with its flags."""
    code = re.findall(r"```[a-z]*\n(.*?)```", readme, flags=re.S) + re.findall(
        r"`([^`\n]+)`", readme
    )
    names = sorted(COMMANDS, key=len, reverse=True)  # 'ser data check' before 'ser data'
    found = []
    for text in code:
        for line in text.splitlines():
            line = line.split("#", 1)[0]
            for segment in re.split(r"(?=(?<![\w-])ser )", line.replace(".venv/bin/ser", "ser")):
                segment = segment.split("|  ")[0]
                name = next((n for n in names if re.match(rf"{n}(?![\w-])", segment)), None)
                unknown = re.match(r"ser ([a-z][\w-]*)", segment)  # lower case: not a placeholder
                name = name or (unknown and f"ser {unknown.group(1)}")
                if name:
                    found.append((name, re.findall(r"(?<![\w-])--[a-z][a-z-]*", segment)))
    return found


def test_every_command_and_option_the_readme_shows_exists():
    shown = _shown_commands((ROOT / "README.md").read_text())
    assert {"ser evaluate", "ser dry-run", "ser synth", "ser traditional"} <= {n for n, _ in shown}
    for name, flags in shown:
        assert name in COMMANDS, f"README: `{name}` is not a command"
        missing = set(flags) - _options(COMMANDS[name])
        assert not missing, f"README: `{name}` has no option {sorted(missing)}"


def test_the_readme_synopsis_names_every_command():
    readme = (ROOT / "README.md").read_text()
    synopsis = readme.split("## Command line", 1)[1].split("```", 2)[1]
    for name in COMMANDS:
        assert re.search(rf"(?m)(^|\|  ){name}(?![\w-])", synopsis), f"README synopsis lacks {name}"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "```\nser evaluate msp-improv R --protocol loso --bogus\n```",
            [("ser evaluate", ["--protocol", "--bogus"])],
        ),
        (
            "run `.venv/bin/ser data check tess T --strict` first",
            [("ser data check", ["--strict"])],
        ),
        (
            "`ser data check A  |  ser data manifest A --out m.csv`",
            [("ser data check", []), ("ser data manifest", ["--out"])],
        ),
        ("`make dry-run`, `user --out x`, `ser COMMAND --help`", []),
        ("`ser bogus --out x`", [("ser bogus", ["--out"])]),
    ],
)
def test_the_readme_check_reads_commands_and_their_flags(text, expected):
    assert _shown_commands(text) == expected
