"""The panel on python-periphery's character-device GPIO, for boards gpiozero cannot drive.

periphery has no events to wait on here, no blink and no PWM, so one thread ticks every 10 ms: it
samples the buttons into the shared PressDetectors and redraws the LEDs from their patterns
(`level_at`). Without PWM a dimmed pattern shows fully lit (ready then looks like on_call; the
operator knows whether they are talking). Lines are opened through `open_line`, so tests can pass
fake lines; the real ones are only exercised on hardware.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, Callable, Protocol

from drivers.panel.interface import ButtonName, OnButton
from drivers.panel.lamps import LampBoard
from drivers.panel.patterns import BoxHealth, Pattern, StationState, level_at
from drivers.panel.pinmap import PinMap, validate_pin_map
from drivers.panel.presses import PressRouter

TICK_S = 0.01


class Line(Protocol):
    """What the panel needs of one GPIO line (periphery.GPIO has these)."""

    def read(self) -> bool: ...
    def write(self, value: bool) -> None: ...
    def close(self) -> None: ...


OpenLine = Callable[[int, str, str], Line]
"""open_line(bcm, direction, bias) -> Line; direction "in", "low" or "high" (outputs, initial level)."""


def periphery_lines(chip: str = "/dev/gpiochip0") -> OpenLine:
    """Lines of a GPIO chip (the 40-pin header is /dev/gpiochip0 on current Raspberry Pi OS kernels)."""
    def open_line(bcm: int, direction: str, bias: str) -> Line:
        from periphery import GPIO
        return GPIO(chip, bcm, direction, bias=bias, label="switchboard-panel")
    return open_line


class PeripheryPanel:
    """Operator panels on periphery GPIO lines. See `drivers.panel.interface.Panel` for the methods.

    on_button(station, button, long_press) is called from this panel's thread: the receiver must only
    queue it (the engine posts it to its loop)."""

    def __init__(self, pin_map: PinMap | Mapping[str, Any], on_button: OnButton, *,
                 open_line: OpenLine | None = None, chip: str = "/dev/gpiochip0"):
        self.pin_map = validate_pin_map(pin_map)
        open_line = open_line or periphery_lines(chip)
        self._on_button = on_button
        self._buttons: dict[tuple[str, ButtonName], tuple[Line, bool]] = {}
        self._leds: dict[int, tuple[Line, bool]] = {}
        self._showing: dict[int, tuple[Pattern, float]] = {}
        self._lit: dict[int, bool] = {}
        self._showing_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._lamps: LampBoard | None = None
        self._stop = threading.Event()
        try:
            for led in self.pin_map.led_pins():
                off_level = "low" if led.active_high else "high"
                self._leds[led.bcm] = open_line(led.bcm, off_level, "default"), led.active_high
            for station, button, pin in self.pin_map.button_pins():
                bias = "pull_up" if pin.pull_up else "pull_down"
                self._buttons[station, button] = open_line(pin.bcm, "in", bias), pin.pull_up
        except BaseException:
            self.close()
            raise
        self._presses = PressRouter(self._buttons, self._report, self.pin_map.debounce_s,
                                    self.pin_map.long_press_s)
        self._presses.start({key: self._is_pressed(key) for key in self._buttons}, time.monotonic())
        self._lamps = LampBoard(self.pin_map, self._show)
        self._thread = threading.Thread(target=self._run, name="panel-periphery", daemon=True)
        self._thread.start()

    def set_station(self, station: str, state: StationState | str) -> None:
        self._lamps.set_station(station, state)

    def set_box(self, health: BoxHealth) -> None:
        self._lamps.set_box(health)

    def blink_all(self, seconds: float) -> None:
        self._lamps.lamp_test(seconds)

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._lamps is not None:
            self._lamps.close()
        if self._thread is not None:
            self._thread.join()
        for line, active_high in self._leds.values():
            line.write(not active_high)
            line.close()
        for line, _ in self._buttons.values():
            line.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            now = time.monotonic()
            for key in self._buttons:
                self._presses.feed(key, self._is_pressed(key), now)
            self._redraw(now)

    def _is_pressed(self, key: tuple[str, ButtonName]) -> bool:
        line, pull_up = self._buttons[key]
        return line.read() != pull_up

    def _show(self, bcm: int, pattern: Pattern) -> None:
        with self._showing_lock:
            self._showing[bcm] = pattern, time.monotonic()

    def _redraw(self, now: float) -> None:
        with self._showing_lock:
            showing = dict(self._showing)
        for bcm, (pattern, since) in showing.items():
            lit = level_at(pattern, now - since) > 0
            if lit != self._lit.get(bcm, False):
                line, active_high = self._leds[bcm]
                line.write(lit == active_high)
                self._lit[bcm] = lit

    def _report(self, key: tuple[str, ButtonName], long_press: bool) -> None:
        station, button = key
        self._on_button(station, button, long_press)
