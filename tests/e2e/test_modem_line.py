"""An analog call through the voice-modem driver and the simulated modem on a pty: rings with caller
ID, the IVR, DTMF, the queue, a station, two-way audio by tones, and the far end hanging up by busy
tone (the simulated exchange sends only the tone, as cheap lines do)."""

from __future__ import annotations

import time

from firmware.sim.analysis import has_tone, tone_seconds
from tests.e2e.boxes import CALLER_HZ, MENU_HZ, STATION_HZ, box


def test_analog_call_reaches_a_station_and_ends_by_busy_tone(make_engine, tmp_path):
    engine = make_engine(box(modem=True))
    line_state = lambda: next(ln["state"] for ln in engine.status()["lines"] if ln["name"] == "analog")
    engine.wait_for(lambda: line_state() == "idle", what="modem line up")
    sim = lambda *args: engine.cli("sim", "line", "analog", *args)
    sim("voice", str(CALLER_HZ))
    sim("ring", "5550199")
    engine.wait_for(lambda: engine.status()["calls"], what="the call answered")
    time.sleep(3.0)  # greeting, disclosure, menu prompts
    sim("dtmf", "1")
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), what="connected")
    time.sleep(4)
    heard = tmp_path / "caller-heard.wav"
    sim("heard", str(heard))
    sim("busy")
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], timeout=20,
                          what="the call to end by busy tone")[0]
    assert (rec["line"], rec["caller_id"], rec["operator"]) == ("analog", "5550199", "st1")
    assert rec["disposition"] == "answered" and rec["end_reason"] == "caller hung up"
    assert engine.queue_events(rec["id"]) == ["enter", "ring", "connect", "complete"]
    # What the caller heard on the line: the menu prompt, then the operator's voice.
    assert has_tone(heard, MENU_HZ, min_s=0.5)
    assert tone_seconds(heard, STATION_HZ["st1"]) > 2
    # The caller's voice crossed the modem into the bridge: the station heard it, the recording has it.
    station_ear = next((engine.data_dir / "stations" / "st1").glob("*.wav"))
    assert tone_seconds(station_ear, CALLER_HZ) > 2
    assert tone_seconds(rec["recording"], CALLER_HZ) > 2 and tone_seconds(rec["recording"], STATION_HZ["st1"]) > 2
    engine.wait_for(lambda: line_state() == "idle", what="the line back on hook")


def test_modem_unplugged_mid_call_then_back_with_diagnostics(make_engine):
    engine = make_engine(box(modem=True))
    line_state = lambda: engine.status()["lines"][1]["state"]
    engine.wait_for(lambda: line_state() == "idle", what="modem line up")
    engine.cli("sim", "line", "analog", "ring", "5550123")
    engine.wait_for(lambda: engine.status()["calls"], what="the call answered")
    engine.cli("sim", "line", "analog", "unplug")
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="the call closed")[0]
    assert rec["end_reason"] == "line lost in IVR" and rec["disposition"] == "ivr_hangup"
    engine.wait_for(lambda: line_state() == "offline", what="line offline")
    engine.cli("sim", "line", "analog", "replug")
    engine.wait_for(lambda: line_state() == "idle", timeout=30, what="the line back by itself")
    text = engine.cli("line", "analog").stdout
    assert "analog (modem): idle" in text and "5550123" in text  # the raw caller-ID report
    engine.cli("sim", "line", "analog", "ring", "5550124")
    engine.wait_for(lambda: engine.status()["calls"], what="a call after the replug")
