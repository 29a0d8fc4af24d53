"""Queue callback, the engine's part: a waiting caller keeps their place and hangs up; when that
place comes up, the box reserves a free operator, whispers whom it is calling, then dials the customer
on a free line and connects them when they answer.

A mixin of `Engine` (core.py): it works on the engine's sessions, queues and operators.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from firmware import events as ev
from firmware.engine import dialplan
from firmware.engine.ports import DialFailed
from firmware.engine.session import Session
from firmware.engine.states import CallState, OperatorState
from firmware.prompts import spoken_digits
from firmware.settings import Line, Queue
from firmware.timeutil import iso

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 10.0
"""A caller choosing callback who presses nothing for this long goes back to the queue's music."""
MAX_KEYING_TRIES = 3


@dataclass
class CallbackRequest:
    """A callback asked for: it waits in its queue at the place of the call that asked for it."""

    id: str
    call_id: str
    queue: str
    number: str
    requested_at: dt.datetime
    priority: int = 0
    attempts: int = 0
    next_at: float = 0.0          # engine clock: no attempt before
    session: str | None = None    # the callback call in progress

    @classmethod
    def restored(cls, row: dict, clock_now: float, wall_now: dt.datetime) -> "CallbackRequest":
        """A pending callback saved before a restart, on this run's clock."""
        due = dt.datetime.fromisoformat(row["next_at"]) if row.get("next_at") else wall_now
        return cls(row["id"], row["call_id"], row["queue"], row["number"],
                   dt.datetime.fromisoformat(row["requested_at"]), row["priority"] or 0,
                   row["attempts"] or 0, clock_now + max(0.0, (due - wall_now).total_seconds()))


class CallbackFlow:
    # --- the caller's side: offer, confirm or key in a number ---------------------------------------
    def _plan_offer(self, s, q: Queue) -> None:
        """On joining a queue: offer callback at once when the wait looks long, else after a while."""
        if not q.callback.enabled or not any(ln.outgoing for ln in self.settings.lines):
            return
        qs = self.queues[q.name]
        wait = qs.estimated_wait_s(s.id, len(self.operators.logged_in(q.operators)))
        delay = 0.0 if wait > q.callback.offer_if_wait_over_s else q.callback.offer_after_s
        s.offer_timer = self.timers.call_later(delay, self._offer_callback, s.id)

    def _offer_callback(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.state != CallState.queued:
            return
        s.offer_timer, s.offered = None, True
        self.store.queue_event(s.id, s.queue.name, "callback_offered")
        s.announcing = True  # back to music when the offer has been played (like an announcement)
        s.token += 1
        self.tel.play(s.leg, ["sys-callback-offer"], s.token)

    def _callback_chosen(self, s) -> None:
        self._cancel(s.announce_timer)
        s.announce_timer, s.announcing = None, False
        self._set_state(s, CallState.confirming)
        self.store.queue_event(s.id, s.queue.name, "callback_chosen")
        s.keying_tries = 0
        try:
            s.keyed = dialplan.check_number(self.settings.outbound, s.caller_id)
        except dialplan.Refused:  # withheld, or a number the box may not call: ask for one
            return self._ask_number(s)
        self._confirm_number(s)

    def _ask_number(self, s) -> None:
        s.keyed, s.keying = "", True
        self._confirm_play(s, ["sys-callback-enter"])

    def _confirm_number(self, s) -> None:
        s.keying = False
        self._confirm_play(s, ["sys-callback-confirm", *spoken_digits(s.keyed), "sys-callback-keys"])

    def _confirm_play(self, s, prompts: list[str]) -> None:
        self._play(s, prompts)  # the caller's time to answer starts when it is over (`_confirm_wait`)

    def _confirm_wait(self, s) -> None:
        s.digit_timer = self.timers.call_later(CONFIRM_TIMEOUT_S, self._confirm_timeout, s.id, s.token)

    def _confirm_digit(self, s, digit: str) -> None:
        if s.keying and digit.isdigit():
            s.keyed += digit
            self._cancel(s.digit_timer)
            self._confirm_wait(s)
        elif s.keying and digit == "#":
            self._keyed(s)
        elif digit == "*":
            self._back_to_queue(s, "callback cancelled by the caller")
        elif not s.keying and digit == "1":
            self._callback_confirmed(s)
        elif not s.keying and digit == "2":
            self._ask_number(s)

    def _keyed(self, s) -> None:
        try:
            s.keyed = dialplan.check_number(self.settings.outbound, s.keyed)
        except dialplan.Refused as exc:
            s.keying_tries += 1
            self.store.queue_event(s.id, s.queue.name, "callback_refused", detail=str(exc))
            if s.keying_tries >= MAX_KEYING_TRIES:
                return self._back_to_queue(s, "no number the box may call")
            s.keyed = ""
            return self._confirm_play(s, ["sys-callback-refused", "sys-callback-enter"])
        self._confirm_number(s)

    def _confirm_timeout(self, call_id: str, token: int) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.state != CallState.confirming or s.token != token:
            return
        if s.keying and s.keyed:
            return self._keyed(s)
        self._back_to_queue(s, "no answer to the callback offer")

    def _back_to_queue(self, s, why: str) -> None:
        """The caller keeps waiting where they were."""
        self._cancel(s.digit_timer)
        self._set_state(s, CallState.queued)
        s.token += 1
        self.store.queue_event(s.id, s.queue.name, "callback_declined", detail=why)
        self.tel.music(s.leg, s.queue.music)
        self._dispatch(s.queue.name)

    def _callback_confirmed(self, s) -> None:
        """The callback takes the caller's place in the queue; the caller hears a goodbye."""
        self._cancel(s.digit_timer)
        qs = self.queues[s.queue.name]
        priority, since = qs.waiting.pop(s.id, (s.priority, s.queued_at))
        cb = CallbackRequest(f"cb-{s.id}", s.id, s.queue.name, s.keyed, self.wall(), priority,
                             next_at=self.clock())
        self.callbacks[cb.id] = cb
        qs.add(cb.id, priority, since)
        self._save_callback(cb, "pending")
        self._watch_callbacks()
        self.store.queue_event(s.id, s.queue.name, "callback_requested", detail=cb.number)
        for t in (s.retry_timer, s.max_wait_timer, s.announce_timer, s.offer_timer):
            self._cancel(t)
        s.disposition, s.end_reason = "callback", f"callback requested to {cb.number}"
        self._set_state(s, CallState.message)
        self._play(s, ["sys-callback-done"])

    # --- the box's side: reserve an operator, whisper, dial ------------------------------------------
    def _callback_ready(self, cb: CallbackRequest, q: Queue) -> Line | None:
        """The line to dial on if this callback may be made now, else None."""
        if cb.session is not None or cb.call_id in self.sessions or self.clock() < cb.next_at:
            return None  # in progress, the asking call not over yet, or the spacing not passed
        if q.callback.in_hours_only and not self.is_open():
            return None
        return self._free_line()

    def _free_line(self) -> Line | None:
        for line in self.settings.lines:
            if not line.outgoing or self.tel.line_state(line.name) == "offline":
                continue
            busy = sum(1 for s in self.sessions.values() if s.line == line.name)
            if busy < line.channels and self.tel.line_state(line.name) in ("idle", "listening"):
                return line
        return None

    def _start_callback(self, cb: CallbackRequest, q: Queue, line: Line, operator: str) -> None:
        if not self.rate.allows(self.settings.outbound.max_per_hour):
            return self._rate_tripped()
        self.alerts.pop("outbound", None)
        s = Session(self._new_id(), "", line.name, cb.number, self.clock(), state=CallState.calling_back)
        s.queue, s.callback, s.queued_at = q, cb, 0.0
        s.path.append(f"callback:{cb.call_id}")
        cb.session, cb.attempts = s.id, cb.attempts + 1
        self.sessions[s.id] = s
        self.store.call_started({"id": s.id, "line": line.name, "caller_id": cb.number, "dialled": cb.number,
                                 "started_at": iso(self.wall()), "queue": q.name, "direction": "callback",
                                 "callback_of": cb.call_id})
        self.store.queue_event(cb.call_id, q.name, "callback_attempt", operator,
                               f"attempt {cb.attempts} to {cb.number} on line {line.name}, call {s.id}")
        self._save_callback(cb, "pending", f"attempt {cb.attempts} in progress")
        self._ring(s, [operator])
        if s.attempt is None:  # the operator could not be rung
            cb.attempts -= 1
            self._end(s, "failed", f"could not ring {operator}")

    def _callback_operator_answered(self, s, leg: str, name: str) -> None:
        attempt, s.attempt = s.attempt, None
        self._cancel(attempt.timer)
        op = self.operators[name]
        s.operator, s.operator_leg = name, leg
        op.missed_in_row = 0
        self.operators.set(op, OperatorState.on_call, "callback", s.id)
        self.store.call_updated(s.id, operator=name)
        self._play_to(s, leg, ["sys-callback-whisper", *spoken_digits(s.caller_id)])

    def _callback_dial(self, s) -> None:
        """The whisper is over: dial the customer."""
        line = next((ln for ln in self.settings.lines if ln.name == s.line), None)
        try:
            if line is None:
                raise DialFailed(f"line {s.line} is no longer configured")
            leg = self.tel.dial_line(line, s.caller_id)
        except DialFailed as exc:
            log.warning("callback %s: %s", s.id, exc)
            return self._callback_attempt_failed(s, "failed", str(exc))
        self.rate.record()
        s.leg = leg
        self.legs[leg] = (s.id, None)
        self.store.queue_event(s.callback.call_id, s.queue.name, "callback_dial", s.operator, s.caller_id)
        s.digit_timer = self.timers.call_later(s.queue.callback.ring_s, self._callback_no_answer, s.id)

    def _callback_no_answer(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is not None and s.state == CallState.calling_back:
            self._callback_attempt_failed(s, "no_answer", "the customer did not answer")

    def _callback_customer_answered(self, s) -> None:
        cb = s.callback
        self._cancel(s.digit_timer)
        self.callbacks.pop(cb.id, None)
        if cb.queue in self.queues:
            self.queues[cb.queue].remove(cb.id)
        self._save_callback(cb, "done", f"answered on attempt {cb.attempts}")
        self.store.queue_event(cb.call_id, cb.queue, "callback_connected", s.operator, f"call {s.id}")
        self.store.worklist_handled(dialplan.normalise(cb.number), f"callback {s.id} answered")
        self._connect_operator(s, s.operator, s.operator_leg)

    def _callback_leg_ended(self, s, e: ev.LegEnded, name: str | None) -> None:
        """A leg of a callback ended before the customer and the operator were connected."""
        if name is None:  # the customer's line: busy, declined, unreachable
            self.legs.pop(e.leg, None)
            disposition = "busy" if e.status in (486, 600) else "no_answer" if e.status in (408, 480, 487, 603) \
                else "failed"
            return self._callback_attempt_failed(s, disposition, e.reason or f"status {e.status}")
        if s.attempt and e.leg in s.attempt.legs:  # the operator declined while being reserved
            del s.attempt.legs[e.leg]
            self._drop_ringing(s, e.leg, name, missed=True, hang_up=False)
            return self._callback_not_started(s, f"{name} declined")
        self._callback_not_started(s, f"{name} hung up before the customer answered")

    def _callback_not_started(self, s, why: str) -> None:
        """No operator for this attempt: it does not count, the callback waits for the next one."""
        cb = s.callback
        cb.next_at = self.clock() + s.queue.retry_delay_s
        if not s.leg:
            cb.attempts -= 1
            if cb.id in self.callbacks:
                self._save_callback(cb, "pending", why)
        self._end(s, "failed", why)

    def _callback_attempt_failed(self, s, disposition: str, why: str) -> None:
        cb, q = s.callback, s.queue.callback
        self.store.queue_event(cb.call_id, s.queue.name, "callback_failed", s.operator,
                               f"attempt {cb.attempts}: {why}")
        given_up = cb.attempts >= q.attempts or (self.wall() - cb.requested_at).total_seconds() >= q.give_up_after_s
        if given_up:
            self._give_up(cb, f"not reached after {cb.attempts} attempts ({why})")
        else:
            cb.next_at = self.clock() + q.spacing_s
            self._save_callback(cb, "pending", why)
        self._end(s, disposition, why)

    def _give_up(self, cb: CallbackRequest, why: str) -> None:
        self.callbacks.pop(cb.id, None)
        if cb.queue in self.queues:
            self.queues[cb.queue].remove(cb.id)
        self._save_callback(cb, "given_up", why)
        self.store.queue_event(cb.call_id, cb.queue, "callback_given_up", detail=why)
        self.store.worklist_add(dialplan.normalise(cb.number), f"callback given up: {why}", cb.call_id)

    def _callback_session_over(self, s) -> None:
        """Called by `_end`: the request waits for its next attempt (or is done or given up)."""
        cb = s.callback
        if cb.id in self.callbacks:
            cb.session = None

    def _expire_callbacks(self) -> None:
        """Give up callbacks past their queue's give-up time (checked when queues are dispatched)."""
        now = self.wall()
        for cb in list(self.callbacks.values()):
            q = self.queues.get(cb.queue)
            limit = q.config.callback.give_up_after_s if q and q.config else 0
            if cb.session is None and (now - cb.requested_at).total_seconds() >= limit:
                self._give_up(cb, "not reached in time" if q and q.config else f"queue {cb.queue} removed")

    def _rate_tripped(self) -> None:
        limit = self.settings.outbound.max_per_hour
        message = f"outgoing calls stopped: {limit} in the last hour (outbound.max_per_hour)"
        if self.alerts.get("outbound") != message:
            log.warning("%s", message)
            self.store.log("warning", "outbound", message)
        self.alerts["outbound"] = message

    def _save_callback(self, cb: CallbackRequest, status: str, result: str = "") -> None:
        next_at = self.wall() + dt.timedelta(seconds=max(0.0, cb.next_at - self.clock()))
        self.store.callback_saved({"id": cb.id, "call_id": cb.call_id, "queue": cb.queue, "number": cb.number,
                                   "requested_at": iso(cb.requested_at), "priority": cb.priority,
                                   "attempts": cb.attempts, "next_at": iso(next_at), "status": status,
                                   "result": result})

    def _restore_callbacks(self, rows: list[dict]) -> None:
        for row in rows:
            cb = CallbackRequest.restored(row, self.clock(), self.wall())
            qs = self.queues.get(cb.queue)
            if qs is None:
                self._give_up(cb, f"queue {cb.queue} no longer configured")
                continue
            self.callbacks[cb.id] = cb
            waited = max(0.0, (self.wall() - cb.requested_at).total_seconds())
            qs.add(cb.id, cb.priority, self.clock() - waited)
        self._watch_callbacks()
