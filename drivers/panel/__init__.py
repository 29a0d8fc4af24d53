"""Operator panels: each station's buttons (answer, ready, transfer) and status LED, and the box LED.

The engine builds one panel at start-up with `make_panel(kind, pin_map, on_button)`, calls
`set_station(station, state)` on every operator state change and `set_box(BoxHealth(...))` on health
changes, and receives `on_button(station, button, long_press)` from a panel thread (queue it only).
"""

from drivers.panel.factory import PANEL_KINDS, PanelKind, make_panel
from drivers.panel.gpiozero_panel import GpioPanel
from drivers.panel.interface import ButtonName, OnButton, Panel
from drivers.panel.patterns import (
    BoxHealth,
    Pattern,
    StationState,
    box_pattern,
    level_at,
    station_pattern,
)
from drivers.panel.periphery_panel import PeripheryPanel
from drivers.panel.pinmap import ButtonPin, LedPin, PanelConfigError, PinMap, StationPins, validate_pin_map
from drivers.panel.presses import PressDetector, PressKind

__all__ = [
    "PANEL_KINDS", "BoxHealth", "ButtonName", "ButtonPin", "GpioPanel", "LedPin", "OnButton", "Panel",
    "PanelConfigError", "PanelKind", "Pattern", "PeripheryPanel", "PinMap", "PressDetector", "PressKind",
    "StationPins", "StationState", "box_pattern", "level_at", "make_panel", "station_pattern",
    "validate_pin_map",
]
