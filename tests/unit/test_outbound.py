"""Operators dialling out: the pure rule (`outbound.decide`) and the engine's flow with fakes."""

from __future__ import annotations

from firmware import events as ev, settings as settings_mod
from firmware.edge.trust import trusted_operator
from firmware.engine import outbound
from firmware.engine.core import Engine
from firmware.settings import Operator, Outbound
from tests.fakes import FakeClock, FakeStore, FakeTelephony, FakeTimers

ALICE = Operator(name="alice", kind="sip", username="alice")
EDGE = "127.0.0.1:5062"


def decide(number="0301234567", state="ready", operator=ALICE, rate=True, line=True, rules=Outbound()):
    return outbound.decide("alice", operator, state, rules, number, rate, line)


def test_an_operator_may_dial_a_national_number():
    assert decide() == outbound.Dial("alice", "0301234567")
    assert decide("030 123-4567", state="paused") == outbound.Dial("alice", "0301234567")


def test_refusals_name_their_rule_and_sip_code():
    assert decide(operator=None).code == 403
    assert decide(state="on_call").code == 486 and decide(state="ringing").code == 486
    international = decide("0044201234567")
    assert (international.code, international.alert) == (403, "dialplan") and "deny rule" in international.why
    assert decide("+4930123").code == 403 and decide("1900123456").code == 403  # premium
    assert decide("112").code == 403 and decide("sip-user").code == 403
    limit = decide(rate=False)
    assert (limit.code, limit.alert) == (403, "outbound")
    assert decide(line=False).code == 503
    allowed_abroad = Outbound(allow=[r"0044[0-9]+"], deny=[])
    assert decide("0044201234567", rules=allowed_abroad) == outbound.Dial("alice", "0044201234567")


def test_far_end_status_maps_to_disposition_and_what_the_phone_hears():
    assert outbound.far_end_disposition(486) == "busy"
    assert outbound.far_end_disposition(487) == "no_answer"
    assert outbound.far_end_disposition(503) == "failed"
    assert outbound.relayed_status(486) == 486 and outbound.relayed_status(0) == 480


def test_the_operator_header_is_believed_only_from_the_edge():
    invite = "INVITE sip:0301234567@127.0.0.1 SIP/2.0\r\nX-Switchboard-Operator: alice\r\n\r\n"
    assert trusted_operator(EDGE, invite, EDGE) == "alice"
    assert trusted_operator("127.0.0.1:5099", invite, EDGE) is None  # another local process
    assert trusted_operator("10.0.0.5:5060", invite, None) is None  # no edge: never
    twice = invite.replace("\r\n\r\n", "\r\nX-Switchboard-Operator: bob\r\n\r\n")
    assert trusted_operator(EDGE, twice, EDGE) is None
    assert trusted_operator(EDGE, invite.replace("alice", "a b;c"), EDGE) is None


def config(**outbound_rules) -> settings_mod.Settings:
    return settings_mod.from_dict({
        "prompts": {n: {"tone_hz": 400 + i * 100} for i, n in enumerate(["menu", "music"])},
        "lines": [{"name": "trunk", "allow": ["10.0.0.0/24"], "outgoing": True, "channels": 1,
                   "dial_uri": "sip:{number}@10.0.0.1", "routes": [{"number": "*", "day_menu": "main"}]}],
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:desk"}, "timeout_s": 4}],
        "queues": [{"name": "desk", "operators": ["alice", "st"], "strategy": "linear", "ring_timeout_s": 10,
                    "wrapup_s": 5, "music": "music"}],
        "operators": [{"name": "alice", "kind": "sip", "username": "alice"},
                      {"name": "bob", "kind": "sip", "username": "bob"}, {"name": "st", "kind": "station"}],
        "edge": {}, "sip": {"address": "192.168.1.2"},
        "outbound": outbound_rules,
    })


class Box:
    def __init__(self, settings=None):
        self.clock = FakeClock()
        self.timers = FakeTimers(self.clock)
        self.tel, self.store = FakeTelephony(max_calls=100), FakeStore()
        self.engine = Engine(settings or config(), self.tel, self.store, self.timers, "/tmp/sb-test",
                             clock=self.clock, wall=self.clock.wall, disk_free=lambda: 10**12)

    def dial(self, number="0301234567", user="alice") -> str:
        leg = self.tel.new_incoming()
        self.engine.handle(ev.IncomingCall(leg, "192.168.1.20", number, user, operator=user))
        return leg

    def state(self, op: str) -> str:
        return self.engine.operators[op].state.value

    def last_call(self) -> dict:
        return list(self.store.calls.values())[-1]


def test_an_operator_call_goes_out_on_a_free_line_bridged_and_recorded():
    box = Box()
    phone = box.dial()
    assert box.tel.dialled_out() == [("trunk", "0301234567", "out2")]
    assert ("ringing", phone) in box.tel.actions and box.state("alice") == "on_call"
    rec = box.last_call()
    assert (rec["direction"], rec["operator"], rec["line"], rec["caller_id"]) == ("outbound", "alice", "trunk",
                                                                                 "0301234567")
    # While alice is on her own call, a queue caller is not offered to her.
    caller = box.tel.new_incoming()
    box.engine.handle(ev.IncomingCall(caller, "10.0.0.5", "200", "0309999"))
    box.engine.handle(ev.PlaybackDone(caller, box.tel.playing[caller][1]))
    box.engine.handle(ev.DtmfDigit(caller, "1"))
    assert box.tel.rung() == ["st"]
    box.engine.handle(ev.LegAnswered("out2"))
    assert ("answer", phone) in box.tel.actions and ("bridge", "out2", phone) in box.tel.actions
    assert box.tel.recording[rec["id"]][0] == ("out2", phone)
    box.clock.now += 30
    box.engine.handle(ev.LegEnded("out2", 200, "far end hung up"))
    assert (rec["disposition"], rec["talk_s"]) == ("answered", 30.0) and rec["recording"]
    assert ("stop_record", rec["id"]) in box.tel.actions
    box.timers.advance(0.1)
    assert box.state("alice") == "ready" and rec["id"] not in box.engine.sessions


def test_a_paused_operator_goes_back_to_pause_after_her_call():
    box = Box()
    box.engine.handle(ev.OperatorAction("alice", "pause", "lunch"))
    phone = box.dial()
    box.engine.handle(ev.LegEnded(phone, 0, "cancelled"))
    rec = box.last_call()
    assert rec["disposition"] == "no_answer" and "hung up before the answer" in rec["end_reason"]
    box.timers.advance(0.1)
    assert box.state("alice") == "paused"
    assert ("hangup", "out2") in box.tel.actions  # the far end stops ringing


def test_a_busy_far_end_is_relayed_to_the_operator():
    box = Box()
    phone = box.dial()
    box.engine.handle(ev.LegEnded("out2", 486, "Busy Here"))
    assert ("reject", phone, 486) in box.tel.actions
    assert box.last_call()["disposition"] == "busy"


def test_refused_numbers_get_403_a_log_entry_and_the_alert():
    box = Box()
    phone = box.dial("0044201234567")
    assert ("reject", phone, 403) in box.tel.actions and not box.tel.dialled_out()
    rec = box.last_call()
    assert (rec["disposition"], rec["direction"], rec["operator"]) == ("rejected", "outbound", "alice")
    assert "deny rule" in rec["end_reason"]
    assert any("refused with 403" in entry[2] for entry in box.store.logs)
    status = box.engine.handle(ev.GetStatus())
    assert [a["kind"] for a in status["alerts"]] == ["dialplan"] and box.state("alice") == "ready"


def test_no_free_line_and_the_hourly_limit():
    box = Box(config(max_per_hour=2))
    first = box.dial()
    second = box.dial("0301111111", user="bob")
    assert ("reject", second, 503) in box.tel.actions  # the trunk's one channel is taken by alice
    box.engine.handle(ev.LegEnded(first, 0, "done"))
    box.timers.advance(0.1)
    box.engine.handle(ev.LegEnded(box.dial("0301111111", user="bob"), 0, "done"))
    box.timers.advance(0.1)
    third = box.dial("0302222222")
    assert ("reject", third, 403) in box.tel.actions
    status = box.engine.handle(ev.GetStatus())
    assert "outbound" in [a["kind"] for a in status["alerts"]]
    box.clock.now += 3601
    box.dial("0303333333")
    assert len(box.tel.dialled_out()) == 3 and "outbound" not in box.engine.alerts


def test_unknown_user_and_a_busy_operator_are_refused():
    box = Box()
    stranger = box.dial(user="mallory")
    assert ("reject", stranger, 403) in box.tel.actions
    box.dial()
    again = box.dial("0301111111")
    assert ("reject", again, 486) in box.tel.actions


def test_an_outgoing_call_never_answered_is_given_up():
    box = Box()
    phone = box.dial()
    box.timers.advance(outbound.RING_LIMIT_S + 1)
    assert ("reject", phone, 480) in box.tel.actions and box.last_call()["disposition"] == "no_answer"
    assert not box.engine.sessions and "out2" not in box.tel.live


def test_an_outgoing_call_cannot_be_transferred():
    box = Box()
    box.dial()
    box.engine.handle(ev.LegAnswered("out2"))
    try:
        box.engine.handle(ev.Transfer("alice", "st", by="cli"))
    except ValueError as exc:
        assert "outgoing call" in str(exc)
    else:
        raise AssertionError("transfer accepted")
