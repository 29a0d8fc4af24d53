"""The IVR menu as a pure state machine: digits and time-outs in, what to play or where to go out."""

from __future__ import annotations

from dataclasses import dataclass

from firmware.settings import Menu


@dataclass(frozen=True)
class Play:
    """Play these prompts, then wait for a digit (barge-in allowed)."""

    prompts: tuple[str, ...]


@dataclass(frozen=True)
class Goto:
    """Leave the menu for a destination such as 'queue:front-desk' or 'hangup'."""

    destination: str
    reason: str = "choice"


@dataclass(frozen=True)
class MenuState:
    menu: str
    tries: int = 0


def start(menu: Menu, intro: tuple[str, ...] = ()) -> tuple[MenuState, Play]:
    return MenuState(menu.name), Play(intro + (menu.prompt,))


def on_digit(menu: Menu, state: MenuState, digit: str) -> tuple[MenuState, Play | Goto]:
    destination = menu.options.get(digit)
    if destination == "repeat":
        return state, Play((menu.prompt,))
    if destination is not None:
        return state, Goto(destination)
    return _retry(menu, state, menu.invalid_prompt, menu.on_invalid, "invalid")


def on_timeout(menu: Menu, state: MenuState) -> tuple[MenuState, Play | Goto]:
    return _retry(menu, state, menu.noinput_prompt, menu.on_noinput, "noinput")


def _retry(menu: Menu, state: MenuState, prompt: str | None, destination: str, reason: str):
    tries = state.tries + 1
    if tries > menu.retries:
        return MenuState(menu.name, tries), Goto(destination, reason)
    prompts = ((prompt,) if prompt else ()) + (menu.prompt,)
    return MenuState(menu.name, tries), Play(prompts)
