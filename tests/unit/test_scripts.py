"""Shell scripts of the project pass shellcheck (warnings included)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SKIP_DIRS = {".venv", "build", ".git", "data", "node_modules", "__pycache__"}  # build/ holds root filesystems


def _scripts(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]  # pruned, not walked and then filtered
        found += [Path(folder) / f for f in files if f.endswith(".sh")]
    return sorted(found)


SCRIPTS = _scripts(Path(__file__).parents[2])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.name))
def test_shellcheck_clean(script):
    result = subprocess.run(["shellcheck", "-x", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_build_script_is_checked():
    assert any(p.name == "build.sh" for p in SCRIPTS)
