"""The technician's checks, their pure parts: the SIP line test's target and OPTIONS exchange, the
headset test's levels and verdict, the line machine's test state, and the panel test's routing of
button presses (through gpiozero's mock pins)."""

from __future__ import annotations

import socket
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from drivers.modem.line import IllegalTransition, Line, LinePolicy, LineState
from drivers.panel import make_panel
from drivers.panel.mock import press_button
from firmware import events as ev, headset_check, linetest, panels, settings as settings_mod
from tests.fakes import FakeClock


def sip_line(allow=(), dial_uri=None, **ignored):
    """What sip_target reads of a settings.Line."""
    return SimpleNamespace(name="gw", kind="fxo_gateway", allow=list(allow), dial_uri=dial_uri)


def test_the_sip_line_test_pings_the_dial_uri_host_else_the_one_allowed_address():
    assert linetest.sip_target(sip_line(allow=["10.0.0.9"], outgoing=True,
                                        dial_uri="sip:{number}@192.168.1.30:5062")) == \
        {"host": "192.168.1.30", "port": 5062, "from": "dial_uri"}
    assert linetest.sip_target(sip_line(allow=["192.168.1.30"])) == {"host": "192.168.1.30", "port": 5060,
                                                                     "from": "allow"}
    assert "no single peer" in linetest.sip_target(sip_line(allow=["192.168.1.0/24"]))["error"]
    ok, text = linetest.describe_sip("gw", linetest.sip_target(sip_line(allow=["10.0.0.0/8"])), None)
    assert not ok and "dial_uri" in text


def answering_peer(code: int, reason: str, provisional: bool = False):
    """A UDP socket on loopback that answers the first request it gets, echoing its Call-ID."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)

    def answer():
        data, peer = sock.recvfrom(65535)
        head = dict(line.split(": ", 1) for line in data.decode().split("\r\n")[1:] if ": " in line)
        for status in ([(100, "Trying")] if provisional else []) + [(code, reason)]:
            sock.sendto((f"SIP/2.0 {status[0]} {status[1]}\r\nVia: {head['Via']}\r\nCall-ID: {head['Call-ID']}\r\n"
                         f"CSeq: 1 OPTIONS\r\nServer: TestGateway/1.0\r\nContent-Length: 0\r\n\r\n").encode(), peer)
        sock.close()

    threading.Thread(target=answer, daemon=True).start()
    return sock.getsockname()[1]


def test_options_ping_reports_the_final_answer_and_round_trip():
    port = answering_peer(200, "OK", provisional=True)
    ping = linetest.options_ping("127.0.0.1", port)
    assert ping["reachable"] and ping["code"] == 200 and ping["agent"] == "TestGateway/1.0" and ping["sent"] == 1
    ok, text = linetest.describe_sip("gw", {"from": "allow"}, ping)
    assert ok and text.startswith("SIP peer OK") and "200 OK" in text
    ping = linetest.options_ping("127.0.0.1", answering_peer(405, "Method Not Allowed"))
    ok, text = linetest.describe_sip("gw", {"from": "allow"}, ping)
    assert ok and "does not accept OPTIONS" in text


def test_options_ping_to_nothing_is_refused_or_unanswered_quickly():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    ping = linetest.options_ping("127.0.0.1", port, retransmit=(0.2, 0.2))
    assert not ping["reachable"] and ("refused" in ping["error"] or "no answer" in ping["error"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        ping = linetest.options_ping("127.0.0.1", silent.getsockname()[1], retransmit=(0.1, 0.2))
    assert not ping["reachable"] and ping["sent"] == 2 and "no answer" in ping["error"]


def test_a_response_to_someone_else_is_ignored():
    data = b"SIP/2.0 200 OK\r\nCall-ID: other\r\n\r\n"
    assert linetest.parse_response(data, "mine") is None
    assert linetest.parse_response(b"SIP/2.0 486 Busy Here\r\ni: mine\r\n\r\n", "mine") == (486, "Busy Here", "")


def test_headset_levels_and_verdict():
    t = np.arange(16000) / 8000
    tone = 0.25 * 32767 * np.sin(2 * np.pi * 1000 * t)
    measured = headset_check.levels(tone, 8000)
    assert measured["seconds"] == 2.0 and len(measured["per_second"]) == 2
    assert abs(measured["peak_dbfs"] - (-12.0)) < 0.2 and abs(measured["rms_dbfs"] - (-15.1)) < 0.2
    assert headset_check.verdict(measured)[0]
    quiet = headset_check.levels(tone * 10 ** (-40 / 20), 8000)
    ok, text = headset_check.verdict(quiet)
    assert ok and "very quiet" in text
    for nothing in (np.zeros(16000), np.zeros(0), np.full(16000, 500.0)):  # silence, no samples, DC only
        ok, text = headset_check.verdict(headset_check.levels(nothing, 8000))
        assert not ok and text.startswith("NO INPUT")


def test_the_line_test_state_takes_only_an_idle_line_and_ignores_rings():
    line = Line(LinePolicy(), FakeClock())
    line.modem_ready()
    assert line.start_test()[0].state is LineState.testing
    from drivers.modem import protocol as p
    assert line.handle(p.Ring()) == [] and line.state is LineState.testing  # off hook: nothing rings
    with pytest.raises(IllegalTransition):  # no dialling during the test
        line.dial("5551234")
    assert line.test_over()[0].state is LineState.idle
    line.handle(p.Ring())
    with pytest.raises(IllegalTransition):  # a ringing line is not taken off hook for a test
        line.start_test()


def test_panel_test_lists_presses_made_on_the_pins_and_keeps_them_from_the_engine():
    posted, clock = [], FakeClock()
    router = panels.ButtonRouter(posted.append, clock)
    pin_map = panels.simulated_pin_map(settings_mod.from_dict(
        {"operators": [{"name": "st1", "kind": "station"}, {"name": "st2", "kind": "station"}]}))
    panel = make_panel("mock", pin_map, router)
    try:
        press_button(panel, "st1", "answer")
        _wait(lambda: posted)
        assert posted == [ev.PanelButton("st1", "answer", False)]
        router.watch(10)
        press_button(panel, "st2", "ready")
        press_button(panel, "st1", "transfer")
        _wait(lambda: len(router.since(0)["presses"]) == 2)
        state = router.since(0)
        assert [(p["station"], p["button"], p["long"]) for p in state["presses"]] == [
            ("st2", "ready", False), ("st1", "transfer", False)]
        assert state["running"] and router.since(1)["presses"][0]["button"] == "transfer"
        assert len(posted) == 1  # nothing reached the engine during the test
        clock.now += 10
        assert not router.since(0)["running"]
        press_button(panel, "st2", "ready")
        _wait(lambda: len(posted) == 2)
        assert posted[1] == ev.PanelButton("st2", "ready", False)
    finally:
        panel.close()


def _wait(predicate, timeout=3.0):
    import time
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_live_level_reads_the_newest_part_of_a_recording_being_written(tmp_path):
    import time
    import wave
    path = tmp_path / "st1-mic.wav"
    assert headset_check.latest(str(path), 0) is None  # no test yet
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        t = np.arange(8000) / 8000
        w.writeframes(np.zeros(8000, dtype="<i2").tobytes())
        w.writeframes((0.5 * 32767 * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes())
    level = headset_check.latest(str(path), 0)
    assert abs(level["peak_dbfs"] - (-6.0)) < 0.2  # the last half second: the tone, not the silence
    assert headset_check.latest(str(path), time.time() + 60) is None  # a recording older than the test


class HeadsetTestTelephony:
    """What the engine asks of the telephony for a headset test: a test that records its finish."""

    def __init__(self, tel):
        self.tel, self.finished = tel, []

    def __call__(self, station, folder):
        finished = self.finished

        class Test:
            def finish(self):
                finished.append(station)
                return {"station": station, "mic": f"{folder}/{station}-mic.wav", "ear": None}
        return Test()


def test_the_headset_test_keeps_calls_from_the_station_until_it_ends_and_is_refused_on_a_call():
    from tests.unit.test_core import Box
    box = Box()
    tests = HeadsetTestTelephony(box.tel)
    box.tel.headset_test = tests
    for op in ("a", "b", "c"):
        box.engine.handle(ev.OperatorAction(op, "ready"))
    started = box.engine.handle(ev.HeadsetTest("a", 5))
    assert started["seconds"] == 5 and not started["pending"].done()
    assert box.engine.handle(ev.GetStatus())["operators"][0]["unavailable_because"] == "headset test"
    leg, _ = box.queue_caller()
    assert box.tel.rung() == ["b"]  # the hunt skips the station under test
    try:
        box.engine.handle(ev.HeadsetTest("b", 5))
        raise AssertionError("a second test at once")
    except ValueError as exc:
        assert "already running on a" in str(exc)
    box.timers.advance(5)
    assert started["pending"].result(0)["station"] == "a" and tests.finished == ["a"]
    assert box.engine.headset_available("a")
    box.answer("b")
    try:
        box.engine.handle(ev.HeadsetTest("b", 5))
        raise AssertionError("tested a headset on a call")
    except ValueError as exc:
        assert "b is on call" in str(exc) and "try again" in str(exc)
    for bad, why in ((ev.HeadsetTest("nobody"), "no operator named"), (ev.HeadsetTest("a", 60), "between 1 and 30")):
        try:
            box.engine.handle(bad)
            raise AssertionError(f"accepted {bad}")
        except (KeyError, ValueError) as exc:
            assert why in str(exc)


def test_the_line_test_of_a_sip_line_names_its_peer_and_a_modem_line_with_a_call_is_refused():
    from tests.unit.test_core import Box
    box = Box()
    answer = box.engine.handle(ev.LineTest("trunk"))
    assert answer["kind"] == "sip_trunk" and "no single peer" in answer["target"]["error"]
    try:
        box.engine.handle(ev.LineTest("nope"))
        raise AssertionError("tested a line that does not exist")
    except KeyError as exc:
        assert "no line named" in str(exc)
