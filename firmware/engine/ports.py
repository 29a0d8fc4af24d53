"""What the engine core needs from the world, as small interfaces. The pjsua2 adapter implements
`Telephony` on the box and in simulation; unit tests use the fake in tests/fakes.py."""

from __future__ import annotations

from typing import Callable, Protocol

from firmware.settings import Settings


class DialFailed(RuntimeError):
    """An outgoing leg could not be placed."""


class CapacityReached(DialFailed):
    """No SIP call slot left in this engine (the pjsua2 build's call limit)."""


class Timer(Protocol):
    def cancel(self) -> None: ...


class Timers(Protocol):
    def call_later(self, delay: float, fn: Callable, *args) -> Timer: ...


class Indicators(Protocol):
    """What the box shows: each station's LED follows its operator, the box LED the box's health."""

    def set_station(self, station: str, state: str) -> None: ...
    def show_box(self, lines_down: int, callers_waiting: int) -> None: ...


class NoIndicators:
    def set_station(self, station: str, state: str) -> None:
        pass

    def show_box(self, lines_down: int, callers_waiting: int) -> None:
        pass


class Telephony(Protocol):
    """Legs are audio endpoints named by strings: SIP calls (in or out) and headset stations."""

    max_calls: int

    def configure(self, settings: Settings) -> None: ...
    def answer(self, leg: str) -> None: ...
    def reject(self, leg: str, code: int) -> None: ...
    def hangup(self, leg: str) -> None: ...
    def dial(self, uri: str) -> str: ...
    def ring_station(self, station: str) -> str: ...
    def play(self, leg: str, prompts: list[str], token: int) -> None: ...
    def music(self, leg: str, prompt: str | None) -> None: ...
    def bridge(self, a: str, b: str) -> None: ...
    def start_recording(self, key: str, legs: list[str], path: str) -> None: ...
    def stop_recording(self, key: str) -> None: ...
    def capacity(self) -> dict: ...
    def line_state(self, line: str) -> str: ...
    def device_event(self, source: str, event) -> list: ...
