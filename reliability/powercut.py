"""A power cut on the database, as near as a test gets: a child process writes through the store's
single writer (firmware/store/writer.py) and is killed with SIGKILL at random moments, many times.
The child reports each record on a pipe only once its transaction has committed; afterwards
`PRAGMA integrity_check` must say ok and every reported record must be there.

SIGKILL loses the process, not the kernel's page cache: a real power cut also tests the disk's
honesty about fsync, which `synchronous=FULL` relies on and no test on this machine can."""

from __future__ import annotations

import random
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from reliability.engine import ROOT
from reliability.report import Report


def child(data_dir: Path, seed: int) -> None:
    """Write call records (with queue events and log rows in the same transaction) until killed."""
    from firmware.store.writer import Writer

    rng = random.Random(seed)
    writer = Writer(data_dir)
    sys.stdout.write("ready 0\n")  # the schema is in place: kills from now on land among writes
    sys.stdout.flush()
    n = 0
    while True:
        n += 1
        call_id = f"s{seed}-{n}"
        rows = rng.choice([1, 1, 1, 20, 200])  # sometimes a big transaction, to be killed inside one

        def job(db, call_id=call_id, rows=rows):
            db["calls"].insert({"id": call_id, "started_at": "2026-01-01T00:00:00Z", "caller_id": "5550100",
                                "line": "gw", "disposition": "answered", "ended_at": "2026-01-01T00:01:00Z"})
            db["queue_events"].insert_all([{"at": "2026-01-01T00:00:00Z", "call_id": call_id, "queue": "q",
                                            "event": "enter", "detail": "x" * 200} for _ in range(rows)])
            db["log"].insert({"at": "2026-01-01T00:00:00Z", "level": "info", "source": "powercut",
                              "message": call_id})
            return rows

        writer.submit(job, wait=True, timeout=30)  # returns once committed (synchronous=FULL)
        sys.stdout.write(f"{call_id} {rows}\n")
        sys.stdout.flush()


def run(work: Path, kills: int = 50, seed: int = 1, max_delay_s: float = 0.6) -> Report:
    work.mkdir(parents=True, exist_ok=True)
    data_dir = work / "data"
    data_dir.mkdir(exist_ok=True)
    rng = random.Random(seed)
    report = Report("power cut on the database (SIGKILL of a writing process)",
                    tried={"kills": kills, "seed": seed, "kill after (s)": f"uniform 0.05 .. {max_delay_s}",
                           "writes": "1 call + 1..200 queue events + 1 log row per transaction"})
    committed: dict[str, int] = {}
    bad_integrity, lost, startup_failures = 0, [], 0
    start = time.monotonic()
    for k in range(kills):
        proc = subprocess.Popen([sys.executable, "-m", "reliability.powercut", "child", str(data_dir), str(seed * 1000 + k)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = proc.stdout.readline()  # "ready": the writer is open
        if not first.startswith(b"ready"):
            startup_failures += 1
        deadline = time.monotonic() + rng.uniform(0.05, max_delay_s)
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                line = proc.stdout.readline()
                if not line:
                    break
                call_id, rows = line.decode().split()
                committed[call_id] = int(rows)
        proc.kill()
        out, err = proc.communicate()
        for line in out.decode().splitlines():  # reported before the kill landed
            call_id, rows = line.split()
            committed[call_id] = int(rows)
        if proc.returncode != -9:
            startup_failures += 1
            report.notes.append(f"child {k} exited {proc.returncode}: {err.decode()[-500:]}")
        ok, missing = _verify(data_dir, committed)
        bad_integrity += not ok
        lost += missing
    report.figures["records committed and reported"] = len(committed)
    report.figures["queue events in them"] = sum(committed.values())
    report.figures["seconds"] = round(time.monotonic() - start, 1)
    report.check("the child was killed every time (not exited by itself)", startup_failures == 0)
    report.check("PRAGMA integrity_check ok after every kill", bad_integrity == 0, f"{bad_integrity} times not ok")
    report.check("no committed record lost (with all its queue events)", not lost, str(lost[:5]))
    report.check("some records were committed at all", len(committed) > kills // 2)
    return report


def _verify(data_dir: Path, committed: dict[str, int]) -> tuple[bool, list[str]]:
    """Integrity of the database as the next start would open it, and which committed records are missing."""
    conn = sqlite3.connect(data_dir / "switchboard.db")
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        have = dict(conn.execute("SELECT call_id, count(*) FROM queue_events GROUP BY call_id").fetchall())
        calls = {r[0] for r in conn.execute("SELECT id FROM calls")}
    finally:
        conn.close()
    missing = [c for c, rows in committed.items() if c not in calls or have.get(c) != rows]
    return ok, missing


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    child(Path(sys.argv[2]), int(sys.argv[3]))
