"""The engine core's decisions, driven through its events with fake ports and a fake clock."""

from __future__ import annotations

import pytest

from firmware import events as ev, settings as settings_mod
from firmware.engine.core import Engine
from tests.fakes import FakeClock, FakeStore, FakeTelephony, FakeTimers


def config(**queue_overrides) -> settings_mod.Settings:
    queue = {"name": "desk", "operators": ["a", "b", "c"], "strategy": "linear", "ring_timeout_s": 10,
             "retry_delay_s": 1, "wrapup_s": 5, "max_wait_s": 120, "fallback": "message:bye",
             "music": "music", "autopause_after": 0, **queue_overrides}
    return settings_mod.from_dict({
        "prompts": {n: {"tone_hz": 400 + i * 100} for i, n in
                    enumerate(["hello", "rec", "menu", "bad", "none", "bye", "music", "night"])},
        "recording": {"disclosure_prompt": "rec"},
        "hours": {"weekly": [{"days": ["mon", "tue", "wed", "thu", "fri"], "open": "09:00", "close": "17:00"}]},
        "lines": [{"name": "trunk", "allow": ["10.0.0.0/24"],
                   "routes": [{"number": "*", "greeting": "hello", "day_menu": "main", "night_menu": "night"}]}],
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:desk", "2": "message:bye",
                                                                 "9": "repeat"},
                   "timeout_s": 4, "retries": 1, "invalid_prompt": "bad", "noinput_prompt": "none",
                   "on_invalid": "hangup", "on_noinput": "queue:desk"},
                  {"name": "night", "prompt": "night", "timeout_s": 1, "retries": 0, "on_noinput": "hangup"}],
        "queues": [queue],
        "operators": [{"name": n, "kind": "station"} for n in ("a", "b", "c")],
        "callers": {"priority": ["555"]},
    })


class Box:
    """An engine with fakes, and the moves a test makes."""

    def __init__(self, settings=None):
        self.clock = FakeClock()  # Monday 2026-11-23 10:00 UTC: open
        self.timers = FakeTimers(self.clock)
        self.tel, self.store = FakeTelephony(), FakeStore()
        self.engine = Engine(settings or config(), self.tel, self.store, self.timers, "/tmp/sb-test",
                             clock=self.clock, wall=self.clock.wall)

    def call(self, caller="100", source="10.0.0.5") -> tuple[str, str]:
        leg = self.tel.new_incoming()
        self.engine.handle(ev.IncomingCall(leg, source, "200", caller))
        return leg, self.last_call_id()

    def last_call_id(self) -> str:
        return list(self.store.calls)[-1]

    def prompt_done(self, leg: str) -> None:
        self.engine.handle(ev.PlaybackDone(leg, self.tel.playing[leg][1]))

    def queue_caller(self, caller="100") -> tuple[str, str]:
        leg, call_id = self.call(caller)
        self.engine.handle(ev.DtmfDigit(leg, "1"))
        return leg, call_id

    def state(self, op: str) -> str:
        return self.engine.operators[op].state.value

    def answer(self, op: str) -> None:
        self.engine.handle(ev.PanelButton(op, "answer"))


def test_unknown_source_is_refused_with_403_and_logged():
    box = Box()
    leg, call_id = box.call(source="192.0.2.9")
    assert ("reject", leg, 403) in box.tel.actions
    assert box.store.calls[call_id]["disposition"] == "rejected"
    assert "192.0.2.9" in box.store.logs[0][2]


def test_ivr_plays_greeting_disclosure_and_menu_then_waits_for_a_digit():
    box = Box()
    leg, call_id = box.call()
    assert ("answer", leg) in box.tel.actions
    assert box.tel.playing[leg][0] == ("hello", "rec", "menu")
    box.prompt_done(leg)
    box.timers.advance(4.1)  # no input: noinput prompt, then the menu again
    assert box.tel.playing[leg][0] == ("none", "menu")
    box.prompt_done(leg)
    box.timers.advance(4.1)  # retries used up: on_noinput goes to the queue
    assert box.engine.sessions[call_id].state.value == "queued"


def test_invalid_digits_retry_then_go_to_on_invalid():
    box = Box()
    leg, call_id = box.call()
    box.engine.handle(ev.DtmfDigit(leg, "7"))
    assert box.tel.playing[leg][0] == ("bad", "menu")
    box.engine.handle(ev.DtmfDigit(leg, "9"))  # repeat: the menu prompt alone
    assert box.tel.playing[leg][0] == ("menu",)
    box.engine.handle(ev.DtmfDigit(leg, "7"))
    assert ("hangup", leg) in box.tel.actions
    assert box.store.calls[call_id]["disposition"] == "ivr_hangup"


def test_caller_hanging_up_in_the_ivr():
    box = Box()
    leg, call_id = box.call()
    box.engine.handle(ev.LegEnded(leg, 200))
    assert box.store.calls[call_id]["disposition"] == "ivr_hangup"
    assert not box.engine.sessions


def test_message_destination_plays_then_hangs_up():
    box = Box()
    leg, call_id = box.call()
    box.engine.handle(ev.DtmfDigit(leg, "2"))
    assert box.tel.playing[leg][0] == ("bye",)
    box.prompt_done(leg)
    assert ("hangup", leg) in box.tel.actions


def test_night_menu_outside_hours_and_manual_override():
    box = Box()
    box.clock.now += 8 * 3600  # 18:00: closed
    leg, _ = box.call()
    assert box.tel.playing[leg][0][-1] == "night"
    box.engine.handle(ev.SetHoursOverride("day"))
    leg, _ = box.call()
    assert box.tel.playing[leg][0][-1] == "menu"
    assert box.store.state["hours_override"] == "day"


def test_queued_caller_hears_music_is_connected_recorded_and_operator_wraps_up():
    box = Box()
    leg, call_id = box.queue_caller()
    assert box.tel.hearing[leg] == ("music", "music")
    assert box.tel.rung() == ["a"]
    assert box.state("a") == "ringing"
    box.clock.now += 3
    box.answer("a")
    op_leg = box.tel.legs_of("a")[0]
    assert box.tel.hearing[leg] == ("leg", op_leg)
    assert box.state("a") == "on_call"
    assert box.tel.recording[call_id][0] == (leg, op_leg)
    assert box.store.calls[call_id]["wait_s"] == pytest.approx(3)
    box.clock.now += 30
    box.engine.handle(ev.LegEnded(leg, 200))
    record = box.store.calls[call_id]
    assert (record["disposition"], record["operator"], record["talk_s"]) == ("answered", "a", pytest.approx(30))
    assert record["recording"].endswith(f"{call_id}.wav")
    assert box.store.events_of(call_id) == ["enter", "ring", "connect", "complete"]
    assert box.state("a") == "wrapup"
    box.timers.advance(5.1)
    assert box.state("a") == "ready"


def test_ring_timeout_moves_to_the_next_operator_linear():
    box = Box()
    leg, call_id = box.queue_caller()
    box.timers.advance(10.1)  # a did not answer
    assert box.state("a") == "ready"
    box.timers.advance(1.1)  # retry delay
    assert box.tel.rung() == ["a", "b"]
    box.timers.advance(11.2)
    assert box.tel.rung() == ["a", "b", "c"]
    assert box.store.events_of(call_id).count("ringnoanswer") == 2


@pytest.mark.parametrize("strategy, expected", [
    ("linear", ["a", "a", "a"]),
    ("round_robin", ["a", "b", "c"]),
    ("ring_all", ["a", "b", "c"]),
])
def test_strategies_ring_order_for_successive_callers(strategy, expected):
    box = Box(config(strategy=strategy, wrapup_s=0))
    for _ in range(3):
        leg, _ = box.queue_caller()
        rung = box.tel.rung()[-1] if strategy != "ring_all" else None
        if strategy == "ring_all":
            assert box.tel.rung()[-3:] == ["a", "b", "c"]
            box.answer("a")
            assert [box.state(n) for n in "abc"] == ["on_call", "ready", "ready"]
        else:
            box.answer(rung)
        box.engine.handle(ev.LegEnded(leg, 200))
        box.timers.advance(0.1)
    if strategy != "ring_all":
        assert [a[1] for a in box.tel.actions if a[0] == "ring"] == expected


def test_longest_idle_and_fewest_calls_pick_the_right_operator():
    box = Box(config(strategy="longest_idle", wrapup_s=0))
    for op in ("a", "b"):  # a then b take a call; c has never had one
        leg, _ = box.queue_caller()
        box.answer(box.tel.rung()[-1])
        box.clock.now += 10
        box.engine.handle(ev.LegEnded(leg, 200))
        box.timers.advance(0.1)
    box.queue_caller()
    assert box.tel.rung()[-1] == "c"


def test_abandon_while_queued_stops_ringing_and_records_abandoned():
    box = Box()
    leg, call_id = box.queue_caller()
    box.clock.now += 4
    box.engine.handle(ev.LegEnded(leg, 200))
    assert box.state("a") == "ready"
    assert box.store.calls[call_id]["disposition"] == "abandoned"
    assert box.store.calls[call_id]["wait_s"] == pytest.approx(4)
    assert box.store.events_of(call_id)[-1] == "abandon"


def test_maximum_wait_goes_to_the_fallback_with_timeout_disposition():
    box = Box()
    for op in "abc":
        box.engine.handle(ev.OperatorAction(op, "pause", "lunch"))
    leg, call_id = box.queue_caller()
    box.timers.advance(120.1)
    assert box.tel.playing[leg][0] == ("bye",)
    box.prompt_done(leg)
    assert box.store.calls[call_id]["disposition"] == "timeout"
    assert "timeout" in box.store.events_of(call_id)


def test_priority_caller_is_served_first():
    box = Box(config(operators=["a"]))
    box.engine.handle(ev.OperatorAction("a", "pause"))
    _, first = box.queue_caller("100")
    _, vip = box.queue_caller("555")
    box.engine.handle(ev.OperatorAction("a", "ready"))
    assert box.engine.operators["a"].call_id == vip
    assert box.engine.handle(ev.GetStatus())["waiting"][0]["id"] == vip


def test_auto_pause_after_missed_calls():
    box = Box(config(operators=["a"], autopause_after=2))
    box.queue_caller()
    box.timers.advance(10.1)
    assert box.state("a") == "ready"
    box.timers.advance(11.2)
    assert box.state("a") == "paused"
    assert "auto-pause" in box.engine.operators["a"].reason


def test_full_queue_and_no_operator_go_to_fallback():
    box = Box(config(max_callers=1))
    box.queue_caller()
    leg, call_id = box.queue_caller()
    assert box.tel.playing[leg][0] == ("bye",)
    assert "full" in box.store.events_of(call_id)
    box = Box(config(when_no_operator="fallback"))
    for op in "abc":
        box.engine.handle(ev.OperatorAction(op, "logout"))
    leg, call_id = box.queue_caller()
    assert box.tel.playing[leg][0] == ("bye",)


def test_pause_during_a_call_applies_after_wrapup():
    box = Box()
    leg, _ = box.queue_caller()
    box.answer("a")
    result = box.engine.handle(ev.OperatorAction("a", "pause", "lunch"))
    assert "after the call" in result["message"]
    box.engine.handle(ev.LegEnded(leg, 200))
    box.timers.advance(5.1)
    assert (box.state("a"), box.engine.operators["a"].reason) == ("paused", "lunch")


def test_reload_keeps_calls_in_progress():
    box = Box()
    leg, call_id = box.queue_caller()
    box.answer("a")
    box.engine.handle(ev.Reload(config(ring_timeout_s=30)))
    assert box.engine.sessions[call_id].state.value == "connected"
    assert box.state("a") == "on_call"
    box.engine.handle(ev.LegEnded(leg, 200))
    assert box.store.calls[call_id]["disposition"] == "answered"


def test_sip_operator_declining_moves_on_and_capacity_is_respected():
    settings = config()
    data = settings.model_dump(mode="json")
    data["operators"][0] = {"name": "a", "kind": "sip", "uri": "sip:a@10.0.0.7"}
    box = Box(settings_mod.from_dict(data))
    leg, call_id = box.queue_caller()
    out = box.tel.legs_of("sip:a@10.0.0.7")[0]
    box.engine.handle(ev.LegEnded(out, 486, "Busy Here"))
    assert box.state("a") == "ready"
    box.timers.advance(1.1)
    assert box.tel.rung()[-1] == "b"
    box.tel.max_calls = 1  # the caller's leg fills this engine: a SIP operator cannot be rung
    box.engine.handle(ev.OperatorAction("b", "pause"))
    box.engine.handle(ev.OperatorAction("c", "pause"))
    box.timers.advance(11.2)
    assert box.state("a") == "ready"


def test_reload_that_removes_the_menu_and_operator_in_use_loses_no_call():
    box = Box()
    leg, call_id = box.queue_caller()
    box.answer("a")
    in_menu, menu_call = box.call()
    smaller = config(operators=["b", "c"]).model_dump(mode="json")
    smaller["operators"] = [o for o in smaller["operators"] if o["name"] != "a"]
    smaller["menus"][0]["name"] = "main2"
    smaller["lines"][0]["routes"][0]["day_menu"] = "main2"
    box.engine.handle(ev.Reload(settings_mod.from_dict(smaller)))
    box.engine.handle(ev.DtmfDigit(in_menu, "1"))  # the caller's menu is kept for this call
    assert box.engine.sessions[menu_call].state.value == "queued"
    box.engine.handle(ev.LegEnded(leg, 200))
    assert box.store.calls[call_id]["disposition"] == "answered"
    assert "a" not in box.engine.operators


def test_announcement_then_music_again():
    box = Box(config(announce_every_s=30, operators=["a"]))
    box.engine.handle(ev.OperatorAction("a", "pause"))
    leg, _ = box.queue_caller()
    box.timers.advance(30.1)
    assert box.tel.playing[leg][0] == ("sys-position", "sys-n1", "sys-wait", "sys-n3", "sys-minutes")
    box.prompt_done(leg)
    assert box.tel.hearing[leg] == ("music", "music")


def test_panel_buttons_answer_hang_up_pause_and_log_out_and_leds_follow():
    class Leds:
        def __init__(self):
            self.station, self.box = {}, []

        def set_station(self, station, state):
            self.station[station] = state

        def show_box(self, lines_down, callers_waiting, unheard_messages=0):
            self.box.append(callers_waiting)

    box = Box()
    leds = Leds()
    box.engine.indicators = leds
    leg, call_id = box.queue_caller()
    assert leds.station["a"] == "ringing" and leds.box[-1] == 1
    box.engine.handle(ev.PanelButton("a", "answer"))
    assert leds.station["a"] == "on_call" and leds.box[-1] == 0
    box.engine.handle(ev.PanelButton("a", "answer"))  # the same button hangs up
    assert box.store.calls[call_id]["end_reason"] == "operator hung up"
    assert leds.station["a"] == "wrapup"
    box.timers.advance(5.1)
    box.engine.handle(ev.PanelButton("b", "ready"))
    assert leds.station["b"] == "paused"
    box.engine.handle(ev.PanelButton("b", "ready"))
    assert leds.station["b"] == "ready"
    box.engine.handle(ev.PanelButton("b", "ready", long_press=True))
    assert leds.station["b"] == "logged_out"
    assert ("b", "ready", "long ready button") in box.store.operator_log


def test_reload_says_when_hardware_settings_wait_for_a_restart():
    box = Box()
    assert "restart" not in box.engine.handle(ev.Reload(config(ring_timeout_s=30)))["message"]
    data = config().model_dump(mode="json")
    data["sip"]["port"] = 5070
    assert "next restart" in box.engine.handle(ev.Reload(settings_mod.from_dict(data)))["message"]
