"""Docs kept honest: every settings key and every command is described, and the README names each command."""

import argparse
from pathlib import Path

from firmware import settings
from firmware.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def commands(parser: argparse.ArgumentParser, prefix: str = ""):
    """(full command name, help text, its parser) for every command and subcommand, recursively."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                yield full, helps.get(name), sub
                yield from commands(sub, full + " ")


def top_level_commands() -> list[str]:
    return [name for name, _, _ in commands(build_parser()) if " " not in name]


def test_every_settings_key_is_described():
    docs = settings.field_docs()
    assert "queues.strategy" in docs and "hours.weekly.open" in docs  # nested keys are walked
    undocumented = [key for key, doc in docs.items() if not doc.strip()]
    assert undocumented == []


def test_the_command_walk_finds_nested_commands():
    names = {name for name, _, _ in commands(build_parser())}
    assert {"status", "config", "config import", "sim call"} <= names


def test_every_command_has_help():
    missing = [name for name, help_text, _ in commands(build_parser()) if not (help_text or "").strip()]
    assert missing == []


def test_every_top_level_command_is_in_the_readme():
    readme = ROOT / "README.md"
    assert readme.exists(), "README.md is missing"
    text = readme.read_text()
    missing = [name for name in top_level_commands() if f"switchboard {name}" not in text]
    assert missing == [], f"README.md never shows these commands as 'switchboard NAME': {missing}"
