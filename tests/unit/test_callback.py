"""Queue callback, voicemail and the worklist, decided by the engine core with fakes and a fake clock."""

from __future__ import annotations

import pytest

from firmware import events as ev, settings as settings_mod
from firmware.engine import dialplan, worklist
from firmware.engine.core import Engine
from tests.fakes import FakeClock, FakeStore, FakeTelephony, FakeTimers


def config(callback=None, outbound=None, fallback="voicemail:desk", lines=None, **queue) -> settings_mod.Settings:
    return settings_mod.from_dict({
        "prompts": {n: {"tone_hz": 400 + i * 100} for i, n in enumerate(["menu", "bye", "music", "box"])},
        "lines": lines or [{"name": "trunk", "allow": ["10.0.0.0/24"], "outgoing": True, "channels": 2,
                            "dial_uri": "sip:{number}@10.0.0.1",
                            "routes": [{"number": "*", "day_menu": "main"}]}],
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:desk", "2": "voicemail:desk"},
                   "timeout_s": 4, "retries": 0, "on_noinput": "hangup"}],
        "queues": [{"name": "desk", "operators": ["a", "b"], "strategy": "linear", "ring_timeout_s": 10,
                    "retry_delay_s": 1, "wrapup_s": 5, "max_wait_s": 600, "fallback": fallback,
                    "music": "music", "autopause_after": 0,
                    "callback": {"enabled": True, "offer_after_s": 30, "offer_if_wait_over_s": 10000,
                                 "attempts": 2, "spacing_s": 60, "ring_s": 20, **(callback or {})}, **queue}],
        "operators": [{"name": n, "kind": "station"} for n in ("a", "b")],
        "mailboxes": [{"name": "desk", "greeting": "box", "max_message_s": 30}],
        "outbound": outbound or {},
    })


class Box:
    def __init__(self, settings=None, **engine_args):
        self.clock = FakeClock()  # Monday 10:00 UTC; no hours configured: always open
        self.timers = FakeTimers(self.clock)
        self.tel, self.store = FakeTelephony(max_calls=100), FakeStore()
        self.engine = Engine(settings or config(), self.tel, self.store, self.timers, "/tmp/sb-test",
                             clock=self.clock, wall=self.clock.wall, **engine_args)

    def call(self, caller="0301234567", digits="1") -> tuple[str, str]:
        leg = self.tel.new_incoming()
        self.engine.handle(ev.IncomingCall(leg, "10.0.0.5", "200", caller))
        call_id = list(self.store.calls)[-1]
        self.prompt_done(leg)
        for d in digits:
            self.digit(leg, d)
        return leg, call_id

    def prompt_done(self, leg: str) -> None:
        self.engine.handle(ev.PlaybackDone(leg, self.tel.playing[leg][1]))

    def digit(self, leg: str, d: str) -> None:
        self.engine.handle(ev.DtmfDigit(leg, d))

    def hang_up(self, leg: str) -> None:
        self.engine.handle(ev.LegEnded(leg))

    def answered(self, leg: str) -> None:
        self.engine.handle(ev.LegAnswered(leg))

    def heard(self, leg: str) -> tuple:
        return self.tel.playing[leg][0]

    def state(self, op: str) -> str:
        return self.engine.operators[op].state.value

    def pause_all(self) -> None:
        for op in ("a", "b"):
            self.engine.handle(ev.OperatorAction(op, "pause", "lunch"))

    def busy_queue_caller(self, caller="0301234567") -> tuple[str, str]:
        """A caller who hears the callback offer (every operator paused)."""
        leg, call_id = self.call(caller)
        self.timers.advance(30)
        assert self.heard(leg) == ("sys-callback-offer",)
        return leg, call_id

    def choose_callback(self, caller="0301234567") -> tuple[str, str]:
        leg, call_id = self.busy_queue_caller(caller)
        self.digit(leg, "1")
        return leg, call_id


def digits_of(number: str) -> tuple[str, ...]:
    return tuple(f"sys-d{c}" for c in number)


# --- the caller's side ------------------------------------------------------------------------------

def test_a_waiting_caller_is_offered_callback_confirms_their_number_and_keeps_their_place():
    box = Box()
    box.pause_all()
    first, first_id = box.call("0301111111")
    leg, call_id = box.choose_callback()
    assert box.heard(leg) == ("sys-callback-confirm", *digits_of("0301234567"), "sys-callback-keys")
    box.digit(leg, "1")
    assert box.heard(leg) == ("sys-callback-done",)
    box.prompt_done(leg)
    assert ("hangup", leg) in box.tel.actions
    assert box.store.calls[call_id]["disposition"] == "callback"
    assert box.store.callbacks[f"cb-{call_id}"]["status"] == "pending"
    status = box.engine.handle(ev.GetStatus())
    assert [c["number"] for c in status["callbacks"]] == ["0301234567"]
    assert status["callbacks"][0]["position"] == 2  # behind the caller who came first
    assert "callback_requested" in box.store.events_of(call_id)
    assert box.store.open_worklist() == {}  # a pending callback is not an unserved caller


def test_offer_comes_at_once_when_the_estimated_wait_is_long():
    box = Box(config(callback={"offer_if_wait_over_s": 60}))
    box.pause_all()
    leg, _ = box.call()
    box.timers.advance(0)
    assert box.heard(leg) == ("sys-callback-offer",)


def test_a_withheld_number_is_keyed_in_and_a_refused_one_asked_again():
    box = Box()
    box.pause_all()
    leg, call_id = box.choose_callback(caller="anonymous")
    assert box.heard(leg) == ("sys-callback-enter",)
    for d in "0090#":  # international: refused by the default dial plan
        box.digit(leg, d)
    assert box.heard(leg) == ("sys-callback-refused", "sys-callback-enter")
    for d in "0301234999#":
        box.digit(leg, d)
    assert box.heard(leg) == ("sys-callback-confirm", *digits_of("0301234999"), "sys-callback-keys")
    box.digit(leg, "1")
    box.prompt_done(leg)
    assert box.store.callbacks[f"cb-{call_id}"]["number"] == "0301234999"


def test_no_choice_goes_back_to_the_music_and_the_place_in_the_queue():
    box = Box()
    box.pause_all()
    leg, call_id = box.choose_callback()
    box.timers.advance(60)
    assert box.engine.sessions[call_id].state.value == "confirming"  # the number is still being read
    box.prompt_done(leg)
    box.timers.advance(10)
    assert box.tel.hearing[leg] == ("music", "music")
    assert box.engine.sessions[call_id].state.value == "queued"
    box.engine.handle(ev.OperatorAction("a", "ready"))
    assert box.tel.rung() == ["a"]


# --- the box's side ---------------------------------------------------------------------------------

def requested(box: Box, caller="0301234567") -> str:
    leg, call_id = box.choose_callback(caller)
    box.digit(leg, "1")
    box.prompt_done(leg)
    return call_id


def test_callback_reserves_an_operator_whispers_then_dials_and_connects_with_recording():
    box = Box()
    box.pause_all()
    call_id = requested(box)
    box.engine.handle(ev.OperatorAction("a", "ready"))
    assert box.tel.rung() == ["a"] and box.tel.dialled_out() == []  # the operator first
    op_leg = box.tel.legs_of("a")[0]
    box.engine.handle(ev.PanelButton("a", "answer"))
    assert box.heard(op_leg) == ("sys-callback-whisper", *digits_of("0301234567"))
    box.prompt_done(op_leg)
    [(line, number, customer)] = box.tel.dialled_out()
    assert (line, number) == ("trunk", "0301234567")
    box.answered(customer)
    assert ("bridge", customer, op_leg) in box.tel.actions
    cb_call = box.engine.sessions[next(iter(box.engine.sessions))]
    assert cb_call.state.value == "connected" and box.store.calls[cb_call.id]["direction"] == "callback"
    assert box.tel.recording[cb_call.id][0] == (customer, op_leg)
    box.hang_up(customer)
    assert box.store.calls[cb_call.id]["disposition"] == "answered"
    assert box.store.callbacks[f"cb-{call_id}"]["status"] == "done"
    assert box.state("a") == "wrapup"
    events = box.store.events_of(call_id)
    assert events[-3:] == ["callback_attempt", "callback_dial", "callback_connected"]


def test_no_dialling_while_every_line_is_busy_then_dialling_when_one_frees():
    lines = [{"name": "analog", "kind": "modem", "device": "/dev/ttyACM0", "outgoing": True,
              "routes": [{"number": "*", "day_menu": "main"}]},
             {"name": "trunk", "allow": ["10.0.0.0/24"], "routes": [{"number": "*", "day_menu": "main"}]}]
    box = Box(config(lines=lines))
    box.pause_all()
    requested(box)
    box.tel.line_states["analog"] = "ringing"  # a call coming in on the only outgoing line
    box.engine.handle(ev.OperatorAction("a", "ready"))
    box.timers.advance(30)
    assert box.tel.rung() == [] and box.state("a") == "ready"  # no line: no operator reserved either
    box.tel.line_states["analog"] = "idle"
    box.timers.advance(10)
    assert box.tel.rung() == ["a"]


def test_an_unanswered_callback_is_retried_after_the_spacing_then_given_up_onto_the_worklist():
    box = Box()
    box.pause_all()
    call_id = requested(box)
    box.engine.handle(ev.OperatorAction("a", "ready"))
    for attempt in (1, 2):
        op_leg = box.tel.legs_of("a")[-1]
        box.engine.handle(ev.PanelButton("a", "answer"))
        box.prompt_done(op_leg)
        assert len(box.tel.dialled_out()) == attempt
        box.timers.advance(20)  # rings out
        box.timers.advance(5)
        assert box.state("a") == "ready"  # a callback that never connected has no wrap-up
        if attempt == 1:
            box.timers.advance(20)
            assert len(box.tel.legs_of("a")) == 1  # spacing: not yet
            box.timers.advance(40)
    assert box.store.callbacks[f"cb-{call_id}"]["status"] == "given_up"
    assert box.store.events_of(call_id).count("callback_failed") == 2
    assert "callback given up" in box.store.open_worklist()["0301234567"]
    assert [c["disposition"] for c in box.store.calls.values() if c.get("direction") == "callback"] == \
        ["no_answer", "no_answer"]


def test_a_busy_customer_counts_as_an_attempt_and_an_operator_who_does_not_answer_does_not():
    box = Box()
    box.pause_all()
    call_id = requested(box)
    box.engine.handle(ev.OperatorAction("a", "ready"))
    box.timers.advance(10)  # a does not answer the reservation
    assert box.store.callbacks[f"cb-{call_id}"]["attempts"] == 0
    box.timers.advance(10)
    op_leg = box.tel.legs_of("a")[-1]
    box.engine.handle(ev.PanelButton("a", "answer"))
    box.prompt_done(op_leg)
    customer = box.tel.dialled_out()[-1][2]
    box.engine.handle(ev.LegEnded(customer, 486, "Busy Here"))
    assert box.store.callbacks[f"cb-{call_id}"]["attempts"] == 1
    assert [c["disposition"] for c in box.store.calls.values() if c.get("direction") == "callback"][-1] == "busy"


def test_callbacks_wait_for_business_hours():
    settings = config().model_copy(update={"hours": settings_mod.Hours(weekly=[settings_mod.Period(
        days=["mon"], open="11:00", close="17:00")])})
    box = Box(settings)
    box.engine.hours_override = "day"
    box.pause_all()
    requested(box)
    box.engine.hours_override = "auto"  # 10:00: closed until 11:00
    box.engine.handle(ev.OperatorAction("a", "ready"))
    box.timers.advance(3500)
    assert box.tel.rung() == []
    box.timers.advance(100)
    assert box.tel.rung()[0] == "a"


def test_the_hourly_limit_stops_dialling_and_raises_an_alert():
    box = Box(config(outbound={"max_per_hour": 1}))
    box.pause_all()
    requested(box, "0301111111")
    requested(box, "0302222222")
    box.engine.handle(ev.OperatorAction("a", "ready"))
    op_leg = box.tel.legs_of("a")[-1]
    box.engine.handle(ev.PanelButton("a", "answer"))
    box.prompt_done(op_leg)
    box.hang_up(box.tel.dialled_out()[-1][2])
    box.timers.advance(60)
    assert len(box.tel.dialled_out()) == 1
    status = box.engine.handle(ev.GetStatus())
    assert any("max_per_hour" in a for a in status["alerts"])
    assert any(source == "outbound" for _, source, _ in box.store.logs)


def test_pending_callbacks_survive_a_restart():
    box = Box()
    box.pause_all()
    call_id = requested(box)
    row = box.store.callbacks[f"cb-{call_id}"]
    again = Box(pending_callbacks=[row])  # its clock starts at the same wall time: the request is 30 s ahead
    again.timers.advance(25)
    assert again.tel.rung() == []
    again.timers.advance(10)
    assert again.tel.rung() == ["a"]  # operators start ready in this configuration


# --- voicemail --------------------------------------------------------------------------------------

class BoxLed:
    def __init__(self):
        self.shown = []

    def set_station(self, station, state):
        pass

    def show_box(self, lines_down, callers_waiting, unheard_messages=0):
        self.shown.append((lines_down, callers_waiting, unheard_messages))


def test_voicemail_greeting_beep_message_until_hash_then_saved_unheard_and_on_the_worklist():
    led = BoxLed()
    box = Box(indicators=led)
    leg, call_id = box.call(digits="2")
    assert box.heard(leg) == ("box", "sys-beep")
    box.prompt_done(leg)
    path = box.tel.recording[f"vm-{call_id}"]
    assert path[0] == (leg,) and path[1].endswith(f"voicemail/desk/{call_id}.wav")
    box.timers.advance(7)
    box.digit(leg, "#")
    assert box.heard(leg) == ("sys-vm-saved",)
    [message] = box.store.messages
    assert message["mailbox"] == "desk" and message["seconds"] == 7.0 and message["caller_id"] == "0301234567"
    box.prompt_done(leg)
    assert box.store.calls[call_id]["disposition"] == "voicemail"
    assert box.engine.handle(ev.GetStatus())["voicemail"]["unheard"] == 1
    assert box.store.open_worklist() == {"0301234567": "left a voicemail"}
    assert led.shown[-1] == (0, 0, 1)  # the box LED tells of the message
    box.engine.handle(ev.MessagesChanged(0))  # someone listened to it
    assert led.shown[-1] == (0, 0, 0)


def test_a_caller_hanging_up_during_the_message_keeps_it_and_the_limit_ends_a_long_one():
    box = Box()
    leg, call_id = box.call(digits="2")
    box.prompt_done(leg)
    box.timers.advance(3)
    box.hang_up(leg)
    assert box.store.messages[0]["seconds"] == 3.0 and f"vm-{call_id}" not in box.tel.recording
    leg2, _ = box.call(digits="2")
    box.prompt_done(leg2)
    box.timers.advance(31)
    assert box.store.messages[1]["seconds"] == 30.0
    assert box.heard(leg2) == ("sys-vm-saved",)


def test_queue_timeout_falls_back_to_voicemail():
    box = Box(config(max_wait_s=60, callback={"enabled": False}))
    box.pause_all()
    leg, call_id = box.call()
    box.timers.advance(60)
    assert box.heard(leg) == ("box", "sys-beep")


# --- the worklist -----------------------------------------------------------------------------------

def test_abandoned_and_ivr_hang_ups_after_a_choice_are_listed_once_per_number_until_answered():
    box = Box(config(callback={"enabled": False}))
    box.pause_all()
    leg, _ = box.call("030 123-4567")
    box.hang_up(leg)
    leg, _ = box.call("0301234567")
    box.hang_up(leg)
    assert box.store.worklist["0301234567"]["attempts"] == 2
    assert box.store.open_worklist()["0301234567"].startswith("abandoned")
    leg, _ = box.call("0307654321", digits="")  # hung up before choosing: not listed
    box.hang_up(leg)
    leg, _ = box.call("anonymous")  # no number to call back
    box.hang_up(leg)
    assert set(box.store.open_worklist()) == {"0301234567"}
    box.engine.handle(ev.OperatorAction("a", "ready"))
    leg, _ = box.call("0301234567")
    box.engine.handle(ev.PanelButton("a", "answer"))
    assert box.store.open_worklist() == {}


@pytest.mark.parametrize("number, allowed", [
    ("0301234567", True), ("030 123 45 67", True), ("5551234", True),
    ("004930123456", False), ("+4930123456", False), ("09001234567", False), ("112", False), ("911", False),
    ("anonymous", False), ("", False),
])
def test_default_dial_plan(number, allowed):
    rules = settings_mod.Outbound()
    if allowed:
        assert dialplan.check_number(rules, number) == dialplan.normalise(number)
    else:
        with pytest.raises(dialplan.Refused):
            dialplan.check_number(rules, number)


def test_rate_limit_slides_over_the_hour():
    now = [0.0]
    rate = dialplan.RateLimit(lambda: now[0])
    for _ in range(3):
        assert rate.allows(3)
        rate.record()
    assert not rate.allows(3)
    now[0] = 3600.1
    assert rate.allows(3)


def test_worklist_reasons():
    assert worklist.unserved_reason("answered", "x", True, True) is None
    assert worklist.unserved_reason("ivr_hangup", "message played", True, False) is None
    assert worklist.unserved_reason("ivr_hangup", "caller hung up", True, True) == "hung up in the IVR after a choice"
    assert worklist.unserved_reason("timeout", "maximum wait", False, False) == "timed out: maximum wait"
    assert worklist.number_of("anonymous") is None and worklist.number_of("+49 30 1234") == "+49301234"
