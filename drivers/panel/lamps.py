"""What each LED should show, and the lamp test that overrides all of them for a while.

Shared by every panel: the panel only supplies `show(bcm, pattern)`, which puts a pattern on a pin.
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import Callable

from drivers.panel.patterns import LAMP_TEST, OFF, BoxHealth, Pattern, StationState, box_pattern, station_pattern
from drivers.panel.pinmap import PinMap


class LampBoard:
    """The LEDs of a pin map, by BCM pin. Thread-safe; after close() nothing more is shown."""

    def __init__(self, pin_map: PinMap, show: Callable[[int, Pattern], None]):
        self._pin_map = pin_map
        self._show = show
        self._wanted: dict[int, Pattern] = {led.bcm: OFF for led in pin_map.led_pins()}
        self._shown: dict[int, Pattern] = {}
        self._lock = threading.Lock()
        self._test_timer: threading.Timer | None = None
        self._closed = False

    def set_station(self, station: str, state: StationState | Enum | str) -> None:
        if station not in self._pin_map.stations:
            raise KeyError(f"no panel for station {station!r}")
        self.set(self._pin_map.stations[station].status.bcm, station_pattern(state))

    def set_box(self, health: BoxHealth) -> None:
        self.set(self._pin_map.box.bcm, box_pattern(health))

    def set(self, pin: int, pattern: Pattern) -> None:
        with self._lock:
            self._wanted[pin] = pattern
            if self._test_timer is None:
                self._put(pin, pattern)

    def wanted(self, pin: int) -> Pattern:
        with self._lock:
            return self._wanted[pin]

    def lamp_test(self, seconds: float) -> None:
        """Every LED blinks LAMP_TEST for `seconds` (a new test restarts the time), then shows its state."""
        if not 0 < seconds <= 3600:
            raise ValueError("a lamp test lasts more than 0 and at most 3600 seconds")
        with self._lock:
            if self._closed:
                return
            if self._test_timer is not None:
                self._test_timer.cancel()
            for pin in self._wanted:
                self._put(pin, LAMP_TEST, restart=True)
            timer = threading.Timer(seconds, self._end_test)
            timer.daemon = True
            timer.args = (timer,)
            self._test_timer = timer
            timer.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._test_timer is not None:
                self._test_timer.cancel()
                self._test_timer = None

    def _end_test(self, timer: threading.Timer) -> None:
        with self._lock:
            if self._test_timer is not timer:  # cancelled too late, or replaced by a newer test
                return
            self._test_timer = None
            for pin, pattern in self._wanted.items():
                self._put(pin, pattern)

    def _put(self, pin: int, pattern: Pattern, restart: bool = False) -> None:
        # Showing the pattern already shown would restart its blink; a lamp test restarts on purpose,
        # so that all LEDs blink together.
        if self._closed or (not restart and self._shown.get(pin) == pattern):
            return
        self._show(pin, pattern)
        self._shown[pin] = pattern
