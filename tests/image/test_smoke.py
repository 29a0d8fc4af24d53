"""The image's smoke test (image/smoke.sh): the product installed in a Debian 12 arm64 root
filesystem and its pure unit tests run there, under qemu-user-static on an x86-64 machine. Skipped
only when this machine cannot run arm64 binaries (the script says why)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.long(300)
@pytest.mark.timeout(900)
def test_the_product_installs_and_its_pure_tests_pass_on_arm64():
    command = ["bash", str(ROOT / "image" / "smoke.sh"), str(ROOT / "build" / "image-smoke")]
    if os.geteuid() != 0:
        command = ["sudo", "-n", "--preserve-env=PYTHON"] + command
    result = subprocess.run(command, env=dict(os.environ, PYTHON=sys.executable), capture_output=True,
                            text=True, timeout=880)
    if result.returncode == 77:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "arm64 runs: aarch64" in result.stdout
    summary = result.stdout.strip().splitlines()[-2]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
