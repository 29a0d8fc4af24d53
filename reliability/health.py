"""After each batch of abuse: is the engine alive, answering, and holding no call state?"""

from __future__ import annotations

import time

from reliability.engine import Engine
from reliability.report import Report
from reliability.sipwire import Target, options, place_call


class EngineHealth:
    """Checks one engine; `target` is where OPTIONS go (the engine itself, or an edge in front of it)."""

    def __init__(self, engine: Engine, target: Target | None = None, drain_s: float = 40):
        self.engine = engine
        self.target = target or Target(*engine.address)
        self.drain_s = drain_s  # an unacknowledged 200 is retransmitted for 32 s before pjsip gives up

    def check(self, report: Report, label: str) -> None:
        report.check(f"{label}: engine process alive", self.engine.alive(),
                     f"exited {self.engine.proc.returncode if self.engine.proc else None}")
        code = options(self.target, timeout=3)
        report.check(f"{label}: OPTIONS answered 200", code == 200, f"got {code}")
        try:
            status = self.engine.status()
            report.check(f"{label}: `switchboard status` answers", "capacity" in status)
        except Exception as exc:  # noqa: BLE001 - any failure to answer is the finding
            report.check(f"{label}: `switchboard status` answers", False, repr(exc))
            return
        start = time.monotonic()
        try:
            self.engine.wait_for(self.engine.idle, timeout=self.drain_s, what="no call state", step=0.25)
            idle = True
        except TimeoutError:
            idle = False
        report.figures[f"{label}: seconds until no call state"] = round(time.monotonic() - start, 2)
        st = self.engine.status()
        report.check(f"{label}: no call state left (sessions, waiting, SIP legs)", idle,
                     f"calls={st['calls']} waiting={st['waiting']} in_use={st['capacity']['in_use']}")
        # pjsua2 does not tell how many call slots it holds; a call that gets answered proves one is free.
        start, code = time.monotonic(), None
        while time.monotonic() - start < self.drain_s and code != 200:
            code = place_call(self.target, timeout=2)
            if code != 200:
                time.sleep(0.5)
        report.figures[f"{label}: seconds until a new call is answered"] = round(time.monotonic() - start, 2)
        report.check(f"{label}: a new call is answered (a pjsua2 call slot is free)", code == 200, f"last {code}")
        try:
            self.engine.wait_for(self.engine.idle, timeout=10, what="the probe call gone", step=0.1)
            gone = True
        except TimeoutError:
            gone = False
        report.check(f"{label}: the probe call left no state", gone, str(self.engine.status()["calls"]))
        report.check(f"{label}: engine log has no traceback or assertion", self.engine.clean_log(),
                     _last_trace(self.engine.log()))


def _last_trace(text: str) -> str:
    at = max(text.rfind("Traceback"), text.rfind("Assertion"))
    return text[at:at + 800] if at >= 0 else ""
