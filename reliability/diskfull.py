"""The disk filling during a recorded call. The data directory is a small tmpfs (we are root here);
a ballast file brings free space down to just above the reserve, so the call's own recording crosses
it; then the disk is filled to the last byte. The call must go on, the recording stop cleanly (a
valid WAV up to where it stopped), the owner be alerted (`switchboard status` and `switchboard log`),
the database stay intact and writable again once space is back."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

from firmware.sim.analysis import tone_seconds
from reliability.engine import CALLER_HZ, ROOT, STATION_HZ, Engine, box
from reliability.report import Report
from reliability.sipwire import Target, place_call

RESERVE_MB = 1.0


def mount_tmpfs(path: Path, size_mb: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"cannot mount a {size_mb} MB tmpfs on {path} (this check needs root): "
                           f"{result.stderr.strip()}")


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill(path: Path, leave_bytes: int) -> int:
    """Grow a ballast file until only `leave_bytes` are free (0: until the filesystem refuses). Its size."""
    written = path.stat().st_size if path.exists() else 0
    with open(path, "ab") as f:
        while True:
            free = shutil.disk_usage(path.parent).free
            chunk = min(1 << 20, free - leave_bytes)
            if chunk <= 0:
                break
            try:
                f.write(b"\0" * chunk)
                f.flush()
                os.fsync(f.fileno())
            except OSError:  # ENOSPC: as full as it gets
                break
            written += chunk
    return written


def run(work: Path, talk_s: float = 14.0, size_mb: int = 8, python: str | None = None, abrupt: bool = False) -> Report:
    """abrupt: something else fills the disk to the last byte at once, so the recorder's own writes fail
    before the engine's guard sees the reserve crossed."""
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    report = Report("disk filled at once during a recorded call" if abrupt else "disk filling during a recorded call",
                    tried={"filesystem": f"tmpfs of {size_mb} MB holding the whole data directory",
                           "recording.min_free_mb": RESERVE_MB, "call talk seconds": talk_s,
                           "steps": "the disk filled to the last byte at once, then space given back" if abrupt else
                           "free space brought to the reserve + 48 kB (the recording crosses it), "
                           "then the disk filled to the last byte, then space given back"})
    mount_tmpfs(data_dir, size_mb)
    engine = None
    try:
        engine = Engine(work, box(stations=1, extra={"recording": {"min_free_mb": RESERVE_MB}}), data_dir=data_dir,
                        python=python).start()
        _call_through_a_full_disk(engine, work, talk_s, report, abrupt)
    finally:
        if engine:
            engine.stop()
            report.check("engine log has no traceback or assertion", engine.clean_log(), engine.log()[-1500:])
        unmount(data_dir)
    return report


def _call_through_a_full_disk(engine: Engine, work: Path, talk_s: float, report: Report, abrupt: bool) -> None:
    ballast = engine.data_dir / "ballast"
    caller = subprocess.Popen([sys.executable, "-m", "firmware.sim.phone", "call", f"sip:100@127.0.0.1:{engine.port}",
                               "--tone", str(CALLER_HZ), "--digits", "1", "--digit-delay", "1.2",
                               "--talk", str(talk_s), "--record", str(work / "caller-heard.wav"), "--json"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), timeout=20,
                        what="the call connected")
        connected_at = time.monotonic()
        time.sleep(2)
        fill(ballast, 0 if abrupt else int(RESERVE_MB * 1e6) + 48_000)
        filled_at = time.monotonic()
        alert = engine.wait_for(lambda: [a for a in engine.status().get("alerts", []) if a["kind"] == "disk"],
                                timeout=15, what="the disk alert")
        report.figures["seconds from the near-full disk to the alert"] = round(time.monotonic() - filled_at, 2)
        report.check("status shows the disk alert", "disk almost full" in alert[0]["message"])
        report.check("`switchboard status` prints the alert", "ALERT disk" in engine.cli("status").stdout)
        fill(ballast, 0)  # now truly full: nothing may break
        report.figures["free bytes after the last fill"] = shutil.disk_usage(engine.data_dir).free
        write = engine.cli("operator", "st1", "pause", check=False)  # makes the engine write to the full disk
        report.figures["a command that writes, on the full disk: exit code"] = write.returncode
        report.check("the engine answers while the disk is full", engine.status()["calls"] != [] and engine.alive())
        result = json.loads(caller.communicate(timeout=talk_s + 30)[0])
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.communicate()
    call = result["calls"][0]
    talked = time.monotonic() - connected_at
    report.check("the call went on to its end (the caller hung up)", call["connected"] and call["disconnected_by"] == "local",
                 str(call))
    heard = tone_seconds(result["record"], STATION_HZ["st1"])
    report.figures["operator tone the caller heard, s"] = round(heard, 1)
    report.check("the caller heard the operator after the disk filled", heard > talk_s - 4, f"{heard:.1f} s")
    conn = sqlite3.connect(f"file:{engine.data_dir / 'switchboard.db'}?mode=ro", uri=True)
    try:
        open_now = conn.execute("SELECT count(*) FROM calls WHERE ended_at IS NULL").fetchone()[0]
    finally:
        conn.close()
    report.figures["call records still open while the disk is full (writes held)"] = open_now
    ballast.unlink()
    freed_at = time.monotonic()
    _check_database_and_recording(engine, report, talked)
    report.figures["seconds from space back to the record written"] = round(time.monotonic() - freed_at, 2)
    try:
        engine.wait_for(lambda: not engine.status().get("alerts"), timeout=10, what="the alert cleared")
        cleared = True
    except TimeoutError:
        cleared = False
    report.check("the alert clears once space is back", cleared)
    code = place_call(Target(*engine.address), timeout=5)
    records = engine.wait_for(lambda: len(engine.calls()) >= 2, timeout=10, what="the next call's record")
    report.check("the database is writable again (the next call is recorded in it)", code == 200 and bool(records))


def _check_database_and_recording(engine: Engine, report: Report, talked: float) -> None:
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], timeout=15, what="the record")[0]
    report.check("the call record closed as answered", rec["disposition"] == "answered", str(rec))
    report.check("`switchboard log` says the recording stopped for the disk",
                 "stopped: disk almost full" in engine.cli("log").stdout)
    conn = sqlite3.connect(f"file:{engine.data_dir / 'switchboard.db'}?mode=ro", uri=True)
    try:
        report.check("PRAGMA integrity_check ok", conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok")
    finally:
        conn.close()
    path = Path(rec["recording"] or "")
    if not report.check("the call has its recording", path.is_file(), str(path)):
        return
    try:
        with wave.open(str(path)) as w:
            frames, rate, width = w.getnframes(), w.getframerate(), w.getsampwidth()
        header_ok = 44 + frames * width == path.stat().st_size
    except (wave.Error, EOFError) as exc:
        report.check("the recording is a valid WAV", False, str(exc))
        return
    seconds = frames / rate
    report.check("the recording is a valid WAV whose header matches its data", header_ok)
    report.figures["recording s / call s (connected to end)"] = f"{seconds:.1f} / {talked:.1f}"
    report.check("the recording stopped early (before the call ended)", 1 < seconds < talked - 3)
    caller = tone_seconds(path, CALLER_HZ)
    report.figures["caller tone in the recording, s"] = round(caller, 1)
    report.check("the recording holds the caller up to where it stopped", caller > seconds - 1.5)
