"""The systemd units pass `systemd-analyze verify` with no output at all (it exits 0 on unknown keys
and bad values, so any output counts as a failure)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).parents[2] / "systemd").glob("*.service"))


@pytest.fixture
def root(tmp_path):
    """A root with systemd's own units and stubs for the programs our units start."""
    shutil.copytree("/lib/systemd/system", tmp_path / "usr/lib/systemd/system", symlinks=True)
    (tmp_path / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        for program in re.findall(r"^Exec\w+=[-@:+!]*(\S+)", unit.read_text(), re.M):
            stub = tmp_path / program.lstrip("/")
            stub.parent.mkdir(parents=True, exist_ok=True)
            stub.write_text("#!/bin/sh\n")
            stub.chmod(0o755)
        shutil.copy(unit, tmp_path / "etc/systemd/system" / unit.name)
    return tmp_path


def test_there_are_units():
    assert any(u.name == "switchboard-engine.service" for u in UNITS)


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_unit_verifies_cleanly(root, unit):
    result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit.name],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_the_check_catches_a_typo(root):
    broken = root / "etc/systemd/system/broken.service"
    engine = (root / "etc/systemd/system/switchboard-engine.service").read_text()
    broken.write_text(engine.replace("Type=notify", "Type=notfy"))
    result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "broken.service"],
                            capture_output=True, text=True, timeout=60)
    assert "notfy" in result.stdout + result.stderr
