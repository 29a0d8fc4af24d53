"""A voice modem vanishing mid-call (USB unplugged) on the simulated modem: the call is closed, the
line goes offline, and comes back by itself once the modem is back. Figures: how long each step took."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from reliability.engine import CALLER_HZ, Engine, box
from reliability.report import Report


def _stamp(engine: Engine, predicate, timeout: float, what: str) -> float:
    """Seconds until predicate holds (polled every 50 ms)."""
    start = time.monotonic()
    engine.wait_for(predicate, timeout=timeout, what=what, step=0.05)
    return time.monotonic() - start


def unplug_mid_call(work: Path, rounds: int = 1, python: str | None = None) -> Report:
    work.mkdir(parents=True, exist_ok=True)
    report = Report("modem unplugged mid-call (simulated USB voice modem)",
                    tried={"rounds": rounds, "call state at the unplug": "connected to a station, recorded"})
    engine = Engine(work, box(modem=True, stations=1), python=python).start()
    offline_s, closed_s, back_s = [], [], []
    try:
        line = lambda: next(ln["state"] for ln in engine.status()["lines"] if ln["name"] == "analog")
        sim = lambda *args: engine.cli("sim", "line", "analog", *args)
        engine.wait_for(lambda: line() == "idle", timeout=30, what="modem line up")
        for r in range(1, rounds + 1):
            before = {c["id"] for c in engine.calls()}
            sim("voice", str(CALLER_HZ))
            sim("ring", f"55502{r:02d}")
            engine.wait_for(lambda: engine.status()["calls"], timeout=20, what="the call answered")
            time.sleep(1.5)  # the menu prompt
            sim("dtmf", "1")
            engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), timeout=20,
                            what="connected")
            time.sleep(2)
            sim("unplug")
            unplugged = time.monotonic()
            engine.wait_for(lambda: line() == "offline", timeout=30, what="line offline", step=0.05)
            offline_s.append(time.monotonic() - unplugged)
            engine.wait_for(lambda: [c for c in engine.calls() if c["id"] not in before and c["disposition"]],
                            timeout=30, what="the call record closed", step=0.05)
            closed_s.append(time.monotonic() - unplugged)
            rec = next(c for c in engine.calls() if c["id"] not in before)
            report.check(f"round {r}: the call closed as answered, line lost", rec["disposition"] == "answered"
                         and "line" in (rec["end_reason"] or ""), f"{rec['disposition']} / {rec['end_reason']}")
            report.check(f"round {r}: no call state left", engine.idle())
            sim("replug")
            replugged = time.monotonic()
            engine.wait_for(lambda: line() == "idle", timeout=60, what="the line back by itself", step=0.05)
            back_s.append(time.monotonic() - replugged)
            report.check(f"round {r}: engine log clean", engine.clean_log())
    finally:
        engine.stop()
    for name, values in (("unplug -> line offline, s", offline_s), ("unplug -> call record closed, s", closed_s),
                         ("replug -> line idle again, s", back_s)):
        if values:
            report.figures[name] = f"median {statistics.median(values):.2f}, max {max(values):.2f}"
    return report
