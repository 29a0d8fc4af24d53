"""LED patterns as pure functions: an operator's state -> the station LED, the box's health -> the box LED.

A `Pattern` is what gpiozero's `LED.blink` / `PWMLED` can show: off, steady (possibly dimmed), or
blinking at full brightness (`blink` cannot dim), forever or `n` times. `level_at` says how bright a
pattern is at a moment, for software blinkers (python-periphery has no blink of its own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum, StrEnum


class StationState(StrEnum):
    """What a station's LED can show: the operator states, plus `unavailable` (headset unplugged)."""

    logged_out = "logged_out"
    ready = "ready"
    paused = "paused"
    ringing = "ringing"
    on_call = "on_call"
    wrapup = "wrapup"
    unavailable = "unavailable"

    @classmethod
    def of(cls, state: StationState | Enum | str) -> StationState:
        """Accepts this enum, the engine's own str-valued enum, or the plain string."""
        value = state.value if isinstance(state, Enum) else state
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown station state {value!r}; one of {', '.join(cls)}") from None


@dataclass(frozen=True)
class Pattern:
    """An LED pattern: `on_time` lit at `brightness`, `off_time` dark, `n` cycles (None = forever).

    off_time == 0 means steady; brightness == 0 or on_time == 0 means off."""

    on_time: float
    off_time: float
    brightness: float = 1.0
    n: int | None = None

    def __post_init__(self):
        if not (self.on_time >= 0 and self.off_time >= 0 and math.isfinite(self.on_time + self.off_time)):
            raise ValueError(f"on_time and off_time must be finite and >= 0: {self}")
        if not 0 <= self.brightness <= 1:
            raise ValueError(f"brightness must be 0-1: {self}")
        if self.n is not None and self.n < 1:
            raise ValueError(f"n must be None (forever) or >= 1: {self}")
        if self.is_blinking and self.brightness != 1:
            raise ValueError(f"a blinking pattern is at full brightness (LED.blink cannot dim): {self}")

    @property
    def is_off(self) -> bool:
        return self.brightness == 0 or self.on_time == 0

    @property
    def is_steady(self) -> bool:
        return not self.is_off and self.off_time == 0

    @property
    def is_blinking(self) -> bool:
        return not self.is_off and self.off_time > 0


OFF = Pattern(0.0, 0.0, 0.0)
STEADY = Pattern(1.0, 0.0)
DIM = Pattern(1.0, 0.0, brightness=0.2)
FAST_BLINK = Pattern(0.1, 0.1)
SLOW_BLINK = Pattern(1.0, 1.0)
BLIP = Pattern(0.1, 1.4)    # mostly dark, a short flash
WINK = Pattern(1.3, 0.2)    # mostly lit, a short dark gap: the mirror image of BLIP
LAMP_TEST = Pattern(0.25, 0.25)

STATION_PATTERNS: dict[StationState, Pattern] = {
    StationState.logged_out: OFF,
    StationState.ready: DIM,
    StationState.paused: BLIP,
    StationState.ringing: FAST_BLINK,
    StationState.on_call: STEADY,
    StationState.wrapup: SLOW_BLINK,
    StationState.unavailable: WINK,
}


def station_pattern(state: StationState | Enum | str) -> Pattern:
    """The station LED's pattern for an operator state (ValueError for an unknown state)."""
    return STATION_PATTERNS[StationState.of(state)]


@dataclass(frozen=True)
class BoxHealth:
    """What the box LED shows, from the engine's view of the box."""

    lines_down: int = 0
    """Phone lines that should be up and are not (registration lost, gateway unreachable)."""
    callers_waiting: int = 0
    """Callers waiting in any queue for an operator."""
    unheard_messages: int = 0
    """Voicemail messages nobody has marked handled yet."""


def box_pattern(health: BoxHealth) -> Pattern:
    """Callers waiting (fast blink) outranks a line down (slow blink): it is what someone can act on now,
    and a line may stay down for hours. Unheard voicemail (lit, short dark gaps) comes last."""
    if health.callers_waiting > 0:
        return FAST_BLINK
    if health.lines_down > 0:
        return SLOW_BLINK
    if health.unheard_messages > 0:
        return WINK
    return STEADY


def level_at(pattern: Pattern, elapsed: float) -> float:
    """Brightness of `pattern` `elapsed` seconds after it started (each cycle starts lit)."""
    if pattern.is_off or elapsed < 0:
        return 0.0
    if pattern.is_steady:
        return pattern.brightness
    period = pattern.on_time + pattern.off_time
    if pattern.n is not None and elapsed >= pattern.n * period:
        return 0.0
    return pattern.brightness if elapsed % period < pattern.on_time else 0.0
