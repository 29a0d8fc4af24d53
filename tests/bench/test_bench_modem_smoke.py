"""The modem benchmark keeps working: a short `python -m bench modem` with two lines.

Only that it measured something is checked, never how good the figures are (`make bench-modem`
reports them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.solo
def test_two_modem_lines_through_the_benchmark(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bench", "modem", "--lines", "2", "--seconds", "2",
                             "--idle-seconds", "1", "--settle-seconds", "0.5", "--out", str(tmp_path),
                             "--work-dir", str(tmp_path / "work")],
                            cwd=ROOT, capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "per modem line" in result.stdout and "JSON:" in result.stdout
    [path] = tmp_path.glob("modem-*.json")
    report = json.loads(path.read_text())
    assert report["records"] == {"calls": 2, "answered_and_recorded": 2, "end_reasons": ["caller hung up"]}
    assert report["idle"]["cpu_pct_of_core"] is not None and report["cpu_pct_of_core_per_line"] is not None
    for line in report["per_line"].values():
        assert line["state"] == "in_call" and line["bridge_frames"]["ticks"] > 0
        assert line["bridge_frames"]["p50_ms"] is not None and line["rx"]["frames_out"] > 0
    assert report["engine_exit_code"] == 0 and not report["engine_log_problems"]
