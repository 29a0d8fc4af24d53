"""The toll-fraud guard: which numbers the box may dial out, and how often (pure, clock injected)."""

from __future__ import annotations

import re
from collections import deque

from firmware.settings import Outbound

NUMBER = re.compile(r"^\+?[0-9]{1,20}$")


class Refused(ValueError):
    """The number may not be dialled; the message says why, for the log and the caller record."""


def normalise(number: str) -> str:
    """Caller ID and keyed-in numbers as digits: spaces, dashes, dots and brackets dropped."""
    return re.sub(r"[\s\-.()]", "", number or "")


def check_number(rules: Outbound, number: str) -> str:
    """The number to dial, or `Refused` naming the rule that stops it."""
    digits = normalise(number)
    if not NUMBER.match(digits):
        raise Refused(f"{number!r} is not a phone number")
    for pattern in rules.deny:
        if re.fullmatch(pattern, digits):
            raise Refused(f"{digits} matches the deny rule {pattern!r}")
    if not any(re.fullmatch(pattern, digits) for pattern in rules.allow):
        raise Refused(f"{digits} matches no allow rule")
    return digits


class RateLimit:
    """At most `max_per_hour` outgoing calls in any sliding hour."""

    def __init__(self, clock):
        self.clock = clock
        self.placed: deque[float] = deque()

    def allows(self, max_per_hour: int) -> bool:
        now = self.clock()
        while self.placed and self.placed[0] <= now - 3600:
            self.placed.popleft()
        return len(self.placed) < max_per_hour

    def record(self) -> None:
        self.placed.append(self.clock())
