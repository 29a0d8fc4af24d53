"""The one place that picks a panel implementation; the composition root calls it at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gpiozero.pins import Factory

from drivers.panel.gpiozero_panel import GpioPanel
from drivers.panel.interface import OnButton, Panel
from drivers.panel.periphery_panel import PeripheryPanel
from drivers.panel.pinmap import PinMap, validate_pin_map

PanelKind = Literal["gpiozero", "periphery", "mock"]
PANEL_KINDS: tuple[str, ...] = ("gpiozero", "periphery", "mock")


def make_panel(kind: PanelKind, pin_map: PinMap | Mapping[str, Any], on_button: OnButton, *,
               pin_factory: Factory | None = None, chip: str = "/dev/gpiochip0") -> Panel:
    """Build the box's panel.

    gpiozero: `pin_factory`, or gpiozero's default (GPIOZERO_PIN_FACTORY, else lgpio on a Pi; off a Pi
    it raises BadPinFactory). periphery: the lines of `chip`. mock: gpiozero on a new
    MockFactory(pin_class=MockPWMPin) of its own, reachable as `panel.pin_factory` to press buttons
    (drivers.panel.mock); for a mock factory of your own, use gpiozero with pin_factory=.
    Raises PanelConfigError for a bad pin map, ValueError for an unknown kind."""
    pin_map = validate_pin_map(pin_map)
    if kind == "gpiozero":
        return GpioPanel(pin_map, pin_factory, on_button)
    if kind == "periphery":
        return PeripheryPanel(pin_map, on_button, chip=chip)
    if kind == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin
        return GpioPanel(pin_map, MockFactory(pin_class=MockPWMPin), on_button, owns_factory=True)
    raise ValueError(f"unknown panel kind {kind!r}; one of {', '.join(PANEL_KINDS)}")
