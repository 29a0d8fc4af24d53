"""A mock-factory panel used like a person at the desk: press its buttons, look at its LEDs.

For tests and simulations of a panel made with make_panel("mock", ...) (or a GpioPanel on a
MockFactory): the pins are driven and read through gpiozero's mock pins, so the real gpiozero path runs.
"""

from __future__ import annotations

import threading
import time

from drivers.panel.gpiozero_panel import GpioPanel
from drivers.panel.interface import ButtonName


class PressLog:
    """An on_button receiver that records (station, button, long_press); thread-safe."""

    def __init__(self):
        self.presses: list[tuple[str, ButtonName, bool]] = []
        self._changed = threading.Condition()

    def __call__(self, station: str, button: ButtonName, long_press: bool) -> None:
        with self._changed:
            self.presses.append((station, button, long_press))
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 3.0) -> list[tuple[str, ButtonName, bool]]:
        """The presses once there are at least `count` (fewer if `timeout` runs out)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.presses) >= count, timeout)
            return list(self.presses)


def hold_button(panel: GpioPanel, station: str, button: ButtonName | str) -> None:
    """Push the button down (drives its pin to the pressed level) and keep it there."""
    pin, pull_up = _button(panel, station, button)
    pin.drive_low() if pull_up else pin.drive_high()


def release_button(panel: GpioPanel, station: str, button: ButtonName | str) -> None:
    pin, pull_up = _button(panel, station, button)
    pin.drive_high() if pull_up else pin.drive_low()


def press_button(panel: GpioPanel, station: str, button: ButtonName | str, seconds: float = 0.1,
                 bounces: int = 0) -> None:
    """A press held `seconds`, with `bounces` extra contact bounces at both ends (blocks `seconds`)."""
    for _ in range(bounces):
        hold_button(panel, station, button)
        release_button(panel, station, button)
    hold_button(panel, station, button)
    time.sleep(seconds)
    for _ in range(bounces):
        release_button(panel, station, button)
        hold_button(panel, station, button)
    release_button(panel, station, button)


def led_pin(panel: GpioPanel, station: str | None = None):
    """The mock pin of a station's status LED, or of the box LED (station None)."""
    return panel.pin_factory.pin(_led(panel, station).bcm)


def led_brightness(panel: GpioPanel, station: str | None = None) -> float:
    """How lit a station's status LED (or the box LED) is: 0 dark .. 1 fully lit."""
    state = float(led_pin(panel, station).state)
    return state if _led(panel, station).active_high else 1.0 - state


def _led(panel: GpioPanel, station: str | None):
    return panel.pin_map.box if station is None else panel.pin_map.stations[station].status


def _button(panel: GpioPanel, station: str, button: ButtonName | str):
    spec = getattr(panel.pin_map.stations[station], ButtonName(button).value)
    return panel.pin_factory.pin(spec.bcm), spec.pull_up
