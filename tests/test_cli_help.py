"""What `--help`, `--version` and `babysit rules` print: text as written, one rule in full."""

from __future__ import annotations

import re

import pytest
import typer
from typer.core import TyperOption
from typer.testing import CliRunner

from babysit import __version__
from babysit.cli.app import app
from babysit.diagnostics.rules import ALL_RULES

runner = CliRunner()
WIDE = {"COLUMNS": "250", "TERMINAL_WIDTH": "250"}
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def help_text(*args: str) -> str:
    """The --help output with the box drawing removed and whitespace collapsed."""
    result = runner.invoke(app, [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_bracketed_text_and_no_bool_metavar(command: str) -> None:
    shown = help_text(command)
    cmd = typer.main.get_command(app).commands[command]  # type: ignore[attr-defined]
    for param in cmd.params:
        if isinstance(param, TyperOption) and param.help and "[" in param.help:
            for bracketed in re.findall(r"\\?\[[^\]]*\]", param.help):
                assert bracketed.lstrip("\\") in shown, (command, param.name)
    assert "<bool>" not in shown and "<list[" not in shown
    assert not re.search(r"\{[a-z_]+\}", shown)  # arguments are named in capitals


def test_a_wrapped_docstring_paragraph_is_wrapped_by_the_terminal_not_the_source() -> None:
    # search's second paragraph is two source lines; at 250 columns it must be one line.
    result = runner.invoke(app, ["search", "--help"], env=WIDE)
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith("A short coarse stage") and line.endswith("--seed.")
               for line in lines), result.output
    sanity = [line.strip() for line in runner.invoke(app, ["sanity-check", "--help"],
                                                     env=WIDE).output.splitlines()]
    assert any(line.startswith("Exit status:") for line in sanity)  # kept a line of its own


def test_the_texts_a_user_copies_from_help_are_there() -> None:
    assert "[default: runs/<date>-<time>.jsonl]" in help_text("train")
    assert "[default: last]" in help_text("train")
    assert "TOML file of thresholds: [rule-id] name = value" in help_text("diagnose")
    assert "Usage: babysit diagnose [OPTIONS] {LOG}" in help_text("diagnose")


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"babysit {__version__}\n"


def test_rules_lists_one_line_per_rule_and_shows_one_in_full() -> None:
    result = runner.invoke(app, ["rules"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) <= len(ALL_RULES) + 4  # a header, a row per rule, two hints
    assert all(any(line.split()[:1] == [r.id] for line in lines) for r in ALL_RULES)
    full = runner.invoke(app, ["rules", "--all"], env=WIDE).output
    assert "max_dead=0.5" in full and "max_dead=0.5" not in result.output
    one = runner.invoke(app, ["rules", "dead-relu"], env=WIDE)
    assert one.exit_code == 0 and "threshold max_dead = 0.5" in one.output
    assert "remedy 1:" in one.output and "Why:" in one.output


@pytest.mark.parametrize("args", [["rules", "dead-rellu"],
                                  ["diagnose", "x.jsonl", "--set", "dead-rellu.max_dead=1"]])
def test_a_mistyped_rule_id_gets_a_suggestion(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "did you mean dead-relu?" in result.output


def test_the_command_line_starts_without_numpy_or_the_training_stack() -> None:
    # bench/RESULTS.md: start-up 0.45 s -> 0.26 s without numpy; a reader module importing
    # numpy at the top (session 6's StepTable) had quietly brought it back
    import subprocess
    import sys

    code = ("import sys, babysit.cli.app; "
            "print(sorted(m for m in ('numpy', 'threadpoolctl', 'IPython') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_all_extra_names_every_user_extra() -> None:
    # issue 36: extras were found one error at a time
    import re
    import sys
    from pathlib import Path

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # a dependency below 3.11
        import tomli as tomllib

    extras = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    (spec,) = extras["all"]
    named = set(re.fullmatch(r"babysit\[(.+)\]", spec).group(1).split(","))  # type: ignore[union-attr]
    assert named == set(extras) - {"all", "dev", "bench", "zoo"}
