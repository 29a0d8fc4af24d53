"""Modem lines follow the configuration: `reload` adds, changes and removes them without a restart.

`plan()` is the pure decision (which lines to open, reopen with new settings, close); `ModemLines`
carries it out on the loop thread. A line whose call is in progress keeps its modem until the call
is over: the change waits (`pending`) and is made when the line is back on hook.

The modem driver (and numpy, which its audio analysis uses) is imported only where a modem line exists:
an engine with SIP lines only never loads it (issue 9: RSS; start-up time on the Pi).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from firmware.telephony.modems import ModemLine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    add: list          # settings.Line: lines to open
    change: list       # settings.Line: open lines whose device or driver settings changed
    remove: list[str]  # names of open lines no longer configured (or no longer modem lines)


def driver_view(line) -> tuple:
    """What the driver is built from: a change in anything else (routes) needs no reopening."""
    from firmware.telephony.modems import modem_settings  # an open modem line: the driver is loaded
    return line.device, modem_settings(line)


def plan(open_lines: dict, configured: list) -> Plan:
    """`open_lines`: name -> the settings.Line each open modem line was built from."""
    wanted = {ln.name: ln for ln in configured if ln.kind == "modem"}
    return Plan(add=[ln for name, ln in wanted.items() if name not in open_lines],
                change=[ln for name, ln in wanted.items()
                        if name in open_lines and driver_view(open_lines[name]) != driver_view(ln)],
                remove=[name for name in open_lines if name not in wanted])


class ModemLines:
    """`lines` is the telephony's dict of open ModemLine objects; `make(settings.Line)` builds one
    (the composition root's choice: a real device or a simulated modem); `start(ModemLine)` registers
    and starts it."""

    def __init__(self, lines: dict[str, ModemLine], make: Callable[[object], ModemLine],
                 start: Callable[[ModemLine], None]):
        self.lines, self.make, self.start = lines, make, start
        self.built_from: dict[str, object] = {}      # name -> settings.Line
        self.pending: dict[str, object | None] = {}  # name -> the change waiting for the call's end (None: removal)

    def open_all(self, configured: list) -> None:
        self.reconcile(configured)

    def reconcile(self, configured: list) -> list[str]:
        """Apply a configuration; returns one note per line changed now or later."""
        todo, notes = plan(self.built_from, configured), []
        self.pending = {name: change for name, change in self.pending.items()
                        if name in {ln.name for ln in todo.change} | set(todo.remove)}
        for line in todo.add:
            self._open(line)
            notes.append(f"modem line {line.name} opened")
        for line in todo.change:
            notes.append(self._when_free(line.name, line))
        for name in todo.remove:
            notes.append(self._when_free(name, None))
        for note in notes:
            log.info("%s", note)
        return notes

    def settle(self, name: str, event) -> None:
        """After each driver event: a change that waited for the call is made once the line is idle."""
        from drivers.modem import LineChanged, LineState  # a driver event: the driver is loaded
        if name in self.pending and isinstance(event, LineChanged) and event.state is LineState.idle:
            self._apply(name, self.pending.pop(name))

    def close_all(self) -> None:
        for line in self.lines.values():
            line.modem.close()

    def _when_free(self, name: str, line) -> str:
        if self.lines[name].leg is not None:
            self.pending[name] = line
            return f"modem line {name} {'changes' if line else 'closes'} when its call ends"
        self._apply(name, line)
        return f"modem line {name} {'reopened with its new settings' if line else 'closed'}"

    def _apply(self, name: str, line) -> None:
        old = self.lines.pop(name, None)
        self.built_from.pop(name, None)
        if old is not None:
            old.modem.close()  # on hook, port closed: the new driver opens the device afresh
        if line is not None:
            self._open(line)

    def _open(self, line) -> None:
        modem_line = self.make(line)
        self.built_from[line.name] = line
        self.start(modem_line)
