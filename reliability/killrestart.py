"""The engine killed (SIGKILL) with calls connected and recording, then started again as systemd
would: how fast it takes calls again, and whether every call record got closed and every recording
stayed playable with the caller's voice in it."""

from __future__ import annotations

import subprocess
import sys
import time
import wave
from pathlib import Path

from firmware.sim.analysis import tone_seconds
from reliability.engine import CALLER_HZ, ROOT, STATION_HZ, Engine, box
from reliability.report import Report
from reliability.sipwire import Target, options, place_call


UNIT = ROOT / "systemd" / "switchboard-engine.service"


def restart_delay_s(unit: Path = UNIT) -> float:
    """The engine unit's RestartSec, in seconds ("200ms", "2", "2s")."""
    for line in unit.read_text().splitlines():
        if line.startswith("RestartSec="):
            value = line.split("=", 1)[1].strip()
            if value.endswith("ms"):
                return float(value[:-2]) / 1000
            return float(value.rstrip("s"))
    return 0.1  # systemd's default


def _caller(work: Path, port: int, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "firmware.sim.phone", "call", f"sip:100@127.0.0.1:{port}",
                             "--tone", str(CALLER_HZ), "--digits", "1", "--digit-delay", "1.2",
                             "--max-seconds", "60", "--caller-id", f"555010{n}",
                             "--record", str(work / f"caller-{n}.wav"), "--json"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_and_restart(work: Path, calls: int = 3, talk_s: float = 3.0, rounds: int = 1,
                     python: str | None = None) -> Report:
    """`rounds` times: `calls` calls connected, SIGKILL, restart, check. (The PyPI wheel allows 4
    SIP calls; each call here takes one, its operator is a station on the box.)"""
    work.mkdir(parents=True, exist_ok=True)
    report = Report("engine killed with calls up, then restarted",
                    tried={"rounds": rounds, "calls connected at each kill": calls,
                           "seconds recorded before the kill": talk_s})
    engine = Engine(work, box(stations=max(calls, 1)), python=python, daemon_only=True).start()  # as systemd runs it
    delay = restart_delay_s()
    options_s, call_s, steps = [], [], []
    try:
        for r in range(rounds):
            phones = [_caller(work, engine.port, n) for n in range(calls)]
            try:
                engine.wait_for(lambda: sum(c["state"] == "connected" for c in engine.status()["calls"]) == calls,
                                timeout=30, what=f"{calls} calls connected")
                up = [c["id"] for c in engine.status()["calls"]]
                time.sleep(talk_s)
                killed_at = time.monotonic()
                engine.kill()
            finally:
                for p in phones:
                    p.kill()
                    p.wait()
            # What systemd does: wait RestartSec, then run the same command again.
            time.sleep(max(0.0, killed_at + delay - time.monotonic()))
            spawned_at = time.monotonic()
            engine.spawn()
            while options(Target(*engine.address), timeout=0.2) != 200:
                if not engine.alive() or time.monotonic() - spawned_at > 30:
                    raise RuntimeError(f"the engine did not come back:\n{engine.log()[-3000:]}")
            options_s.append(time.monotonic() - killed_at)
            code = place_call(Target(*engine.address), timeout=5)
            call_s.append(time.monotonic() - killed_at)
            report.check(f"round {r + 1}: a new call is answered after the restart", code == 200, f"got {code}")
            engine.wait_control()
            steps.append(engine.status().get("startup_s", {}))
            records = {c["id"]: c for c in engine.calls()}
            for call_id in up:
                _check_record(report, r + 1, records.get(call_id))
            repaired = _wait(lambda: "repaired" in engine.cli("log").stdout)  # mended once SIP is up
            report.check(f"round {r + 1}: the repairs are in `switchboard log`", repaired)
            engine.wait_for(engine.idle, timeout=15, what="the probe call gone")
    finally:
        engine.stop()
    report.figures["RestartSec of the engine unit, s"] = delay
    report.figures["kill -> OPTIONS answered, s (max)"] = round(max(options_s), 3) if options_s else None
    report.figures["kill -> a call answered, s (each round)"] = [round(s, 3) for s in call_s]
    report.figures["kill -> a call answered, s (max)"] = round(max(call_s), 3) if call_s else None
    if steps:
        report.figures["engine start-up, s since its process began (last round)"] = steps[-1]
    report.notes.append("every figure counts from the SIGKILL and includes the unit's RestartSec, as under systemd")
    return report


def _wait(predicate, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _check_record(report: Report, round_no: int, rec: dict | None) -> None:
    label = f"round {round_no}: call {rec['id'] if rec else '?'}"
    if not report.check(f"{label}: record exists", rec is not None):
        return
    report.check(f"{label}: record closed with a disposition",
                 bool(rec["ended_at"]) and rec["disposition"] == "answered", f"{rec['disposition']} {rec['ended_at']}")
    path = rec.get("recording")
    if not report.check(f"{label}: has a recording", bool(path) and Path(path).exists(), str(path)):
        return
    try:
        with wave.open(path) as w:
            seconds = w.getnframes() / w.getframerate()
        readable = True
    except (wave.Error, EOFError) as exc:
        seconds, readable = 0.0, False
        report.notes.append(f"{label}: {exc}")
    report.check(f"{label}: recording readable by the wave module", readable and seconds > 1)
    caller = tone_seconds(path, CALLER_HZ) if readable else 0
    operator = max(tone_seconds(path, hz) for hz in STATION_HZ.values()) if readable else 0
    report.figures[f"{label}: recording s / caller tone s / operator tone s"] = \
        f"{seconds:.1f} / {caller:.1f} / {operator:.1f}"
    report.check(f"{label}: caller's tone in the recording", caller > 1.0, f"{caller:.2f} s")
