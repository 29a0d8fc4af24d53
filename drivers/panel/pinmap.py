"""The panel's wiring: which BCM pin each station button and LED is on, and the button timing.

`PinMap` is a pydantic model (unknown keys refused, every field documented) so the box's settings
schema can embed it as it is. `validate_pin_map` turns raw configuration into a `PinMap` or raises
`PanelConfigError` listing every problem at once, each naming the station and the pin.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from drivers.panel.interface import ButtonName

FIRST_BCM, LAST_BCM = 0, 27
PIN_USED_TWICE = "pin_used_twice"

Bcm = Annotated[int, Field(ge=FIRST_BCM, le=LAST_BCM, strict=True)]
StationName = Annotated[str, Field(min_length=1, max_length=32)]


class PanelConfigError(ValueError):
    """A pin map that was refused; `problems` is a list of (key, value, reason), like SettingsError."""

    def __init__(self, problems: list[tuple[str, object, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{key} = {value!r}: {reason}" for key, value, reason in problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ButtonPin(_Model):
    """A push button between a GPIO pin and ground (pull_up = true) or 3.3 V (pull_up = false)."""

    bcm: Bcm
    """BCM (GPIO) number of the pin, 0-27 on the 40-pin header. 14/15 carry the serial console."""
    pull_up: bool = True
    """true: internal pull-up, the button connects the pin to ground (pressed = low);
    false: internal pull-down, the button connects the pin to 3.3 V (pressed = high)."""


class LedPin(_Model):
    """An LED driven by a GPIO pin (through a resistor or a transistor)."""

    bcm: Bcm
    """BCM (GPIO) number of the pin, 0-27 on the 40-pin header. 14/15 carry the serial console."""
    active_high: bool = True
    """true: the LED lights when the pin is high (pin -> resistor -> LED -> ground);
    false: it lights when the pin is low (3.3 V -> LED -> resistor -> pin)."""


class StationPins(_Model):
    """One operator station's panel: three buttons and a status LED."""

    answer: ButtonPin
    """Answer / hang up: answers when ringing, hangs up when on a call."""
    ready: ButtonPin
    """Ready / pause toggle; a long press logs the operator out."""
    transfer: ButtonPin
    """Transfer the call in progress."""
    status: LedPin
    """The station's status LED (its pattern follows the operator's state)."""


class PinMap(_Model):
    """The operator panels of the box: every station's buttons and LED, the box LED, button timing."""

    stations: dict[StationName, StationPins] = {}
    """Panels by station name (the name of the operator of kind "station" sitting there)."""
    box: LedPin
    """The box status LED: healthy (steady), a line down (slow blink), callers waiting (fast blink)."""
    debounce_s: float = Field(default=0.03, ge=0.0, le=0.5)
    """A button's level must stay the same this long (seconds) before a change counts."""
    long_press_s: float = Field(default=2.0, ge=0.3, le=10.0)
    """Holding a button this long (seconds) is a long press, reported instead of a short one."""

    @model_validator(mode="after")
    def _each_pin_once(self):
        clashes = list(pin_clashes(pin_uses(self.model_dump())))
        if clashes:
            text = "; ".join(f"{key}: {reason}" for key, _, reason in clashes)
            raise PydanticCustomError(PIN_USED_TWICE, "{clashes}", {"clashes": text})
        return self

    def led_pins(self) -> list[LedPin]:
        """Every LED: the stations' status LEDs, then the box LED."""
        return [pins.status for pins in self.stations.values()] + [self.box]

    def button_pins(self) -> Iterator[tuple[str, ButtonName, ButtonPin]]:
        """(station, button, pin) for every button of every station."""
        for station, pins in self.stations.items():
            for button in ButtonName:
                yield station, button, getattr(pins, button.value)


def pin_uses(raw: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    """(key, BCM number) of every pin named in raw pin-map data, however malformed the rest is."""
    stations = raw.get("stations")
    for station, pins in (stations.items() if isinstance(stations, Mapping) else ()):
        if not isinstance(pins, Mapping):
            continue
        for part in (*(b.value for b in ButtonName), "status"):
            pin = pins.get(part)
            if isinstance(pin, Mapping) and type(pin.get("bcm")) is int:
                yield f"stations.{station}.{part}.bcm", pin["bcm"]
    box = raw.get("box")
    if isinstance(box, Mapping) and type(box.get("bcm")) is int:
        yield "box.bcm", box["bcm"]


def pin_clashes(uses) -> Iterator[tuple[str, int, str]]:
    """(key, pin, reason) for each use of a pin that an earlier key already uses."""
    first_user: dict[int, str] = {}
    for key, bcm in uses:
        if bcm in first_user:
            yield key, bcm, f"GPIO {bcm} is already used by {first_user[bcm]}"
        else:
            first_user[bcm] = key


def validate_pin_map(raw: Mapping[str, Any] | PinMap) -> PinMap:
    """Raw configuration (a dict, e.g. from TOML) -> PinMap; PanelConfigError lists every problem."""
    if isinstance(raw, PinMap):
        return raw
    if not isinstance(raw, Mapping):
        raise PanelConfigError([("panel", raw, "a pin map is a table (stations, box, ...)")])
    try:
        return PinMap.model_validate(raw)
    except ValidationError as error:
        # Pydantic skips the whole-map check when a field is wrong, so clashes are found on the raw data.
        problems = [_problem(e) for e in error.errors() if e["type"] != PIN_USED_TWICE]
        problems += pin_clashes(pin_uses(raw))
        raise PanelConfigError(problems) from None


def _problem(error) -> tuple[str, object, str]:
    loc = [str(part) for part in error["loc"]]
    value = error.get("input")
    if loc[-1:] == ["[key]"]:
        return ".".join(loc[:-1]), value, f"not a station name: {error['msg']}"
    key = ".".join(loc)
    if error["type"] == "missing":
        return key, None, "required, missing"
    if error["type"] == "extra_forbidden":
        return key, value, "unknown key"
    if key.endswith(".bcm") or key == "bcm":
        if type(value) is int:
            return key, value, f"GPIO {value} is not on the Pi header (BCM {FIRST_BCM}-{LAST_BCM})"
        return key, value, f"a BCM pin number, {FIRST_BCM}-{LAST_BCM}"
    return key, value, error["msg"]
