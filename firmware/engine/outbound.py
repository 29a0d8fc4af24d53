"""Operators dialling out from their own phones.

The edge (Kamailio) challenges every INVITE that does not come from a line's address and, once the
phone has proved its password, tells the engine who it is (`X-Switchboard-Operator`, believed only
from the edge's loopback socket: firmware/edge/trust.py). `decide` is the pure rule of who may dial
what; `OutboundFlow` is the engine's part (a mixin of `Engine`): dial the number on a free outgoing
line, answer the operator's phone when the far end answers, bridge and record both, one call record
with direction "outbound".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from firmware import events as ev
from firmware.engine import dialplan
from firmware.engine.ports import DialFailed
from firmware.engine.session import Recording, Session
from firmware.engine.states import CallState, OperatorState
from firmware.settings import Operator as OperatorConfig, Outbound
from firmware.store import recordings
from firmware.timeutil import iso

log = logging.getLogger(__name__)

RING_LIMIT_S = 90.0
"""An outgoing call not answered in this long is given up (the far end or the line never said so)."""
DENIED_ALERT_HOLD_S = 3600.0
"""A refused number's alert stays until an allowed call is placed at least this long after it."""
BUSY_STATES = {OperatorState.ringing.value, OperatorState.on_call.value}


@dataclass(frozen=True)
class Dial:
    operator: str
    number: str


@dataclass(frozen=True)
class Refuse:
    """The SIP answer to the operator's phone and, in words, why (log and call record)."""

    code: int
    reason: str
    why: str
    alert: str | None = None  # the alert kind raised, if any


def decide(username: str, operator: OperatorConfig | None, state: str | None, rules: Outbound,
           number: str, rate_allows: bool, line_free: bool):
    """May the phone authenticated as `username` dial `number` now? `Dial` or `Refuse`."""
    if operator is None:
        return Refuse(403, "Forbidden", f"no operator has the SIP user name {username!r}")
    if state in BUSY_STATES:
        return Refuse(486, "Busy Here", f"{operator.name} is {state}")
    try:
        digits = dialplan.check_number(rules, number)
    except dialplan.Refused as exc:
        return Refuse(403, "Number Not Allowed", f"{operator.name} dialled {number!r}: {exc}", alert="dialplan")
    if not rate_allows:
        return Refuse(403, "Outgoing Call Limit", f"{operator.name} dialled {digits}: more than "
                      f"{rules.max_per_hour} outgoing calls in the last hour", alert="outbound")
    if not line_free:
        return Refuse(503, "No Free Line", f"{operator.name} dialled {digits}: no outgoing line with a free channel")
    return Dial(operator.name, digits)


def far_end_disposition(status: int) -> str:
    """How an outgoing call that never connected ended, from the far end's SIP status."""
    if status in (486, 600):
        return "busy"
    if status in (408, 480, 487, 603):
        return "no_answer"
    return "failed"


def relayed_status(status: int) -> int:
    """What the operator's phone is told when the far end did not answer: its final status, or 480."""
    return status if 400 <= status < 700 else 480


class OutboundFlow:
    # --- the operator's INVITE --------------------------------------------------------------------
    def _operator_by_username(self, username: str):
        return next((op for op in self.operators if op.config.kind == "sip" and op.config.username == username),
                    None)

    def _outbound_incoming(self, e: ev.IncomingCall) -> None:
        op = self._operator_by_username(e.operator)
        line = self._free_line()
        decision = decide(e.operator, op.config if op else None, op.state.value if op else None,
                          self.settings.outbound, e.dialled, self.rate.allows(self.settings.outbound.max_per_hour),
                          line is not None)
        call_id = self._new_id()
        row = {"id": call_id, "line": line.name if line else None, "caller_id": dialplan.normalise(e.dialled),
               "dialled": e.dialled, "source_ip": e.source_ip, "started_at": iso(self.wall()),
               "operator": op.name if op else None, "direction": "outbound"}
        if isinstance(decision, Refuse):
            return self._outbound_refused(e.leg, row, decision)
        self._outbound_allowed()
        s = Session(call_id, "", line.name, decision.number, self.clock(), state=CallState.dialling_out)
        s.outgoing_by = op.name
        s.operator, s.operator_leg = op.name, e.leg
        s.path.append(f"outbound:{op.name}")
        self.sessions[s.id] = s
        self.legs[e.leg] = (s.id, op.name)
        self._operator_dials(op, s)
        self.store.call_started({**row, "caller_id": decision.number})
        try:
            leg = self.tel.dial_line(line, decision.number)
        except DialFailed as exc:
            log.warning("outgoing call %s: %s", s.id, exc)
            self.legs.pop(e.leg, None)
            self.tel.reject(e.leg, 503, "Line Failed")
            return self._end(s, "failed", f"could not dial on line {line.name}: {exc}")
        self.rate.record()
        s.leg = leg
        self.legs[leg] = (s.id, None)
        self.tel.ringing(e.leg)
        s.digit_timer = self.timers.call_later(RING_LIMIT_S, self._outbound_no_answer, s.id)
        log.info("call %s: %s dials %s on line %s", s.id, op.name, decision.number, line.name)

    def _outbound_refused(self, leg: str, row: dict, refusal: Refuse) -> None:
        self.tel.reject(leg, refusal.code, refusal.reason)
        message = f"outgoing call refused with {refusal.code} {refusal.reason}: {refusal.why}"
        log.warning("%s", message)
        self.store.log("warning", "outbound", message)
        self.store.call_started({**row, "line": None, "ended_at": row["started_at"],  # no line was seized
                                 "disposition": "rejected", "end_reason": refusal.why})
        if refusal.alert == "outbound":
            self._rate_tripped()
        elif refusal.alert == "dialplan":
            self._alert("dialplan", f"an outgoing call was refused by the dial plan: {refusal.why}")
            self._denied_at = self.clock()

    def _outbound_allowed(self) -> None:
        self.alerts.pop("outbound", None)
        if "dialplan" in self.alerts and self.clock() - getattr(self, "_denied_at", 0.0) >= DENIED_ALERT_HOLD_S:
            self.alerts.pop("dialplan", None)

    def _operator_dials(self, op, s: Session) -> None:
        """The operator is on this call (never offered a queue call meanwhile); afterwards back to the
        state they were in (or whatever they asked for since)."""
        self._cancel(self.wrapup_timers.pop(op.name, None))
        if op.after_call is None and op.state != OperatorState.wrapup:
            if op.state != OperatorState.ready:
                op.after_call = (op.state, f"{op.state.value} before the outgoing call")
        self.operators.set(op, OperatorState.on_call, f"dialling {s.caller_id}", s.id)

    # --- the far end ------------------------------------------------------------------------------
    def _outbound_answered(self, s: Session) -> None:
        self._cancel(s.digit_timer)
        s.digit_timer = None
        self.tel.answer(s.operator_leg)
        self._set_state(s, CallState.connected)
        s.connected_at = self.clock()
        self.tel.bridge(s.leg, s.operator_leg)
        fields = {"connected_at": iso(self.wall())}
        if self._room_to_record():
            path = str(recordings.path_for(self.data_dir, s.id))
            self.tel.start_recording(s.id, [s.leg, s.operator_leg], path)
            s.recording = Recording.on
            fields["recording"] = path
            self._watch_disk()
        self.store.call_updated(s.id, **fields)

    def _outbound_leg_ended(self, s: Session, e: ev.LegEnded, name: str | None) -> None:
        if s.state == CallState.connected:
            return self._end(s, "answered", "the operator hung up" if name else "the far end hung up")
        if name is None:  # busy, declined, unreachable: the operator's phone hears the same
            self.legs.pop(s.operator_leg, None)
            self.tel.reject(s.operator_leg, relayed_status(e.status), e.reason or "")
            return self._end(s, far_end_disposition(e.status), e.reason or f"status {e.status}")
        self._end(s, "no_answer", f"{name} hung up before the answer")

    def _outbound_no_answer(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.state != CallState.dialling_out:
            return
        self.legs.pop(s.operator_leg, None)
        self.tel.reject(s.operator_leg, 480, "No Answer")
        self._end(s, "no_answer", f"not answered in {RING_LIMIT_S:.0f} s")
