"""Transfers: an operator hands the connected caller to another operator or back to the queue.

`decide` and `after_failure` are pure decisions over plain values. `TransferMixin` is the engine's
part (the `Engine` inherits it): ring the target while the caller keeps talking to the first
operator; on answer connect the caller to the target and send the first operator to wrap-up; if the
target does not answer the first operator keeps the caller. The call keeps its record and its
recording throughout (the recorder gains the new operator's leg).
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.engine.ports import DialFailed, Timer
from firmware.engine.queueing import QueueState
from firmware.engine.session import Recording
from firmware.engine.states import CallState, OperatorState

QUEUE = "queue"
"""The transfer target that hands the caller back to the queue the call came through."""


@dataclass(frozen=True)
class ToOperator:
    target: str


@dataclass(frozen=True)
class ToQueue:
    queue: str


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass
class PendingTransfer:
    """The target being rung for a caller while the first operator is still on the line."""

    leg: str
    target: str
    source: str
    timer: Timer | None = None


def decide(source: str, source_state: str, has_call: bool, pending: str | None, target: str,
           target_state: str | None, target_available: bool, queue: str | None):
    """What a transfer request from `source` to `target` ("queue" or an operator name) does."""
    if source_state != OperatorState.on_call.value or not has_call:
        return Refused(f"{source} has no call to transfer ({source_state})")
    if pending is not None:
        return Refused(f"a transfer to {pending} is already ringing")
    if target == QUEUE:
        if queue is None:
            return Refused("this call did not come through a queue")
        return ToQueue(queue)
    if target_state is None:
        return Refused(f"no operator named {target!r}")
    if target == source:
        return Refused(f"{source} cannot transfer a call to themself")
    if not target_available:
        return Refused(f"{target}'s headset is unplugged")
    if target_state != OperatorState.ready.value:
        return Refused(f"{target} is {target_state}; only a ready operator can take a transfer")
    return ToOperator(target)


def after_failure(source_still_on_call: bool) -> str:
    """A transfer that was not answered: 'stay' (the first operator keeps the caller) or 'queue'
    (the first operator has hung up meanwhile, so the caller goes back to the queue)."""
    return "stay" if source_still_on_call else "queue"


class TransferMixin:
    """The engine's transfer handling; relies on the `Engine`'s sessions, legs, operators and ports."""

    def on_Transfer(self, c) -> dict:
        if c.operator not in self.operators:
            raise KeyError(f"no operator named {c.operator!r}")
        op = self.operators[c.operator]
        s = self.sessions.get(op.call_id or "")
        self.store.operator_state(op.name, op.state.value, f"transfer to {c.target} requested ({c.by})", op.call_id)
        if s is not None and s.outgoing_by is not None:
            raise ValueError("transfer refused: an operator's own outgoing call cannot be transferred")
        target = self.operators.by_name.get(c.target)
        decision = decide(op.name, op.state.value, bool(s and s.operator == op.name),
                          s.transfer.target if s and s.transfer else None, c.target,
                          target.state.value if target else None, self.headset_available(c.target),
                          s.queue.name if s and s.queue else None)
        if isinstance(decision, ToQueue):
            self._transfer_to_queue(s, f"transferred back to the queue by {op.name}")
            return {"message": f"{op.name} handed the caller back to queue {decision.queue}",
                    "state": op.state.value}
        if isinstance(decision, ToOperator):
            return self._transfer_ring(s, op.name, decision.target)
        self.store.operator_state(op.name, op.state.value, f"transfer refused: {decision.reason}", op.call_id)
        raise ValueError(f"transfer refused: {decision.reason}")

    def _transfer_ring(self, s, source: str, name: str) -> dict:
        op = self.operators[name]
        try:
            leg = self.tel.dial(op.config.uri) if op.config.kind == "sip" else self.tel.ring_station(name)
        except DialFailed as exc:
            raise ValueError(f"transfer refused: cannot ring {name}: {exc}") from None
        self.legs[leg] = (s.id, name)
        s.transfer = PendingTransfer(leg, name, source)
        s.transfer.timer = self.timers.call_later(s.queue.ring_timeout_s, self._transfer_over, s.id, leg,
                                                  "no answer")
        self.operators.set(op, OperatorState.ringing, f"transfer from {source}", s.id)
        self.store.queue_event(s.id, s.queue.name, "transfer", source, f"ringing {name}")
        if op.config.kind == "station" and op.config.auto_answer_s is not None:
            self.timers.call_later(op.config.auto_answer_s, self._auto_answer, leg)
        return {"message": f"ringing {name} for {source}'s caller", "state": self.operators[source].state.value}

    def _transfer_answered(self, leg: str) -> bool:
        """The transfer target answered: it takes the caller; the first operator goes to wrap-up."""
        s = self._session_of(leg)
        if s is None or s.transfer is None or s.transfer.leg != leg:
            return False
        t, s.transfer = s.transfer, None
        self._cancel(t.timer)
        if s.operator:
            self._operator_leaves(s, f"to {t.target}")
        elif s.state == CallState.queued:  # the first operator hung up and the caller waited in the queue
            self._leave_queue(s)
            self._set_state(s, CallState.connected)
        op = self.operators[t.target]
        s.operator, s.operator_leg, s.connected_at = t.target, leg, self.clock()
        op.missed_in_row = 0
        op.calls_today += 1
        self.operators.set(op, OperatorState.on_call, f"transfer from {t.source}", s.id)
        self.tel.bridge(s.leg, leg)
        if s.recording == Recording.on:
            self.tel.record_leg(s.id, leg)
        self.store.call_updated(s.id, operator=t.target)
        self.store.queue_event(s.id, s.queue.name, "connect", t.target, f"transfer from {t.source}")
        return True

    def _operator_leaves(self, s, why: str) -> None:
        """The operator on the call hands it on: their talk time is kept, they go to wrap-up."""
        s.talk_before += self.clock() - s.connected_at
        s.transfers += 1
        self.store.queue_event(s.id, s.queue.name, "transfer", s.operator, why)
        self._to_wrapup(s)
        s.operator = s.operator_leg = None
        s.connected_at = 0.0

    def _transfer_over(self, call_id: str, leg: str, reason: str, call_ending: bool = False) -> None:
        """The target did not take the transfer (no answer, declined, paused, unplugged), or the
        call is ending."""
        s = self.sessions.get(call_id)
        if s is None or s.transfer is None or s.transfer.leg != leg:
            return
        t, s.transfer = s.transfer, None
        self._cancel(t.timer)
        self.legs.pop(leg, None)
        self.tel.hangup(leg)
        op = self.operators.by_name.get(t.target)
        if op is not None and op.state == OperatorState.ringing and op.call_id == s.id:
            self.operators.set(op, OperatorState.ready, f"transfer not taken ({reason})")
        self.store.queue_event(s.id, s.queue.name, "transfer_failed", t.target, reason)
        if call_ending:
            pass
        elif after_failure(s.operator == t.source) == "stay":
            src = self.operators.by_name.get(t.source)
            if src is not None:
                self.store.operator_state(src.name, src.state.value, f"transfer to {t.target} failed ({reason});"
                                          " the caller stays", s.id)
        elif s.state == CallState.connected:
            self._requeue(s, t.source)
        self._dispatch_for(t.target)

    def _transfer_leg_ended(self, leg: str) -> bool:
        """A leg ended while a transfer rings: the target's (declined) or the first operator's
        (hung up: the transfer goes on without them, the caller hears music meanwhile)."""
        s = self._session_of(leg)
        if s is None or s.transfer is None:
            return False
        if leg == s.transfer.leg:
            self._transfer_over(s.id, leg, "declined")
            return True
        if leg == s.operator_leg and s.state == CallState.connected:
            self.legs.pop(leg, None)
            self._operator_leaves(s, f"hung up while {s.transfer.target} rings")
            self.tel.music(s.leg, s.queue.music)
            return True
        return False

    def _transfer_cancel(self, s, reason: str) -> None:
        if s.transfer is not None:
            self._transfer_over(s.id, s.transfer.leg, reason, call_ending=True)

    def _transfer_to_queue(self, s, why: str) -> None:
        source = s.operator
        self._operator_leaves(s, "to the queue")
        self._requeue(s, source)
        op = self.operators.by_name.get(source)
        self.store.operator_state(source, op.state.value if op else "removed", why, s.id)

    def _requeue(self, s, source: str | None) -> None:
        """Back to the queue the call came through, ahead of callers who came later (its original
        arrival time and priority), and not straight back to the operator who handed it over."""
        q = s.queue
        qs = self.queues.setdefault(q.name, QueueState(q.name, q))
        self._set_state(s, CallState.queued)
        s.tried, s.attempt = ({source} if source else set()), None
        qs.add(s.id, s.priority, s.queued_at)
        self.store.queue_event(s.id, q.name, "enter", detail=f"position {qs.position(s.id)} (transferred)")
        self.tel.music(s.leg, q.music)
        s.max_wait_timer = self.timers.call_later(q.max_wait_s, self._max_wait, s.id)
        if q.announce_every_s > 0:
            s.announce_timer = self.timers.call_later(q.announce_every_s, self._announce, s.id)
        self._dispatch(q.name)

    def _recording_continues(self, s, leg: str) -> bool:
        """A transferred call already recorded: the new operator's leg joins the recorder; if the
        recording was stopped early (disk almost full) nothing restarts it, which would overwrite the
        file kept so far."""
        if s.recording == Recording.none:
            return False
        if s.recording == Recording.on:
            self.tel.record_leg(s.id, leg)
        return True
