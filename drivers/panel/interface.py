"""The small interface every panel implementation offers, and the vocabulary it speaks."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from drivers.panel.patterns import BoxHealth, StationState


class ButtonName(StrEnum):
    """The buttons of a station's panel."""

    answer = "answer"      # answers when ringing, hangs up when on a call
    ready = "ready"        # ready / pause toggle; long press = log out
    transfer = "transfer"


OnButton = Callable[[str, ButtonName, bool], None]
"""on_button(station, button, long_press): called once per press, from a panel thread (never the
caller's): the receiver must only queue it, e.g. `loop.call_soon_threadsafe(...)` or `queue.put`.
Calls are never concurrent with each other and arrive in the order the presses ended."""


class Panel(Protocol):
    """Operator panels of the box: station buttons in (through on_button), LEDs out."""

    def set_station(self, station: str, state: StationState | str) -> None:
        """Show an operator state on the station's status LED (KeyError for an unknown station)."""

    def set_box(self, health: BoxHealth) -> None:
        """Show the box's health on the box LED."""

    def blink_all(self, seconds: float) -> None:
        """Technicians' lamp test: every LED blinks for `seconds`, then shows its state again."""

    def close(self) -> None:
        """Turn the LEDs off, stop the panel's threads and release the pins (idempotent)."""
