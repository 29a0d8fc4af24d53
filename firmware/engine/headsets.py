"""Headsets coming and going: an unplugged headset makes its station unavailable (the hunt group
skips it, its LED says so, status shows it); plugging it back makes it available again.

`HeadsetMixin` is the engine's part (the `Engine` inherits it). The operator keeps their state
(ready, paused ...) while unplugged; availability is a separate fact kept in `Operators.unavailable`,
so plugging back in returns the operator to what they were.
"""

from __future__ import annotations

import logging

from firmware.engine.states import OperatorState

log = logging.getLogger(__name__)


class HeadsetMixin:
    def headset_available(self, name: str) -> bool:
        return name not in self.operators.unavailable

    def on_HeadsetChanged(self, e) -> None:
        op = self.operators.by_name.get(e.station)
        if op is None or op.config.kind != "station":
            log.info("headset event for %s, which is not a station here: ignored", e.station)
            return
        if e.present == self.headset_available(op.name):
            return  # no change (start-up scan, or a repeated event)
        what = f"headset {'plugged in' if e.present else 'unplugged'}" + (f" ({e.detail})" if e.detail else "")
        self.store.operator_state(op.name, op.state.value, what, op.call_id)
        self.store.log("info" if e.present else "warning", "headset", f"{op.name}: {what}")
        log.log(logging.INFO if e.present else logging.WARNING, "%s: %s", op.name, what)
        if e.present:
            self.operators.unavailable.pop(op.name, None)
            self.indicators.set_station(op.name, op.state.value)
            self._dispatch_for(op.name)
            return
        self.operators.unavailable[op.name] = e.detail or "headset unplugged"
        self.indicators.set_station(op.name, "unavailable")
        self._headset_lost(op)

    def _headset_lost(self, op) -> None:
        """The station's audio is gone: stop ringing it, and give its caller back to the queue."""
        s = self.sessions.get(op.call_id or "")
        if s is None:
            return
        if op.state == OperatorState.ringing:
            if s.transfer is not None and s.transfer.target == op.name:
                self._transfer_over(s.id, s.transfer.leg, "headset unplugged")
            else:
                self._release_ringing(op)
        elif op.state == OperatorState.on_call and s.operator == op.name:
            self._transfer_to_queue(s, "headset unplugged during the call")
