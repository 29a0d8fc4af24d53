"""The panel on gpiozero: Buttons and PWMLEDs on an injected pin factory (lgpio on a Pi, mock in tests).

Debounce and long presses are decided by the shared PressDetector, not by gpiozero's `bounce_time`
and `when_held`: factories debounce differently (lgpio waits for a stable level, the native and
RPi.GPIO factories lock out after an edge, the mock factory not at all), and one rule everywhere is
what lets the mock-factory tests speak for the box.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Callable

from gpiozero import LED, PWMLED, Button
from gpiozero.exc import PinPWMUnsupported
from gpiozero.pins import Factory

from drivers.panel.interface import ButtonName, OnButton
from drivers.panel.lamps import LampBoard
from drivers.panel.patterns import BoxHealth, Pattern, StationState
from drivers.panel.pinmap import LedPin, PinMap, validate_pin_map
from drivers.panel.presses import PressRouter

log = logging.getLogger(__name__)


class GpioPanel:
    """Operator panels on gpiozero devices. See `drivers.panel.interface.Panel` for the methods.

    on_button(station, button, long_press) is called from gpiozero's and this panel's threads: the
    receiver must only queue it (the engine posts it to its loop)."""

    def __init__(self, pin_map: PinMap | Mapping[str, Any], pin_factory: Factory | None,
                 on_button: OnButton, *, owns_factory: bool = False):
        """pin_factory None: gpiozero's default (GPIOZERO_PIN_FACTORY, else lgpio on a Pi).
        owns_factory: close the factory with the panel (it was made for this panel alone)."""
        self.pin_map = validate_pin_map(pin_map)
        self._on_button = on_button
        self._owns_factory = owns_factory
        self._buttons: dict[tuple[str, ButtonName], Button] = {}
        self._leds: dict[int, LED | PWMLED] = {}
        self._lamps: LampBoard | None = None
        self._waker: _Waker | None = None
        self._closed = False
        self._presses = PressRouter(
            [(station, button) for station, button, _ in self.pin_map.button_pins()],
            self._report, self.pin_map.debounce_s, self.pin_map.long_press_s)
        try:
            for led in self.pin_map.led_pins():
                self._leds[led.bcm] = _make_led(led, pin_factory)
            for station, button, pin in self.pin_map.button_pins():
                self._buttons[station, button] = Button(pin.bcm, pull_up=pin.pull_up, pin_factory=pin_factory)
        except BaseException:
            self.close()
            raise
        first_device = next(iter(self._leds.values()))
        self.pin_factory: Factory = first_device.pin_factory
        self._lamps = LampBoard(self.pin_map, self._show)
        self._presses.start({key: b.is_pressed for key, b in self._buttons.items()}, time.monotonic())
        self._waker = _Waker(self._presses.next_deadline, self._presses.poll)
        for key, button in self._buttons.items():
            button.when_pressed = self._edge_handler(key, True)
            button.when_released = self._edge_handler(key, False)

    # --- the Panel interface --------------------------------------------------------------------

    def set_station(self, station: str, state: StationState | str) -> None:
        self._lamps.set_station(station, state)

    def set_box(self, health: BoxHealth) -> None:
        self._lamps.set_box(health)

    def blink_all(self, seconds: float) -> None:
        self._lamps.lamp_test(seconds)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._lamps is not None:
            self._lamps.close()
        if self._waker is not None:
            self._waker.stop()
        for button in self._buttons.values():
            button.close()
        for led in self._leds.values():
            led.off()
            led.close()
        if self._owns_factory:
            self.pin_factory.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- inside ---------------------------------------------------------------------------------

    def _edge_handler(self, key: tuple[str, ButtonName], pressed: bool) -> Callable[[], None]:
        def on_edge():
            self._presses.feed(key, pressed, time.monotonic())
            self._waker.poke()
        return on_edge

    def _report(self, key: tuple[str, ButtonName], long_press: bool) -> None:
        station, button = key
        self._on_button(station, button, long_press)

    def _show(self, bcm: int, pattern: Pattern) -> None:
        led = self._leds[bcm]
        if pattern.is_off:
            led.off()
        elif pattern.is_steady:
            if isinstance(led, PWMLED):
                led.value = pattern.brightness
            else:
                led.on()
        else:
            led.blink(on_time=pattern.on_time, off_time=pattern.off_time, n=pattern.n, background=True)


def _make_led(lamp: LedPin, pin_factory: Factory | None) -> LED | PWMLED:
    try:
        return PWMLED(lamp.bcm, active_high=lamp.active_high, pin_factory=pin_factory)
    except PinPWMUnsupported:
        log.warning("GPIO %d has no PWM on this pin factory: dimmed patterns show fully lit", lamp.bcm)
        return LED(lamp.bcm, active_high=lamp.active_high, pin_factory=pin_factory)


class _Waker:
    """A thread that polls the presses when a detector's deadline comes (end of a debounce, a long
    press), since no edge arrives then; `poke()` after each edge so a new deadline is seen."""

    def __init__(self, next_deadline: Callable[[], float | None], poll: Callable[[float], None]):
        self._next_deadline, self._poll = next_deadline, poll
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="panel-buttons", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        with self._changed:
            self._changed.notify()

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
                deadline = self._next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                self._changed.wait(timeout)
                if self._stopping:
                    return
            self._poll(time.monotonic())
