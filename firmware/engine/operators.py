"""Operators: their state machine, their figures, and the log of every change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from firmware.engine.hunt import Candidate
from firmware.engine.states import BUSY, OPERATOR_TRANSITIONS, OperatorState, check
from firmware.settings import Operator as OperatorConfig


@dataclass
class Operator:
    config: OperatorConfig
    state: OperatorState = OperatorState.logged_out
    reason: str = ""
    since: float = 0.0
    idle_since: float = 0.0
    calls_today: int = 0
    missed_in_row: int = 0
    call_id: str | None = None
    after_call: tuple[OperatorState, str] | None = None
    """What the operator asked for while busy, applied when the call and wrap-up are over."""

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class Operators:
    """Every operator of the box. `on_change(operator)` is told each state change (for the log)."""

    clock: Callable[[], float]
    on_change: Callable[[Operator], None]
    by_name: dict[str, Operator] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    """Stations whose headset is unplugged, and why: never rung until it is back (their state is kept)."""

    def configure(self, configs: list[OperatorConfig]) -> None:
        """Apply the configured operators; those kept keep their state and figures."""
        old = self.by_name
        self.by_name = {}
        for cfg in configs:
            if cfg.name in old:
                old[cfg.name].config = cfg
                self.by_name[cfg.name] = old[cfg.name]
            else:
                op = Operator(cfg, since=self.clock())
                self.by_name[cfg.name] = op
                if cfg.login == "ready":
                    self.set(op, OperatorState.ready, "start-up")

    def __getitem__(self, name: str) -> Operator:
        return self.by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def __iter__(self):
        return iter(list(self.by_name.values()))

    def set(self, op: Operator, state: OperatorState, reason: str = "", call_id: str | None = None) -> None:
        check(OPERATOR_TRANSITIONS, op.state, state)
        if op.state in (OperatorState.on_call, OperatorState.wrapup) and state not in BUSY:
            op.idle_since = self.clock()
        op.state, op.reason, op.since = state, reason, self.clock()
        op.call_id = call_id if state in BUSY else None
        self.on_change(op)

    def request(self, op: Operator, action: str, reason: str = "") -> str:
        """A person's ready / pause / logout. Returns what happened, in words."""
        wanted = {"ready": OperatorState.ready, "pause": OperatorState.paused,
                  "logout": OperatorState.logged_out}.get(action)
        if wanted is None:
            raise ValueError(f"unknown operator action {action!r} (ready, pause, logout)")
        if op.state == OperatorState.ringing and wanted == OperatorState.ready:
            return f"{op.name} is ringing"
        if op.state in BUSY and op.state != OperatorState.ringing:
            op.after_call = (wanted, reason)
            return f"{op.name} is {op.state.value}; {action} applies after the call"
        if wanted == OperatorState.ready:
            op.missed_in_row = 0
        if op.state != wanted or wanted == OperatorState.paused:
            self.set(op, wanted, reason)
        return f"{op.name} is {wanted.value}"

    def free(self, names: list[str]) -> list[Candidate]:
        return [Candidate(op.name, op.calls_today, op.idle_since)
                for op in (self.by_name.get(n) for n in names)
                if op is not None and op.state == OperatorState.ready and op.name not in self.unavailable]

    def logged_in(self, names: list[str]) -> list[Operator]:
        """Operators who could take calls now or soon (a station without its headset cannot)."""
        return [self.by_name[n] for n in names
                if n in self.by_name and self.by_name[n].state != OperatorState.logged_out
                and n not in self.unavailable]
