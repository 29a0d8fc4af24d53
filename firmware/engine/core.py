"""The engine core: takes events and commands one at a time and decides what happens to each call.

It owns every customer call (a `Session`), the queues and the operators. It never touches pjsua2,
files or sockets itself: it calls the `Telephony` port, the store `Writer` and the `Timers` it was
given, so the same code runs on the box, in simulation and under unit tests with fakes.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from typing import Callable

from firmware import events as ev
from firmware.engine import hours, ivr, worklist
from firmware.engine.callback import CallbackFlow, CallbackRequest
from firmware.engine.dialplan import RateLimit
from firmware.engine.headsets import HeadsetMixin
from firmware.engine.diskguard import CHECK_EVERY_S, DiskGuard
from firmware.engine.operators import Operator, Operators
from firmware.engine.outbound import OutboundFlow
from firmware.engine.ports import DialFailed, Indicators, NoIndicators, Telephony, Timer, Timers
from firmware.engine.queueing import Attempt, QueueState, announcement
from firmware.engine.session import Recording, Session
from firmware.engine.technician import TechnicianMixin
from firmware.engine.states import CALL_TRANSITIONS, CallState, OperatorState, check
from firmware.engine.transfer import TransferMixin
from firmware.engine.voicemail import VoicemailFlow
from firmware.settings import Menu, Queue, Settings, Strategy, parse_destination
from firmware.store import recordings
from firmware.timeutil import iso

log = logging.getLogger(__name__)


CALLBACK_TICK_S = 5.0
"""While callbacks wait, the queues are looked at this often (a spacing may have passed, the office
may have opened, a callback may be past its give-up time)."""


class Engine(TransferMixin, HeadsetMixin, CallbackFlow, VoicemailFlow, OutboundFlow, TechnicianMixin):
    def __init__(self, settings: Settings, tel: Telephony, store, timers: Timers, data_dir,
                 clock: Callable[[], float], wall: Callable[[], dt.datetime], hours_override: str = "auto",
                 indicators: Indicators | None = None, disk_free: Callable[[], int] | None = None,
                 pending_callbacks: list[dict] = (), unheard_messages: int = 0):
        self.settings, self.tel, self.store, self.timers = settings, tel, store, timers
        self.indicators = indicators or NoIndicators()
        self._box_shown: tuple[int, int] | None = None
        self.data_dir, self.clock, self.wall = data_dir, clock, wall
        self.hours_override = hours_override
        self.sessions: dict[str, Session] = {}
        self.legs: dict[str, tuple[str, str | None]] = {}  # leg -> (session id, operator or None)
        self.queues: dict[str, QueueState] = {}
        self.operators = Operators(clock, self._operator_changed)
        self.wrapup_timers: dict[str, Timer] = {}
        self.callbacks: dict[str, CallbackRequest] = {}
        self.callback_tick: Timer | None = None
        self.rate = RateLimit(clock)
        self.unheard_messages = unheard_messages
        # Recordings stop before the disk fills (diskguard.py); `alerts` are shown by `switchboard status`.
        self.disk = DiskGuard(disk_free or recordings.free_bytes(data_dir), settings.recording.min_free_mb)
        self.alerts: dict[str, dict] = {}
        self._disk_timer: Timer | None = None
        self._apply(settings)
        self._restore_callbacks(list(pending_callbacks))

    # --- dispatch ---------------------------------------------------------------------------------
    def handle(self, item):
        """Handle one event or command; commands return a result for the caller."""
        handler = getattr(self, "on_" + type(item).__name__)
        try:
            return handler(item)
        finally:
            self._show_box()

    def _show_box(self) -> None:
        down = sum(1 for ln in self.settings.lines if self.tel.line_state(ln.name) == "offline")
        waiting = sum(len(qs.waiting) for qs in self.queues.values())  # callbacks due count too
        shown = (down, waiting, self.unheard_messages)
        if shown != self._box_shown:
            self._box_shown = shown
            self.indicators.show_box(*shown)

    def _apply(self, settings: Settings) -> None:
        self.settings = settings
        self.tel.configure(settings)
        self.operators.configure(settings.operators)
        self.disk.reserve_mb = settings.recording.min_free_mb
        for q in settings.queues:
            self.queues.setdefault(q.name, QueueState(q.name)).config = q

    # --- incoming calls and the IVR ---------------------------------------------------------------
    def on_IncomingCall(self, e: ev.IncomingCall) -> None:
        if e.operator is not None:  # authenticated by the edge: an operator dialling out (outbound.py)
            return self._outbound_incoming(e)
        line = next((ln for ln in self.settings.lines
                     if (ln.name == e.line if e.line else ln.kind != "modem" and ln.accepts(e.source_ip))), None)
        call_id = self._new_id()
        row = {"id": call_id, "line": line.name if line else None, "caller_id": e.caller_id,
               "caller_name": e.caller_name, "dialled": e.dialled, "source_ip": e.source_ip,
               "started_at": iso(self.wall())}
        if line is None:
            self.tel.reject(e.leg, 403)
            message = f"INVITE from {e.source_ip} to {e.dialled!r} refused with 403: not a configured line"
            log.warning(message)
            self.store.log("warning", "sip", message)
            self.store.call_started({**row, "ended_at": row["started_at"], "disposition": "rejected",
                                     "end_reason": "unknown source address"})
            return
        route = line.route(e.dialled)
        if route is None:
            self.tel.reject(e.leg, 404)
            self.store.call_started({**row, "ended_at": row["started_at"], "disposition": "rejected",
                                     "end_reason": f"no route for {e.dialled!r}"})
            return
        menu = route.day_menu if self.is_open() else (route.night_menu or route.day_menu)
        s = Session(call_id, e.leg, line.name, e.caller_id, self.clock())
        s.priority = 1 if e.caller_id in self.settings.callers.priority else 0
        self.sessions[call_id] = s
        self.legs[e.leg] = (call_id, None)
        self.tel.answer(e.leg)  # the 200 first: the writer thread woken by the record would delay it
        self.store.call_started(row)
        intro = (route.greeting, self.settings.recording.disclosure_prompt)
        self._go(s, f"menu:{menu}", intro=tuple(p for p in intro if p))

    def on_DeviceEvent(self, e: ev.DeviceEvent) -> None:
        for event in self.tel.device_event(e.source, e.event):
            getattr(self, "on_" + type(event).__name__)(event)

    def on_IncomingRefused(self, e: ev.IncomingRefused) -> None:
        cap = self.tel.capacity()
        message = (f"INVITE from {e.source_ip} refused by the SIP stack with {e.status} {e.reason}"
                   f" ({cap['in_use']} of {cap['max_calls']} SIP calls in use)")
        log.warning(message)
        self.store.log("warning", "sip", message)

    def _enter_menu(self, s: Session, menu: Menu, intro: tuple[str, ...] = ()) -> None:
        self._set_state(s, CallState.ivr)
        s.path.append(f"menu:{menu.name}")
        s.menu_config = menu  # kept for this caller even if a reload changes the menus
        s.menu, action = ivr.start(menu, intro)
        self._play(s, action.prompts)

    def _play(self, s: Session, prompts) -> None:
        self._play_to(s, s.leg, prompts)

    def _play_to(self, s: Session, leg: str, prompts) -> None:
        self._cancel(s.digit_timer)
        s.token += 1
        self.tel.play(leg, list(prompts), s.token)

    def on_PlaybackDone(self, e: ev.PlaybackDone) -> None:
        s = self._session_of(e.leg)
        if s is None or e.token != s.token:
            return
        if s.state == CallState.ivr:
            s.digit_timer = self.timers.call_later(s.menu_config.timeout_s, self._digit_timeout, s.id, s.token)
        elif s.state == CallState.message:
            self._end(s, s.disposition or "ivr_hangup", s.end_reason or "message played")
        elif s.state == CallState.queued and s.announcing:
            s.announcing = False
            self.tel.music(s.leg, s.queue.music)
            if s.queue.announce_every_s > 0:
                s.announce_timer = self.timers.call_later(s.queue.announce_every_s, self._announce, s.id)
        elif s.state == CallState.confirming:
            self._confirm_wait(s)
        elif s.state == CallState.voicemail and not s.message.started:
            self._vm_record(s)
        elif s.state == CallState.calling_back and e.leg == s.operator_leg and not s.leg:
            self._callback_dial(s)

    def on_DtmfDigit(self, e: ev.DtmfDigit) -> None:
        s = self._session_of(e.leg)
        if s is None or e.leg != s.leg:  # digits from an operator's phone choose nothing
            return
        if s.state == CallState.ivr:
            s.chose = True
            s.menu, action = ivr.on_digit(s.menu_config, s.menu, e.digit)
            self._act(s, action)
        elif s.state == CallState.queued and s.offered and e.digit == "1":
            self._callback_chosen(s)
        elif s.state == CallState.confirming:
            self._confirm_digit(s, e.digit)
        elif s.state == CallState.voicemail and s.message.started and e.digit == "#":
            self._vm_finish(s, "caller pressed #")

    def _digit_timeout(self, call_id: str, token: int) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.state != CallState.ivr or s.token != token:
            return
        s.menu, action = ivr.on_timeout(s.menu_config, s.menu)
        self._act(s, action)

    def _act(self, s: Session, action) -> None:
        if isinstance(action, ivr.Play):
            self._play(s, action.prompts)
        else:
            self._go(s, action.destination)

    def _go(self, s: Session, destination: str, intro: tuple[str, ...] = ()) -> None:
        kind, target = parse_destination(destination)
        try:
            if kind == "menu":
                self._enter_menu(s, self.settings.menu(target), intro)
            elif kind == "queue":
                self._enqueue(s, self.settings.queue(target))
            elif kind == "operator":
                self._enqueue(s, self._operator_queue(self.settings.operator(target).name))
            elif kind == "voicemail":
                self._to_voicemail(s, self.settings.mailbox(target))
            elif kind == "message":
                self._set_state(s, CallState.message)
                s.end_reason = s.end_reason or f"message {target}"
                self._play(s, [target])
            else:  # hangup
                self._end(s, s.disposition or "ivr_hangup", s.end_reason or "menu hung up")
        except KeyError as exc:  # a reload removed it while the caller was on the way
            log.error("call %s: destination %s: %s", s.id, destination, exc)
            self._end(s, "failed", f"destination {destination} is not configured")

    def _operator_queue(self, operator: str) -> Queue:
        music = next((q.music for q in self.settings.queues if q.music), None)
        return Queue(name=f"operator-{operator}", operators=[operator], strategy=Strategy.ring_all,
                     music=music, wrapup_s=0, max_wait_s=120)

    # --- queues -----------------------------------------------------------------------------------
    def _enqueue(self, s: Session, q: Queue) -> None:
        qs = self.queues.setdefault(q.name, QueueState(q.name, q))
        s.queue = q
        s.path.append(f"queue:{q.name}")
        if len(qs.waiting) >= q.max_callers:
            return self._overflow(s, q, "full", "queue full")
        if q.when_no_operator == "fallback" and not self.operators.logged_in(q.operators):
            return self._overflow(s, q, "no_operator", "no operator logged in")
        self._set_state(s, CallState.queued)
        s.queued_at, s.tried, s.attempt = self.clock(), set(), None
        qs.add(s.id, s.priority, s.queued_at)
        self.store.queue_event(s.id, q.name, "enter", detail=f"position {qs.position(s.id)}")
        self.store.call_updated(s.id, queue=q.name, queued_at=iso(self.wall()))
        self.tel.music(s.leg, q.music)
        s.max_wait_timer = self.timers.call_later(q.max_wait_s, self._max_wait, s.id)
        if q.announce_every_s > 0:
            s.announce_timer = self.timers.call_later(q.announce_every_s, self._announce, s.id)
        self._plan_offer(s, q)
        self._dispatch(q.name)

    def _overflow(self, s: Session, q: Queue, event: str, reason: str) -> None:
        self.store.queue_event(s.id, q.name, event)
        s.disposition, s.end_reason = "timeout", reason
        self._go(s, q.fallback)

    def _dispatch(self, queue_name: str) -> None:
        """Ring free operators for the callers at the head of a queue."""
        qs = self.queues.get(queue_name)
        if qs is None:
            return
        for entry in qs.ordered():
            cb = self.callbacks.get(entry)
            if cb is not None:  # a callback waits at this place: dialled when a line is free too
                line = self._callback_ready(cb, qs.config) if qs.config else None
                free = self.operators.free(qs.config.operators) if line else []
                if free:
                    self._start_callback(cb, qs.config, line, qs.order(qs.config, free, set())[0])
                continue
            s = self.sessions[entry]
            if s.state != CallState.queued or s.attempt is not None or s.retry_timer is not None:
                continue
            q = s.queue
            free = self.operators.free(q.operators)
            if not free:
                return
            order = qs.order(q, free, s.tried)
            self._ring(s, order if q.strategy == Strategy.ring_all else order[:1])

    def _ring(self, s: Session, names: list[str]) -> None:
        attempt = Attempt()
        for name in names:
            op = self.operators[name]
            try:
                leg = self.tel.dial(op.config.dial_uri) if op.config.kind == "sip" else self.tel.ring_station(name)
            except DialFailed as exc:
                log.warning("cannot ring %s: %s", name, exc)
                continue
            attempt.legs[leg] = name
            self.legs[leg] = (s.id, name)
            self.operators.set(op, OperatorState.ringing, "ringing", s.id)
            self.store.queue_event(s.id, s.queue.name, "ring", name)
            if op.config.kind == "station" and op.config.auto_answer_s is not None:
                self.timers.call_later(op.config.auto_answer_s, self._auto_answer, leg)
        if not attempt.legs:
            return
        self.queues[s.queue.name].last_rung = names[-1]
        s.attempt = attempt
        attempt.timer = self.timers.call_later(s.queue.ring_timeout_s, self._attempt_over, s.id, "timeout")

    def _auto_answer(self, leg: str) -> None:
        if leg in self.legs:
            self.on_LegAnswered(ev.LegAnswered(leg))

    def _attempt_over(self, call_id: str, reason: str) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.attempt is None:
            return
        attempt, s.attempt = s.attempt, None
        log.debug("call %s: ringing %s over (%s)", s.id, ", ".join(attempt.legs.values()), reason)
        self._cancel(attempt.timer)
        for leg, name in list(attempt.legs.items()):
            self._drop_ringing(s, leg, name, missed=True)
        if s.callback is not None:
            return self._callback_not_started(s, f"{', '.join(attempt.legs.values())} did not answer")
        s.tried |= set(attempt.legs.values()) | attempt.missed
        if s.tried >= set(s.queue.operators):
            s.tried = set()  # a new round
        s.retry_timer = self.timers.call_later(s.queue.retry_delay_s, self._retry, s.id)
        self._dispatch(s.queue.name)

    def _retry(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is not None and s.state in (CallState.queued, CallState.confirming):
            s.retry_timer = None
            self._dispatch(s.queue.name)

    def _drop_ringing(self, s: Session, leg: str, name: str, missed: bool, hang_up: bool = True) -> None:
        """Stop ringing one operator for this caller; a missed call counts towards auto-pause."""
        self.legs.pop(leg, None)
        if hang_up:
            self.tel.hangup(leg)
        op = self.operators.by_name.get(name)
        if op is None or op.state != OperatorState.ringing or op.call_id != s.id:
            return
        if not missed:
            return self.operators.set(op, OperatorState.ready, "caller taken by another operator")
        op.missed_in_row += 1
        self.store.queue_event(s.id, s.queue.name, "ringnoanswer", name)
        limit = s.queue.autopause_after
        if limit and op.missed_in_row >= limit:
            self.operators.set(op, OperatorState.paused, f"auto-pause after {op.missed_in_row} missed calls")
            self.store.queue_event(s.id, s.queue.name, "pause", name, op.reason)
        else:
            self.operators.set(op, OperatorState.ready, "no answer")

    def _max_wait(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.state != CallState.queued:
            return
        self._leave_queue(s)
        self.store.queue_event(s.id, s.queue.name, "timeout", detail=f"waited {self._waited(s):.0f} s")
        s.disposition, s.end_reason = "timeout", "maximum wait"
        self._go(s, s.queue.fallback)

    def _announce(self, call_id: str) -> None:
        s = self.sessions.get(call_id)
        if s is None or s.state != CallState.queued:
            return
        qs = self.queues[s.queue.name]
        s.announcing = True
        s.token += 1
        self.tel.play(s.leg, announcement(qs, s.id, len(self.operators.logged_in(s.queue.operators))), s.token)

    def _leave_queue(self, s: Session) -> None:
        qs = self.queues.get(s.queue.name)
        if qs:
            qs.remove(s.id)
        if s.attempt:
            for leg, name in list(s.attempt.legs.items()):
                self._drop_ringing(s, leg, name, missed=False)
            self._cancel(s.attempt.timer)
            s.attempt = None
        for t in (s.retry_timer, s.max_wait_timer, s.announce_timer, s.offer_timer):
            self._cancel(t)
        s.retry_timer = s.max_wait_timer = s.announce_timer = s.offer_timer = None

    # --- operators answering and calls ending -----------------------------------------------------
    def on_LegAnswered(self, e: ev.LegAnswered) -> None:
        if self._transfer_answered(e.leg):
            return
        owner = self.legs.get(e.leg)
        s = self.sessions.get(owner[0]) if owner else None
        if s is not None and s.state == CallState.dialling_out and owner[1] is None and e.leg == s.leg:
            return self._outbound_answered(s)
        if s is not None and s.state == CallState.calling_back:
            if owner[1] is not None and s.attempt and e.leg in s.attempt.legs:
                return self._callback_operator_answered(s, e.leg, owner[1])
            if owner[1] is None and e.leg == s.leg:
                return self._callback_customer_answered(s)
        if s is None or owner[1] is None or s.attempt is None or e.leg not in s.attempt.legs:
            self.tel.hangup(e.leg)  # answered too late: the caller is gone or taken
            return
        attempt, s.attempt = s.attempt, None
        self._cancel(attempt.timer)
        for leg, other in attempt.legs.items():
            if leg != e.leg:
                self._drop_ringing(s, leg, other, missed=False)
        self._leave_queue(s)
        self._connect(s, owner[1], e.leg)

    def _connect(self, s: Session, name: str, leg: str) -> None:
        number = worklist.number_of(s.caller_id)
        if number:  # a later answered call serves whatever this caller was on the worklist for
            self.store.worklist_handled(number, f"call {s.id} answered")
        self._connect_operator(s, name, leg)

    def _connect_operator(self, s: Session, name: str, leg: str) -> None:
        op = self.operators[name]
        self._set_state(s, CallState.connected)
        s.operator, s.operator_leg, s.connected_at = name, leg, self.clock()
        op.missed_in_row = 0
        op.calls_today += 1
        if op.state != OperatorState.on_call:  # a callback's operator is on the call since the whisper
            self.operators.set(op, OperatorState.on_call, "call", s.id)
        self.tel.bridge(s.leg, leg)
        wait = self._waited(s)
        fields = {"operator": name, "connected_at": iso(self.wall()), "wait_s": round(wait, 3)}
        if s.transfers:  # back from the queue after a transfer: the first wait stands
            del fields["wait_s"]
        if s.queue.record and not self._recording_continues(s, leg) and self._room_to_record():
            path = str(recordings.path_for(self.data_dir, s.id))
            self.tel.start_recording(s.id, [s.leg, leg], path)
            s.recording = Recording.on
            fields["recording"] = path
            self._watch_disk()
        self.store.call_updated(s.id, **fields)
        self.store.queue_event(s.id, s.queue.name, "connect", name, f"wait {wait:.1f} s")
        self._dispatch(s.queue.name)

    def on_LegEnded(self, e: ev.LegEnded) -> None:
        if self._transfer_leg_ended(e.leg):
            return
        owner = self.legs.pop(e.leg, None)
        s = self.sessions.get(owner[0]) if owner else None
        if s is None:
            return
        name = owner[1]
        if s.outgoing_by is not None:
            return self._outbound_leg_ended(s, e, name)
        if s.state == CallState.calling_back:
            return self._callback_leg_ended(s, e, name)
        if name is None:  # the caller hung up, or the caller's line failed (5xx)
            why = e.reason if e.status >= 500 else "caller hung up"
            s.caller_left = True
            if s.state == CallState.voicemail:
                return self._vm_finish(s, why, caller_gone=True)
            if s.state in (CallState.queued, CallState.confirming):
                self._leave_queue(s)
                if s.transfers:  # handed back to the queue after talking: an answered call
                    self.store.queue_event(s.id, s.queue.name, "complete", None, f"{why} in queue after transfer")
                    return self._end(s, "answered", f"{why} in queue after transfer")
                self.store.queue_event(s.id, s.queue.name, "abandon", detail=f"waited {self._waited(s):.0f} s")
                return self._end(s, "abandoned", f"{why} in queue")
            if s.state == CallState.connected:
                self.store.queue_event(s.id, s.queue.name, "complete", s.operator, why)
                return self._end(s, "answered", why)
            return self._end(s, s.disposition or "ivr_hangup", s.end_reason or f"{why} in IVR")
        if s.state == CallState.connected and e.leg == s.operator_leg:
            self.store.queue_event(s.id, s.queue.name, "complete", name, "operator hung up")
            return self._end(s, "answered", "operator hung up")
        if s.attempt and e.leg in s.attempt.legs:  # an operator's phone declined or failed while ringing
            del s.attempt.legs[e.leg]
            s.attempt.missed.add(name)
            self._drop_ringing(s, e.leg, name, missed=True, hang_up=False)
            if not s.attempt.legs:
                self._attempt_over(s.id, f"declined ({e.status})")

    def _end(self, s: Session, disposition: str, reason: str) -> None:
        """Close a session once, hanging up its legs still up; every path that ends a call comes here."""
        if s.state == CallState.ended:
            return
        self._transfer_cancel(s, "call ended")
        self._set_state(s, CallState.ended)
        for t in s.timers():
            self._cancel(t)
        if s.queue and s.queue.name in self.queues:
            self.queues[s.queue.name].remove(s.id)
        talk = 0.0
        if s.operator and s.connected_at:
            talk = self.clock() - s.connected_at
            if s.queue and s.queue.name in self.queues:
                self.queues[s.queue.name].handled(talk + s.queue.wrapup_s)
        if s.recording == Recording.on:  # also a transferred call that ended before the next operator took it
            self.tel.stop_recording(s.id)
            s.recording = Recording.stopped
        if s.operator:
            self._to_wrapup(s)
        if s.message and s.message.started and disposition != "voicemail":  # ended mid-message
            self.tel.stop_recording(f"vm-{s.id}")
        if s.callback is not None:
            self._callback_session_over(s)
        for leg, (call_id, _) in list(self.legs.items()):
            if call_id == s.id:
                self.legs.pop(leg)
                self.tel.hangup(leg)
        self.sessions.pop(s.id, None)
        wait = self._waited(s) if s.queued_at else None
        fields = {"ended_at": iso(self.wall()), "disposition": disposition, "end_reason": reason,
                  "talk_s": round(talk + s.talk_before, 3), "path": " > ".join(s.path)}
        if wait is not None and s.operator is None:
            fields["wait_s"] = round(wait, 3)
        self.store.call_updated(s.id, **fields)
        log.info("call %s ended: %s (%s)", s.id, disposition, reason)
        number = worklist.number_of(s.caller_id)
        why = worklist.unserved_reason(disposition, reason, s.chose, s.caller_left)
        if number and why and s.callback is None:
            self.store.worklist_add(number, why, s.id)
        if s.queue:
            self._dispatch(s.queue.name)

    def _to_wrapup(self, s: Session) -> None:
        self.legs.pop(s.operator_leg, None)
        self.tel.hangup(s.operator_leg)
        op = self.operators.by_name.get(s.operator)
        if op is None:  # removed by a reload during the call
            return
        self.operators.set(op, OperatorState.wrapup, "after call", s.id)
        # a callback that never connected, or an operator's own outgoing call: no wrap-up
        wrapup = s.queue.wrapup_s if s.connected_at and s.queue else 0.0
        self.wrapup_timers[op.name] = self.timers.call_later(wrapup, self._wrapup_over, op.name)

    def _wrapup_over(self, name: str) -> None:
        self.wrapup_timers.pop(name, None)
        op = self.operators.by_name.get(name)
        if op is None or op.state != OperatorState.wrapup:
            return
        state, reason = op.after_call or (OperatorState.ready, "wrap-up over")
        op.after_call = None
        self.operators.set(op, state, reason)
        self._dispatch_for(name)

    def _dispatch_for(self, operator: str) -> None:
        for name, qs in list(self.queues.items()):
            if qs.config and operator in qs.config.operators or any(
                    c in self.sessions and self.sessions[c].queue and operator in self.sessions[c].queue.operators
                    for c in qs.waiting):
                self._dispatch(name)

    def _watch_callbacks(self) -> None:
        if self.callback_tick is None and self.callbacks:
            self.callback_tick = self.timers.call_later(CALLBACK_TICK_S, self._tick_callbacks)

    def _tick_callbacks(self) -> None:
        self.callback_tick = None
        self._expire_callbacks()
        for name in {cb.queue for cb in self.callbacks.values()}:
            self._dispatch(name)
        self._show_box()
        self._watch_callbacks()

    # --- commands ---------------------------------------------------------------------------------
    def on_OperatorAction(self, c: ev.OperatorAction) -> dict:
        if c.operator not in self.operators:
            raise KeyError(f"no operator named {c.operator!r}")
        op = self.operators[c.operator]
        if op.state == OperatorState.ringing and c.action != "ready":
            self._release_ringing(op)
        if op.state == OperatorState.wrapup and c.action == "ready":
            self._cancel(self.wrapup_timers.pop(op.name, None))
            op.after_call = None
            self.operators.set(op, OperatorState.ready, c.reason or "ready")
            message = f"{op.name} is ready"
        else:
            message = self.operators.request(op, c.action, c.reason)
        self._dispatch_for(op.name)
        return {"message": message, "state": op.state.value}

    def _release_ringing(self, op: Operator) -> None:
        s = self.sessions.get(op.call_id or "")
        if s and s.transfer and s.transfer.target == op.name:
            return self._transfer_over(s.id, s.transfer.leg, "target busy")
        if s and s.attempt:
            for leg, name in list(s.attempt.legs.items()):
                if name == op.name:
                    del s.attempt.legs[leg]
                    self._drop_ringing(s, leg, name, missed=False)
            if not s.attempt.legs:
                self._attempt_over(s.id, "operator paused")

    def on_PanelButton(self, c: ev.PanelButton) -> dict:
        if c.station not in self.operators or self.operators[c.station].config.kind != "station":
            raise KeyError(f"no station named {c.station!r}")
        op = self.operators[c.station]
        self.store.operator_state(op.name, op.state.value, f"{'long ' if c.long_press else ''}{c.button} button",
                                  op.call_id)
        leg = next((leg for leg, (_, name) in self.legs.items() if name == op.name), None)
        if c.button == "answer" and op.state == OperatorState.ringing and leg:
            self.on_LegAnswered(ev.LegAnswered(leg))
        elif c.button == "answer" and op.state == OperatorState.on_call and leg:
            self.on_LegEnded(ev.LegEnded(leg, 0, "hang-up button"))
        elif c.button == "ready" and c.long_press:
            return self.on_OperatorAction(ev.OperatorAction(op.name, "logout", "long press"))
        elif c.button == "ready":
            action = "pause" if op.state == OperatorState.ready else "ready"
            return self.on_OperatorAction(ev.OperatorAction(op.name, action, "button"))
        elif c.button == "transfer" and op.state == OperatorState.on_call:
            try:  # the panel has one transfer button: back to the queue
                return self.on_Transfer(ev.Transfer(op.name, "queue", by="button"))
            except ValueError as exc:
                return {"message": str(exc), "state": op.state.value}
        else:
            return {"message": f"{c.button} does nothing while {op.name} is {op.state.value}",
                    "state": op.state.value}
        return {"message": f"{op.name} is {op.state.value}", "state": op.state.value}

    def on_Reload(self, c: ev.Reload) -> dict:
        hardware = lambda s: (s.panel, s.sip,  # modem lines follow at once (telephony.modem_lines)
                              [(o.name, o.headset) for o in s.operators if o.kind == "station"])
        restart = hardware(c.settings) != hardware(self.settings)
        self._apply(c.settings)
        message = f"configuration applied; {len(self.sessions)} calls in progress kept"
        if restart:  # devices and the SIP transport are opened once, at start-up
            message += "; the panel wiring, headsets and SIP transport settings apply at the next restart"
        log.info("%s", message)
        return {"message": message}

    def on_MessagesChanged(self, c: ev.MessagesChanged) -> dict:
        self.unheard_messages = c.unheard
        return {"unheard": c.unheard}

    def on_SetHoursOverride(self, c: ev.SetHoursOverride) -> dict:
        if c.mode not in hours.OVERRIDES:
            raise ValueError(f"hours override must be one of {', '.join(hours.OVERRIDES)}")
        self.hours_override = c.mode
        self.store.set_state("hours_override", c.mode)
        return {"message": f"hours: {c.mode}", "open": self.is_open()}

    def on_GetLine(self, c: ev.GetLine) -> dict:
        line = next((ln for ln in self.settings.lines if ln.name == c.line), None)
        if line is None:
            raise KeyError(f"no line named {c.line!r}")
        return {"name": line.name, "kind": line.kind, "state": self.tel.line_state(line.name),
                "diagnostics": self.tel.line_diagnostics(line.name)}

    def on_HoldLoop(self, c: ev.HoldLoop) -> None:
        time.sleep(c.seconds)  # deliberately blocks: proves the watchdog catches a hung loop

    def is_open(self) -> bool:
        return hours.is_open(self.settings.hours, self.wall(), self.hours_override)

    def on_GetStreamStats(self, c: ev.GetStreamStats) -> dict:
        return self.tel.stream_stats()

    def on_GetStatus(self, c: ev.GetStatus) -> dict:
        now = self.clock()
        return {
            "capacity": self.tel.capacity(),
            "hours": {"open": self.is_open(), "override": self.hours_override},
            "lines": [{"name": ln.name, "kind": ln.kind, "allow": ln.allow, "state": self.tel.line_state(ln.name)}
                      for ln in self.settings.lines],
            "operators": [{"name": op.name, "kind": op.config.kind, "state": op.state.value,
                           "reason": op.reason, "for_s": round(now - op.since, 1), "call": op.call_id,
                           "calls_today": op.calls_today, "missed_in_row": op.missed_in_row,
                           "available": self.headset_available(op.name),
                           "unavailable_because": self.operators.unavailable.get(op.name)}
                          for op in self.operators],
            "calls": [{"id": s.id, "state": s.state.value, "line": s.line, "caller_id": s.caller_id,
                       "queue": s.queue.name if s.queue else None, "operator": s.operator,
                       "for_s": round(now - s.started, 1),
                       "transfer_to": s.transfer.target if s.transfer else None} for s in self.sessions.values()],
            "alerts": list(self.alerts.values()),
            "waiting": [{"id": c, "queue": name, "position": qs.position(c), "caller_id":
                         self.sessions[c].caller_id, "wait_s": round(self._waited(self.sessions[c]), 1)}
                        for name, qs in self.queues.items() for c in qs.ordered() if c in self.sessions],
            "callbacks": [{"id": cb.id, "queue": cb.queue, "number": cb.number, "attempts": cb.attempts,
                           "position": self.queues[cb.queue].position(cb.id) if cb.queue in self.queues else None,
                           "requested_at": iso(cb.requested_at), "in_progress": cb.session,
                           "next_in_s": round(max(0.0, cb.next_at - now), 1)} for cb in self.callbacks.values()],
            "voicemail": {"unheard": self.unheard_messages},
        }

    # --- the recordings' disk -------------------------------------------------------------------
    def _room_to_record(self) -> bool:
        self._disk_changed(self.disk.check())
        return not self.disk.low

    def _watch_disk(self) -> None:
        if self._disk_timer is None and (self._recorded() or self.disk.low):
            self._disk_timer = self.timers.call_later(CHECK_EVERY_S, self._disk_tick)

    def _disk_tick(self) -> None:
        self._disk_timer = None
        self._disk_changed(self.disk.check())
        self._watch_disk()

    def _disk_changed(self, change: str | None) -> None:
        if change == "low":
            message = self.disk.message()
            for s in self._recorded():
                self.tel.stop_recording(s.id)  # the file stays valid up to here
                s.recording = Recording.stopped
                self.store.log("warning", "recordings", f"recording of call {s.id} stopped: disk almost full")
            self._alert("disk", message)
        elif change == "ok":
            self.alerts.pop("disk", None)
            log.info("disk space is back above twice the reserve: new calls are recorded again")
            self.store.log("info", "recordings", "disk space is back: new calls are recorded again")

    def _alert(self, kind: str, message: str) -> None:
        self.alerts[kind] = {"kind": kind, "since": iso(self.wall()), "message": message}
        log.error("%s", message)
        self.store.log("error", kind, message)

    def _recorded(self) -> list[Session]:
        """Calls being recorded now."""
        return sorted((s for s in self.sessions.values() if s.recording == Recording.on), key=lambda s: s.id)

    def on_RecordingFailed(self, e: ev.RecordingFailed) -> None:
        if e.key in self.sessions:
            self.sessions[e.key].recording = Recording.stopped
        self._alert("recording", f"call {e.key} is not recorded: {e.reason}")
        self.store.call_updated(e.key, recording=None)

    def shutdown(self) -> None:
        """End every call with a disposition before the engine stops."""
        for s in list(self.sessions.values()):
            disposition = "answered" if s.state == CallState.connected else "failed"
            self._end(s, disposition, "engine shut down")
        self.end_technician_tests()  # no pjsua2 player or recorder may outlive the library

    # --- helpers ----------------------------------------------------------------------------------
    def _set_state(self, s: Session, state: CallState) -> None:
        check(CALL_TRANSITIONS, s.state, state)
        s.state = state

    def _session_of(self, leg: str) -> Session | None:
        owner = self.legs.get(leg)
        return self.sessions.get(owner[0]) if owner else None

    def _waited(self, s: Session) -> float:
        end = s.connected_at or self.clock()
        return max(0.0, end - s.queued_at) if s.queued_at else 0.0

    def _operator_changed(self, op: Operator) -> None:
        self.store.operator_state(op.name, op.state.value, op.reason, op.call_id)
        if op.config.kind == "station":
            self.indicators.set_station(op.name, op.state.value if self.headset_available(op.name) else "unavailable")

    def _new_id(self) -> str:
        return self.wall().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)

    @staticmethod
    def _cancel(timer: Timer | None) -> None:
        if timer is not None:
            timer.cancel()
