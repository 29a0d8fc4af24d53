"""The technician's tests that touch call state: the line test and the headset test.

Neither blocks the loop. A modem line's test runs in its driver's control thread (the line is
`testing`, so nothing dials or answers on it meanwhile) and answers through a future; a SIP line's
OPTIONS ping is sent by the control server's thread. The headset test plays its tone through pjsua2
on the loop and ends on a loop timer; while it runs the station is unavailable (the hunt skips it).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

from firmware import headset_files, linetest
from firmware.engine.ports import DialFailed
from firmware.engine.states import OperatorState

log = logging.getLogger(__name__)

HEADSET_TEST_REASON = "headset test"
BUSY_STATES = (OperatorState.ringing, OperatorState.on_call)


class TechnicianMixin:
    def on_LineTest(self, c) -> dict:
        line = next((ln for ln in self.settings.lines if ln.name == c.line), None)
        if line is None:
            raise KeyError(f"no line named {c.line!r}")
        if line.kind != "modem":
            return {"name": line.name, "kind": line.kind, "target": linetest.sip_target(line)}
        busy = [s.id for s in self.sessions.values() if s.line == line.name]
        if busy:
            raise ValueError(f"line {line.name} has a call in progress ({busy[0]}): the test takes the line"
                             " off hook, so it waits until the call is over")
        return {"name": line.name, "kind": line.kind, "pending": self.tel.line_test(line.name)}

    def on_HeadsetTest(self, c) -> dict:
        op = self.operators.by_name.get(c.operator)
        if op is None:
            raise KeyError(f"no operator named {c.operator!r}")
        if op.config.kind != "station":
            raise ValueError(f"{op.name} is a SIP phone, not a headset station: there is no headset to test")
        if not 1 <= c.seconds <= 30:
            raise ValueError("seconds must be between 1 and 30")
        running = self.__dict__.setdefault("headset_tests", {})
        if running:
            raise ValueError(f"a headset test is already running on {', '.join(running)}")
        if not self.headset_available(op.name):
            raise ValueError(f"{op.name} has no headset to test: {self.operators.unavailable[op.name]}")
        if op.state in BUSY_STATES or op.call_id:
            raise ValueError(f"{op.name} is {op.state.value.replace('_', ' ')}: the test would play its tone"
                             " into a call; try again when the station is free")
        try:
            test = self.tel.headset_test(op.name, Path(self.data_dir) / headset_files.FOLDER)
        except DialFailed as exc:
            raise ValueError(str(exc)) from None
        self.operators.unavailable[op.name] = HEADSET_TEST_REASON  # no call is offered meanwhile
        done: Future = Future()
        running[op.name] = test
        self.timers.call_later(c.seconds, self._headset_test_over, op.name, done)
        self.store.log("info", "headset", f"{op.name}: headset test for {c.seconds:g} s")
        return {"operator": op.name, "seconds": c.seconds, "pending": done}

    def end_technician_tests(self) -> None:
        """At shutdown: a headset test still playing ends now (its timer will not run)."""
        for name in list(self.__dict__.get("headset_tests", {})):
            self._headset_test_over(name, Future())

    def _headset_test_over(self, name: str, done: Future) -> None:
        test = self.__dict__.setdefault("headset_tests", {}).pop(name, None)
        try:
            result = test.finish() if test is not None else {"error": "the test was ended early (engine stopping)"}
        except Exception as exc:  # never leave the station unavailable because of the test
            log.exception("headset test of %s", name)
            result = {"error": str(exc)}
        if self.operators.unavailable.get(name) == HEADSET_TEST_REASON:
            del self.operators.unavailable[name]
            self._dispatch_for(name)  # callers who waited meanwhile
        done.set_result(result)
