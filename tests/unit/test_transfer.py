"""Transfers and unplugged headsets: the pure decisions, and the engine core driven with fakes."""

from __future__ import annotations

import pytest

from firmware import events as ev
from firmware.engine import transfer
from tests.unit.test_core import Box


class Leds:
    def __init__(self):
        self.station: dict[str, str] = {}

    def set_station(self, station, state):
        self.station[station] = state

    def show_box(self, lines_down, callers_waiting, unheard_messages=0):
        pass


# --- pure decisions -------------------------------------------------------------------------------

def decide(**kw):
    args = {"source": "a", "source_state": "on_call", "has_call": True, "pending": None, "target": "b",
            "target_state": "ready", "target_available": True, "queue": "desk", **kw}
    return transfer.decide(**args)


@pytest.mark.parametrize("kw, why", [
    ({"source_state": "ready", "has_call": False}, "a has no call to transfer (ready)"),
    ({"pending": "c"}, "a transfer to c is already ringing"),
    ({"target_state": None, "target": "zed"}, "no operator named 'zed'"),
    ({"target": "a", "target_state": "on_call"}, "a cannot transfer a call to themself"),
    ({"target_state": "paused"}, "b is paused; only a ready operator can take a transfer"),
    ({"target_available": False}, "b's headset is unplugged"),
    ({"target": "queue", "queue": None}, "this call did not come through a queue"),
])
def test_transfer_refusals_say_why(kw, why):
    assert decide(**kw) == transfer.Refused(why)


def test_transfer_targets():
    assert decide() == transfer.ToOperator("b")
    assert decide(target="queue", target_state=None) == transfer.ToQueue("desk")
    assert transfer.after_failure(True) == "stay" and transfer.after_failure(False) == "queue"


# --- the engine -----------------------------------------------------------------------------------

def connected(box: Box, op="a"):
    """A caller connected to `op` (the queue rings a first: linear a, b, c)."""
    leg, call_id = box.queue_caller()
    box.clock.now += 2
    box.answer(op)
    return leg, call_id, box.tel.legs_of(op)[0]


def test_transfer_to_a_station_rings_it_then_connects_and_the_first_operator_wraps_up():
    box = Box()
    leg, call_id, a_leg = connected(box)
    box.clock.now += 10
    result = box.engine.handle(ev.Transfer("a", "c"))
    assert result["message"] == "ringing c for a's caller"
    assert box.state("c") == "ringing" and box.state("a") == "on_call"
    assert box.tel.hearing[leg] == ("leg", a_leg)  # the caller talks to a while c rings
    assert box.engine.handle(ev.GetStatus())["calls"][0]["transfer_to"] == "c"
    box.clock.now += 3
    box.answer("c")
    c_leg = box.tel.legs_of("c")[0]
    assert box.tel.hearing[leg] == ("leg", c_leg)
    assert ("hangup", a_leg) in box.tel.actions
    assert (box.state("a"), box.state("c")) == ("wrapup", "on_call")
    assert box.tel.recording[call_id][0] == (leg, a_leg, c_leg)  # one recording, the new leg added
    assert [a for a in box.tel.actions if a[0] == "record"] == [("record", call_id)]
    box.clock.now += 5
    box.engine.handle(ev.LegEnded(leg, 200))
    rec = box.store.calls[call_id]
    assert (rec["operator"], rec["disposition"], rec["talk_s"]) == ("c", "answered", pytest.approx(18))
    assert rec["wait_s"] == pytest.approx(2)
    assert box.store.events_of(call_id)[-4:] == ["transfer", "transfer", "connect", "complete"]
    assert ("a", "on_call", "transfer to c requested (command)") in box.store.operator_log
    assert ("c", "on_call", "transfer from a") in box.store.operator_log
    assert box.state("c") == "wrapup"


def test_unanswered_transfer_leaves_the_caller_with_the_first_operator():
    box = Box()
    leg, call_id, a_leg = connected(box)
    box.engine.handle(ev.Transfer("a", "b"))
    box.timers.advance(10.1)  # the queue's ring timeout
    assert (box.state("a"), box.state("b")) == ("on_call", "ready")
    assert box.tel.hearing[leg] == ("leg", a_leg)
    assert box.engine.sessions[call_id].operator == "a"
    assert "transfer_failed" in box.store.events_of(call_id)
    assert any(r[0] == "a" and "failed (no answer)" in r[2] for r in box.store.operator_log)


def test_declined_transfer_and_refused_transfers():
    box = Box()
    leg, call_id, a_leg = connected(box)
    with pytest.raises(ValueError, match="zed"):
        box.engine.handle(ev.Transfer("a", "zed"))
    box.engine.handle(ev.OperatorAction("c", "pause", "lunch"))
    with pytest.raises(ValueError, match="c is paused"):
        box.engine.handle(ev.Transfer("a", "c"))
    with pytest.raises(ValueError, match="b has no call"):
        box.engine.handle(ev.Transfer("b", "a"))
    box.engine.handle(ev.Transfer("a", "b"))
    box.engine.handle(ev.LegEnded(box.tel.legs_of("b")[0], 486, "Busy"))
    assert (box.state("a"), box.state("b")) == ("on_call", "ready")
    assert any("transfer refused: c is paused" in r[2] for r in box.store.operator_log)


def test_transfer_back_to_the_queue_keeps_position_priority_and_the_recording():
    box = Box()
    leg, call_id, a_leg = connected(box)
    later_leg, later_id = box.queue_caller("200")  # b rings for the later caller
    box.clock.now += 4
    box.engine.handle(ev.PanelButton("a", "transfer"))  # the panel's transfer button: the queue
    assert box.state("a") == "wrapup"
    assert box.tel.hearing[leg] == ("music", "music")
    assert box.engine.queues["desk"].ordered() == [call_id, later_id]  # ahead of who came later
    assert box.state("c") == "ringing"  # not straight back to a (in wrap-up anyway)
    box.clock.now += 1
    box.answer("c")
    c_leg = box.tel.legs_of("c")[0]
    assert box.tel.hearing[leg] == ("leg", c_leg)
    assert ("record_leg", call_id, c_leg) in box.tel.actions
    assert [a for a in box.tel.actions if a[0] == "record" and a[1] == call_id] == [("record", call_id)]
    box.clock.now += 3
    box.answer("c")  # c hangs up
    rec = box.store.calls[call_id]
    assert (rec["operator"], rec["disposition"], rec["talk_s"]) == ("c", "answered", pytest.approx(7))
    assert ("a", "wrapup", "transferred back to the queue by a") in box.store.operator_log
    assert ("a", "on_call", "transfer button") in box.store.operator_log


def test_first_operator_hanging_up_while_the_target_rings_completes_blind_or_requeues():
    box = Box()
    leg, call_id, a_leg = connected(box)
    box.engine.handle(ev.Transfer("a", "b"))
    box.answer("a")  # a hangs up: the transfer goes on, the caller hears music
    assert box.state("a") == "wrapup" and box.tel.hearing[leg] == ("music", "music")
    box.timers.advance(10.1)  # b does not answer: back to the queue
    assert box.engine.sessions[call_id].state.value == "queued"
    box.engine.handle(ev.LegEnded(leg, 200))  # the caller gives up in the queue after talking to a
    rec = box.store.calls[call_id]
    assert rec["disposition"] == "answered" and rec["end_reason"] == "caller hung up in queue after transfer"
    assert ("stop_record", call_id) in box.tel.actions


def test_caller_hanging_up_while_the_target_rings_frees_the_target():
    box = Box()
    leg, call_id, a_leg = connected(box)
    box.engine.handle(ev.Transfer("a", "b"))
    box.engine.handle(ev.LegEnded(leg, 200))
    assert (box.state("a"), box.state("b")) == ("wrapup", "ready")
    assert box.store.calls[call_id]["disposition"] == "answered"
    assert ("hangup", box.tel.legs_of("b")[0]) in box.tel.actions
    assert ("b", "ready", "transfer not taken (call ended)") in box.store.operator_log
    assert not any("the caller stays" in r[2] for r in box.store.operator_log)


# --- unplugged headsets ---------------------------------------------------------------------------

def test_an_unplugged_headset_is_skipped_shown_and_comes_back_when_plugged_in():
    box = Box()
    leds = Leds()
    box.engine.indicators = leds
    box.engine.handle(ev.HeadsetChanged("a", False, "card Headset gone"))
    assert leds.station["a"] == "unavailable"
    status = {o["name"]: o for o in box.engine.handle(ev.GetStatus())["operators"]}
    assert status["a"]["available"] is False and status["a"]["state"] == "ready"
    assert status["a"]["unavailable_because"] == "card Headset gone"
    leg, call_id = box.queue_caller()
    assert box.tel.rung() == ["b"]  # a skipped
    box.engine.handle(ev.OperatorAction("a", "pause"))
    assert leds.station["a"] == "unavailable"  # state changes do not hide that the headset is gone
    box.engine.handle(ev.HeadsetChanged("a", True))
    assert leds.station["a"] == "paused"
    assert ("a", "paused", "headset plugged in") in box.store.operator_log
    assert ("warning", "headset", "a: headset unplugged (card Headset gone)") in box.store.logs


def test_unplugging_while_ringing_or_on_a_call_hands_the_caller_on():
    box = Box()
    leg, call_id = box.queue_caller()
    assert box.state("a") == "ringing"
    box.engine.handle(ev.HeadsetChanged("a", False))
    assert box.state("a") == "ready" and set(box.engine.operators.unavailable) == {"a"}
    box.timers.advance(1.1)  # the retry delay
    assert box.state("b") == "ringing"
    box.answer("b")
    box.engine.handle(ev.HeadsetChanged("b", False))  # b's headset goes mid-call
    assert box.state("b") == "wrapup"
    assert box.engine.sessions[call_id].state.value == "queued"
    assert box.state("c") == "ringing"


def test_headset_event_for_an_unknown_station_is_ignored():
    box = Box()
    box.engine.handle(ev.HeadsetChanged("nobody", False))
    assert not box.engine.operators.unavailable


def test_an_unplugged_station_winks_on_its_gpio_led_and_shows_its_state_again_when_back():
    from drivers.panel import make_panel
    from drivers.panel.mock import led_brightness, led_pin
    from firmware.panels import PanelIndicators, simulated_pin_map
    from tests.unit.test_panel import runs

    box = Box()
    panel = make_panel("mock", simulated_pin_map(box.engine.settings), lambda *press: None)
    try:
        box.engine.indicators = PanelIndicators(panel)
        box.engine.handle(ev.HeadsetChanged("a", False))
        pin = led_pin(panel, "a")
        pin.clear_states()
        observed = runs(pin, 4, timeout=6)
        lit = [lasted for level, lasted in observed if level > 0]
        dark = [lasted for level, lasted in observed if level == 0]
        assert lit and dark and min(lit) > 3 * max(dark), observed  # long on, short off: a wink
        box.engine.handle(ev.HeadsetChanged("a", True))
        assert led_brightness(panel, "a") == pytest.approx(0.2)  # ready again: dim
    finally:
        panel.close()


def test_a_queue_whose_stations_are_all_unplugged_has_no_operator_for_its_fallback():
    from tests.unit.test_core import config

    box = Box(config(when_no_operator="fallback"))
    for name in ("a", "b", "c"):
        box.engine.handle(ev.HeadsetChanged(name, False))
    leg, call_id = box.queue_caller()
    assert box.tel.playing[leg][0] == ("bye",)  # the queue's fall-back, at once
    assert "no_operator" in box.store.events_of(call_id)


@pytest.mark.parametrize("target", ["c", "queue"])
def test_a_recording_the_disk_guard_stopped_is_neither_restarted_nor_joined_by_a_transfer(target):
    free = {"bytes": 500e6}
    box = Box()
    box.engine.disk.free_bytes = lambda: int(free["bytes"])
    box.engine.disk.reserve_mb = 50
    leg, call_id, a_leg = connected(box)
    free["bytes"] = 20e6  # the disk fills during the call: the recording stops, the call goes on
    box.timers.advance(1.1)
    assert call_id not in box.tel.recording
    free["bytes"] = 500e6  # space is back before the transfer: new calls would be recorded again
    box.timers.advance(1.1)
    box.engine.handle(ev.Transfer("a", target))
    if target == "queue":
        box.timers.advance(1)  # b is rung next (a handed the caller over)
        box.answer("b")
    else:
        box.answer("c")
    assert box.engine.sessions[call_id].operator == ("b" if target == "queue" else "c")
    recorder = [a for a in box.tel.actions if a[0] in ("record", "record_leg") and a[1] == call_id]
    assert recorder == [("record", call_id)]  # only the first operator's start: no restart, no leg added
    assert call_id not in box.tel.recording
    box.engine.handle(ev.LegEnded(leg, 200))
    assert box.store.calls[call_id]["recording"]  # the file kept up to the stop is still the call's
