"""A queue's waiting callers and its memory (last operator rung, recent waits). Pure data."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from firmware.engine import hunt
from firmware.engine.ports import Timer
from firmware.settings import Queue

ASSUMED_HANDLE_S = 180.0
"""Handle time assumed for the wait estimate before the queue has answered any call."""
MAX_SPOKEN_NUMBER = 20


@dataclass
class Attempt:
    """Operators being rung for one caller at once (one for most strategies, all for ring-all)."""

    legs: dict[str, str] = field(default_factory=dict)  # leg -> operator
    missed: set[str] = field(default_factory=set)
    timer: Timer | None = None


@dataclass
class QueueState:
    name: str
    config: Queue | None = None
    waiting: dict[str, tuple[int, float]] = field(default_factory=dict)  # call id -> (priority, since)
    last_rung: str | None = None
    recent_handle_s: deque = field(default_factory=lambda: deque(maxlen=20))

    def add(self, call_id: str, priority: int, since: float) -> None:
        self.waiting[call_id] = (priority, since)

    def remove(self, call_id: str) -> None:
        self.waiting.pop(call_id, None)

    def ordered(self) -> list[str]:
        """Callers in the order they are served: priority first, then who came first."""
        return sorted(self.waiting, key=lambda c: (-self.waiting[c][0], self.waiting[c][1]))

    def position(self, call_id: str) -> int:
        return self.ordered().index(call_id) + 1

    def order(self, q: Queue, free: list[hunt.Candidate], tried: set[str]) -> list[str]:
        return hunt.ring_order(q.strategy, q.operators, free, self.last_rung, frozenset(tried))

    def handled(self, handle_s: float) -> None:
        self.recent_handle_s.append(handle_s)

    def estimated_wait_s(self, call_id: str, operators: int) -> float:
        handle = (sum(self.recent_handle_s) / len(self.recent_handle_s)) if self.recent_handle_s else ASSUMED_HANDLE_S
        return self.position(call_id) * handle / max(1, operators)


def announcement(qs: QueueState, call_id: str, operators: int) -> list[str]:
    """System prompts that say the caller's position and estimated wait in whole minutes."""
    position = min(qs.position(call_id), MAX_SPOKEN_NUMBER)
    minutes = min(max(1, math.ceil(qs.estimated_wait_s(call_id, operators) / 60)), MAX_SPOKEN_NUMBER)
    return ["sys-position", f"sys-n{position}", "sys-wait", f"sys-n{minutes}",
            "sys-minute" if minutes == 1 else "sys-minutes"]
