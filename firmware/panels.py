"""The operator panels as the engine sees them: LEDs that follow the operators and the box's health,
buttons that become `PanelButton` commands on the engine loop."""

from __future__ import annotations

import threading
import time
from typing import Callable

from drivers.panel import BoxHealth, PinMap, make_panel
from firmware import events as ev
from firmware.settings import Settings

MAX_SIMULATED_STATIONS = 6  # 4 pins each, plus the box LED, within BCM 0-27


class PanelIndicators:
    def __init__(self, panel):
        self.panel = panel
        self.shown: dict[str, str] = {}

    def set_station(self, station: str, state: str) -> None:
        self.shown[station] = state
        try:
            self.panel.set_station(station, state)
        except KeyError:
            pass  # a station with no panel wired

    def show_box(self, lines_down: int, callers_waiting: int, unheard_messages: int = 0) -> None:
        self.panel.set_box(BoxHealth(lines_down, callers_waiting, unheard_messages))


def simulated_pin_map(settings: Settings) -> PinMap:
    """The configured wiring, or, for a configuration without one, mock pins for its stations."""
    if settings.panel:
        return settings.panel.pins
    stations = [o.name for o in settings.operators if o.kind == "station"][:MAX_SIMULATED_STATIONS]
    pins = iter(range(2, 28))
    return PinMap(box={"bcm": next(pins)}, stations={
        name: {"answer": {"bcm": next(pins)}, "ready": {"bcm": next(pins)}, "transfer": {"bcm": next(pins)},
               "status": {"bcm": next(pins)}} for name in stations})


class ButtonRouter:
    """Where button presses go: to the engine loop, except during the technician's panel test, when
    they are only listed for the technician to see (a wiring check must not answer calls or pause
    operators). Called on a panel thread; `watch` and `since` on control threads."""

    def __init__(self, post: Callable, clock: Callable[[], float] = time.monotonic):
        self.post, self.clock = post, clock
        self._lock = threading.Lock()
        self._until = self._started = 0.0
        self._presses: list[dict] = []

    def __call__(self, station, button, long_press) -> None:
        with self._lock:
            if self.clock() < self._until:
                self._presses.append({"station": station, "button": str(button), "long": bool(long_press),
                                      "at_s": round(self.clock() - self._started, 2)})
                return
        self.post(ev.PanelButton(station, str(button), long_press))

    def watch(self, seconds: float) -> None:
        """Keep presses for the next `seconds` (a new test starts a new list)."""
        with self._lock:
            self._started = self.clock()
            self._until, self._presses = self._started + seconds, []

    def since(self, index: int) -> dict:
        """Presses from `index` on, and whether the test still runs."""
        with self._lock:
            left = self._until - self.clock()
            return {"presses": self._presses[index:], "running": left > 0, "left_s": round(max(left, 0), 1)}


def build(settings: Settings, sim: bool, post: Callable, router: ButtonRouter | None = None):
    """(panel or None, its pin map) for this box; button presses are posted to the engine loop
    (through `router` when given: the panel test shows them instead while it runs)."""
    on_button = router or ButtonRouter(post)

    if sim:
        pin_map = simulated_pin_map(settings)
        return make_panel("mock", pin_map, on_button), pin_map
    if settings.panel is None:
        return None, None
    return make_panel(settings.panel.driver, settings.panel.pins, on_button), settings.panel.pins
