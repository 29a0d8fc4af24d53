"""Fakes of the engine's ports, with helpers to assert on what the engine did (no mocks)."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools

from firmware.engine.ports import CapacityReached, DialFailed


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.wall0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> float:
        return self.now

    def wall(self) -> dt.datetime:
        return self.wall0 + dt.timedelta(seconds=self.now - 1000.0)


class FakeTimer:
    def __init__(self):
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class FakeTimers:
    """Timers on a fake clock: `advance(seconds)` runs what falls due, in order."""

    def __init__(self, clock: FakeClock):
        self.clock, self._heap, self._seq = clock, [], itertools.count()

    def call_later(self, delay, fn, *args):
        timer = FakeTimer()
        heapq.heappush(self._heap, (self.clock.now + delay, next(self._seq), timer, fn, args))
        return timer

    def advance(self, seconds: float) -> None:
        end = self.clock.now + seconds
        while self._heap and self._heap[0][0] <= end:
            when, _, timer, fn, args = heapq.heappop(self._heap)
            self.clock.now = max(self.clock.now, when)
            if not timer.cancelled:
                fn(*args)
        self.clock.now = end


class FakeTelephony:
    """Records every action; legs are strings like the real adapter's."""

    def __init__(self, max_calls: int = 4):
        self.max_calls = max_calls
        self.actions: list[tuple] = []
        self.live: set[str] = set()
        self.playing: dict[str, tuple] = {}
        self.hearing: dict[str, object] = {}
        self.recording: dict[str, tuple] = {}
        self.line_states: dict[str, str] = {}
        self._ids = itertools.count(1)

    def configure(self, settings):
        self.actions.append(("configure",))

    def answer(self, leg):
        self.actions.append(("answer", leg))

    def reject(self, leg, code, reason=""):
        self.actions.append(("reject", leg, code))
        self.live.discard(leg)

    def ringing(self, leg):
        self.actions.append(("ringing", leg))

    def hangup(self, leg):
        if leg in self.live:
            self.actions.append(("hangup", leg))
        self.live.discard(leg)

    def dial(self, uri):
        if self.sip_calls() >= self.max_calls:
            raise CapacityReached("full")
        leg = f"out{next(self._ids)}"
        self.live.add(leg)
        self.actions.append(("dial", uri, leg))
        return leg

    def dial_line(self, line, number):
        if self.line_states.get(line.name) == "offline":
            raise DialFailed(f"line {line.name} is offline")
        leg = f"out{next(self._ids)}"
        self.live.add(leg)
        self.actions.append(("dial_line", line.name, number, leg))
        return leg

    def ring_station(self, station):
        leg = f"{station}#{next(self._ids)}"
        self.live.add(leg)
        self.actions.append(("ring", station, leg))
        return leg

    def play(self, leg, prompts, token):
        self.playing[leg] = (tuple(prompts), token)
        self.hearing[leg] = ("prompts", tuple(prompts))
        self.actions.append(("play", leg, tuple(prompts)))

    def music(self, leg, prompt):
        self.hearing[leg] = ("music", prompt)
        self.actions.append(("music", leg, prompt))

    def bridge(self, a, b):
        self.hearing[a], self.hearing[b] = ("leg", b), ("leg", a)
        self.actions.append(("bridge", a, b))

    def start_recording(self, key, legs, path):
        self.recording[key] = (tuple(legs), path)
        self.actions.append(("record", key))

    def record_leg(self, key, leg):
        legs, path = self.recording[key]
        self.recording[key] = (legs + (leg,), path)
        self.actions.append(("record_leg", key, leg))

    def stop_recording(self, key):
        self.recording.pop(key, None)
        self.actions.append(("stop_record", key))

    def sip_calls(self):
        return sum(1 for leg in self.live if leg.startswith(("in", "out")))

    def capacity(self):
        return {"max_calls": self.max_calls, "in_use": self.sip_calls()}

    def line_state(self, line):
        return self.line_states.get(line, "listening")

    def line_diagnostics(self, line):
        return None

    def device_event(self, source, event):
        return list(event)  # tests hand in the engine events a device would have produced

    # helpers for tests
    def new_incoming(self) -> str:
        leg = f"in{next(self._ids)}"
        self.live.add(leg)
        return leg

    def rung(self) -> list[str]:
        """Names (station) or URIs (SIP) rung so far, in order."""
        return [a[1] for a in self.actions if a[0] in ("ring", "dial")]

    def dialled_out(self) -> list[tuple[str, str, str]]:
        """(line, number, leg) of every outgoing call on a line."""
        return [a[1:] for a in self.actions if a[0] == "dial_line"]

    def legs_of(self, who: str) -> list[str]:
        return [a[2] for a in self.actions if a[0] in ("ring", "dial") and a[1] == who]


class FakeStore:
    """The writer's interface, kept in memory."""

    def __init__(self):
        self.calls: dict[str, dict] = {}
        self.queue_events: list[tuple] = []
        self.operator_log: list[tuple] = []
        self.logs: list[tuple] = []
        self.state: dict[str, str] = {}
        self.callbacks: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.worklist: dict[str, dict] = {}

    def call_started(self, row):
        self.calls[row["id"]] = dict(row)

    def call_updated(self, call_id, **fields):
        self.calls[call_id].update(fields)

    def queue_event(self, call_id, queue, event, operator=None, detail=""):
        self.queue_events.append((call_id, queue, event, operator))

    def operator_state(self, operator, state, reason="", call_id=None):
        self.operator_log.append((operator, state, reason))

    def log(self, level, source, message):
        self.logs.append((level, source, message))

    def set_state(self, key, value):
        self.state[key] = value

    def callback_saved(self, row):
        self.callbacks[row["id"]] = dict(row)

    def message_saved(self, row):
        self.messages.append(dict(row))

    def worklist_add(self, number, reason, call_id, caller_name=""):
        old = self.worklist.get(number)
        attempts = old["attempts"] + 1 if old and not old["handled_by"] else 1
        self.worklist[number] = {"reason": reason, "call_id": call_id, "attempts": attempts, "handled_by": None}

    def worklist_handled(self, number, by, wait=False):
        if number in self.worklist and not self.worklist[number]["handled_by"]:
            self.worklist[number]["handled_by"] = by

    def open_worklist(self) -> dict[str, str]:
        return {n: w["reason"] for n, w in self.worklist.items() if not w["handled_by"]}

    def events_of(self, call_id) -> list[str]:
        return [e[2] for e in self.queue_events if e[0] == call_id]
