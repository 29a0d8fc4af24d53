"""Raw button levels -> short and long presses, with debounce. Pure, shared by every panel.

A level change counts only once the level has stayed put for `debounce_s`, so contact bounce (and a
glitch in the middle of a hold) is ignored. A press held `long_press_s` is reported as long while it
is still held, and its release then reports nothing: a long press never also yields a short one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable, Iterable
from enum import Enum
from typing import Callable

log = logging.getLogger(__name__)


class PressKind(Enum):
    short = "short"
    long = "long"


class PressDetector:
    """One button. Feed it (pressed, time) samples: edges, polls, or wake-ups at `next_deadline()`."""

    def __init__(self, debounce_s: float = 0.03, long_press_s: float = 2.0):
        if not 0 <= debounce_s < long_press_s:
            raise ValueError("need 0 <= debounce_s < long_press_s")
        self.debounce_s, self.long_press_s = debounce_s, long_press_s
        self._raw, self._raw_since = False, float("-inf")
        self._pressed = False                      # the debounced level
        self._pressed_since: float | None = None   # when the debounced press began
        self._long_reported = False

    def start(self, pressed: bool, now: float) -> None:
        """The level when watching begins: a button already held then is not a press (stuck or leaning)."""
        self._raw, self._raw_since = pressed, now
        self._pressed, self._pressed_since, self._long_reported = pressed, now, pressed

    @property
    def pressed(self) -> bool:
        """The debounced level."""
        return self._pressed

    def update(self, pressed: bool, now: float) -> PressKind | None:
        """The raw level is `pressed` at `now`; returns the press that ended or turned long, if any."""
        # Settle what the level was up to now, then take the new level; with debounce_s = 0 the new
        # level settles at once. At most one of the two can report (see the tests).
        before = self._settle(now)
        if pressed != self._raw:
            self._raw, self._raw_since = pressed, now
        return before or self._settle(now)

    def poll(self, now: float) -> PressKind | None:
        """Time has passed without a level change."""
        return self.update(self._raw, now)

    def next_deadline(self) -> float | None:
        """When this detector may next report or settle without a new sample (None: only on input)."""
        if self._raw != self._pressed:
            return self._raw_since + self.debounce_s
        if self._pressed and not self._long_reported:
            return self._pressed_since + self.long_press_s
        return None

    def _settle(self, now: float) -> PressKind | None:
        if self._raw != self._pressed and now - self._raw_since >= self.debounce_s:
            self._pressed = self._raw
            if self._pressed:
                self._pressed_since, self._long_reported = self._raw_since, False
            else:
                held = self._raw_since - self._pressed_since
                if not self._long_reported:
                    return PressKind.long if held >= self.long_press_s else PressKind.short
                return None
        if self._pressed and not self._long_reported and now - self._pressed_since >= self.long_press_s:
            self._long_reported = True
            return PressKind.long
        return None


class PressRouter:
    """A PressDetector per button of a panel; reports presses to `report(key, long_press)`.

    Thread-safe: edges, polls and wake-ups may come from different threads. `report` is called with
    the router's lock held, so reports are never concurrent and stay in order."""

    def __init__(self, keys: Iterable[Hashable], report: Callable[[Hashable, bool], None],
                 debounce_s: float, long_press_s: float):
        self._detectors = {key: PressDetector(debounce_s, long_press_s) for key in keys}
        self._report = report
        self._lock = threading.Lock()

    def start(self, levels: dict[Hashable, bool], now: float) -> None:
        """The raw levels when watching begins (see PressDetector.start)."""
        with self._lock:
            for key, pressed in levels.items():
                self._detectors[key].start(pressed, now)

    def feed(self, key: Hashable, pressed: bool, now: float) -> None:
        with self._lock:
            self._emit(key, self._detectors[key].update(pressed, now))

    def poll(self, now: float) -> None:
        with self._lock:
            for key, detector in self._detectors.items():
                self._emit(key, detector.poll(now))

    def next_deadline(self) -> float | None:
        with self._lock:
            deadlines = [d for d in (det.next_deadline() for det in self._detectors.values()) if d is not None]
        return min(deadlines, default=None)

    def _emit(self, key: Hashable, kind: PressKind | None) -> None:
        if kind is None:
            return
        try:
            self._report(key, kind is PressKind.long)
        except Exception:
            # The receiver runs on a panel thread; letting it raise would kill the thread.
            log.exception("button press receiver failed for %s (%s press)", key, kind.value)
