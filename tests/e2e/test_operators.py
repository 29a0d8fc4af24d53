"""Operators as people use them: station buttons, ready and pause, the demo box, announcements."""

from __future__ import annotations

import json
import time

from firmware.sim.analysis import has_tone, read_wav, segments, tone_seconds
from tests.e2e.boxes import CALLER_HZ, MUSIC_HZ, STATION_HZ, box


def test_station_answered_with_its_button_and_paused_from_the_cli(make_engine, phone):
    stations = [{"name": n, "kind": "station", "voice": f"voice-{n}"} for n in ("st1", "st2")]
    engine = make_engine(box(operators=stations, queue={"ring_timeout_s": 30}))
    assert "st1 is paused" in engine.cli("operator", "st1", "pause", "--reason", "lunch").stdout
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--talk", "9")
    engine.wait_for(lambda: {o["name"]: o["state"] for o in engine.status()["operators"]}["st2"] == "ringing",
                    what="st2 ringing")
    states = {o["name"]: (o["state"], o["reason"]) for o in engine.status()["operators"]}
    assert states["st1"] == ("paused", "lunch")
    assert "pressed answer on st2" in engine.cli("sim", "press", "st2", "answer").stdout
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), what="connected")
    time.sleep(3)  # the two talk
    engine.cli("sim", "press", "st2", "answer")  # the same button hangs up
    heard = caller.result()
    assert heard["calls"][0]["disconnected_by"] == "remote"
    assert has_tone(heard["record"], STATION_HZ["st2"], min_s=1)
    assert not has_tone(heard["record"], STATION_HZ["st1"], min_s=0.3)
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["operator"], rec["disposition"]) == ("st2", "answered")
    assert engine.queue_events(rec["id"])[-1] == "complete"
    log = engine.cli("calls", "--json")
    assert json.loads(log.stdout)[0]["end_reason"] == "operator hung up"


def test_periodic_position_announcement_between_music(make_engine, phone):
    engine = make_engine(box(operators=[{"name": "st1", "kind": "station"}],
                             queue={"announce_every_s": 3, "max_wait_s": 30}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3",
                   "--talk", "10")
    heard = caller.result()
    rate, samples = read_wav(heard["record"])
    queued = segments(samples[int(3.0 * rate):], rate)  # after the digit
    kinds = ["music" if s.kind == "tone" and abs(s.freq_hz - MUSIC_HZ) < 20 else s.kind for s in queued]
    # Music, a spoken announcement 3 s later, music again.
    assert kinds[0] == "music" and queued[0].duration > 2.5, queued
    assert "sound" in kinds, f"no announcement: {queued}"
    assert "music" in kinds[kinds.index("sound"):], f"music did not come back after the announcement: {queued}"


def test_the_demo_box_from_an_empty_data_directory(make_engine):
    engine = make_engine(None)  # the demo configuration, prompts spoken by espeak-ng
    result = engine.cli("sim", "call", "--digits", "1", "--digit-delay", "8", "--talk", "6", "--json")
    heard = json.loads(result.stdout)
    assert heard["calls"][0]["connected"]
    assert any(s["kind"] == "sound" and s["end_s"] < 8 for s in heard["heard"]), "no IVR speech heard"
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["queue"], rec["disposition"]) == ("front-desk", "answered")
    assert rec["operator"] in ("st1", "st2", "st3")
    assert tone_seconds(rec["recording"], 600) > 2  # the test phone's voice is in the recording



def test_panel_buttons_through_gpio_pins_pause_and_log_out(make_engine):
    engine = make_engine(box())
    states = lambda: {o["name"]: (o["state"], o["reason"]) for o in engine.status()["operators"]}
    assert "pressed ready on st1" in engine.cli("sim", "press", "st1", "ready").stdout
    engine.wait_for(lambda: states()["st1"] == ("paused", "button"), what="paused by the button")
    engine.cli("sim", "press", "st1", "ready", "--long")
    engine.wait_for(lambda: states()["st1"] == ("logged_out", "long press"), what="logged out by a long press")
    assert "every panel LED blinks" in engine.cli("panel-test", "--seconds", "1").stdout
