"""What the web admin's Recordings and System pages do, from the command line (and so from the
technician's console): list and delete recordings, apply retention now, back up, restore (a bad
backup is refused, changing nothing), restart the engine."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from firmware.store import backup
from tests.e2e.boxes import box
from tests.e2e.conftest import ROOT


def typed(engine, *args: str, answer: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(engine.data_dir), *args],
                          cwd=ROOT, input=answer + "\n", capture_output=True, text=True, timeout=120)


@pytest.mark.long(30)
def test_recordings_backup_restore_and_restart_from_the_command_line(make_engine, phone, tmp_path):
    engine = make_engine(box())
    before = engine.status()
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--talk", "3", "--tone", "600")
    caller.result()
    call = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"] and c["recording"]],
                           what="a recorded call")[0]
    figures = engine.cli("figures").stdout
    assert "1 offered to a queue, 1 answered" in figures and "service level (answered within 20 s): 100 %" in figures
    assert "st1" in figures and "answered    1" in figures
    timeline = engine.cli("call", call["id"]).stdout
    assert "disposition  answered" in timeline and all(e in timeline for e in ("enter", "ring", "connect"))
    found = engine.cli("calls", "--operator", "st1", "--outcome", "answered", "--since", call["started_at"][:10]).stdout
    assert (call["caller_id"] or "-") in found and "answered" in found
    assert "answered" not in engine.cli("calls", "--outcome", "abandoned").stdout.split("\n", 1)[1]
    csv_text = engine.cli("calls", "--caller", call["caller_id"] or "", "--csv").stdout.splitlines()
    assert csv_text[0].startswith("id,line,caller_id") and csv_text[1].startswith(call["id"] + ",")
    assert engine.cli("calls", "--since", "yesterday", check=False).returncode == 1
    listed = engine.cli("recordings").stdout
    assert call["id"] in listed and "MB" in listed and "retention: keep_days no limit" in listed

    kept = typed(engine, "recordings", "delete", call["id"], answer="no")
    assert kept.returncode == 1 and "nothing done" in kept.stdout
    deleted = typed(engine, "recordings", "delete", call["id"], answer="delete")
    assert deleted.returncode == 0 and "deleted" in deleted.stdout, deleted.stderr
    assert not engine.wait_for(lambda: [c for c in engine.calls() if c["id"] == call["id"]])[0]["recording"]
    assert "deleted the recording of call" in engine.cli("recordings").stdout  # the deletion log
    assert "no retention limits are set" in engine.cli("recordings", "retention").stdout

    out = tmp_path / "backup.zip"
    engine.cli("backup", str(out))
    assert backup.check(out, engine.data_dir)["format"]
    assert engine.cli("backup", str(out), check=False).returncode == 1  # never overwritten unasked

    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("manifest.json", "{}")
    refused = typed(engine, "restore", str(broken), answer="restore")
    assert refused.returncode == 1 and "refused; nothing changed" in refused.stdout
    assert engine.status()["pid"] == before["pid"]  # the engine went on

    assert typed(engine, "restart", answer="").returncode == 1
    restarted = typed(engine, "restart", answer="restart")
    assert restarted.returncode == 0 and "stopping" in restarted.stdout
    engine.restarted(before["pid"])  # started again by `switchboard run`, as systemd would
    assert engine.status()["operators"][0]["name"] == "st1"
