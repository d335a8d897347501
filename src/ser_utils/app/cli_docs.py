"""``docs/cli.md``, written from the ``ser`` parser: every command, its usage and its options.

``python -m ser_utils.app.cli_docs > docs/cli.md`` rewrites the page; ``tests/app/test_cli_docs.py``
fails when the committed page differs from what the parser says. The text is built from the
parser's actions, not from ``format_help``, so it reads the same on every Python version and
terminal width.
"""

from __future__ import annotations

import argparse
import sys

from .cli import build_parser

__all__ = ["REGENERATE", "cli_markdown", "command_parsers", "usage"]

#: The command that rewrites the page (printed by the test when the page is stale).
REGENERATE = "python -m ser_utils.app.cli_docs > docs/cli.md"


def command_parsers(parser: argparse.ArgumentParser | None = None, prefix: str = "ser"):
    """``(name, parser, help)`` of every leaf command (``ser data check`` …), in ``ser --help``'s order."""
    parser = parser or build_parser()
    found = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
            if nested:
                found += command_parsers(sub, f"{prefix} {name}")
            else:
                found.append((f"{prefix} {name}", sub, helps.get(name, "")))
    return found


def _metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.metavar:
        name = action.metavar
    elif action.choices:
        name = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        name = action.dest.upper()
    return {"+": f"{name} [{name} ...]", "*": f"[{name} ...]", "?": f"[{name}]"}.get(
        action.nargs, name
    )


def _shown(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)
    ]


def _invocation(action: argparse.Action) -> str:
    metavar = _metavar(action)
    if not action.option_strings:
        return metavar
    return f"{action.option_strings[-1]} {metavar}".strip()


def usage(name: str, parser: argparse.ArgumentParser) -> str:
    """``name`` followed by its arguments, optional ones in brackets, as argparse orders them."""
    parts = [name]
    for action in _shown(parser):
        text = _invocation(action)
        parts.append(text if not action.option_strings or action.required else f"[{text}]")
    return " ".join(parts)


def _help(action: argparse.Action) -> str:
    text = (action.help or "") % {**vars(action), "prog": ""}
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def cli_markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """The Markdown page of every ``ser`` command."""
    parser = parser or build_parser()
    commands = command_parsers(parser)
    lines = [
        "# The `ser` command",
        "",
        f"Written from the parser by `{REGENERATE}`; `ser COMMAND --help` prints the same. "
        "Every command takes `-h` / `--help`; `ser -v COMMAND …` logs what each stage does.",
        "A fixable error is one line, `error: …`, and exit status 2 ([reliability](reliability.md)).",
        "",
    ]
    lines += [f"- [`{name}`](#{name.replace(' ', '-')}): {text}" for name, _, text in commands]
    for name, sub, text in commands:
        lines += ["", f"## {name}", "", text[:1].upper() + text[1:] + ".", "", "```"]
        lines += [usage(name, sub), "```", "", "| argument | meaning |", "|---|---|"]
        for action in _shown(sub):
            invocation = ", ".join(action.option_strings[:-1] + [_invocation(action)])
            lines.append(f"| `{invocation}` | {_help(action)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(cli_markdown())
