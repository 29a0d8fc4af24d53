"""Shell scripts of the project pass shellcheck (warnings included)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPTS = sorted(p for p in Path(__file__).parents[2].glob("**/*.sh") if ".venv" not in p.parts and "build" not in p.parts)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.name))
def test_shellcheck_clean(script):
    result = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_build_script_is_checked():
    assert any(p.name == "build.sh" for p in SCRIPTS)
