"""A caller reaches an operator through the IVR and the queue, over real SIP, with audio checked."""

from __future__ import annotations

from pathlib import Path

from firmware.sim.analysis import has_tone, read_wav, tone_seconds
from tests.e2e.boxes import (BYE_HZ, CALLER_HZ, DISCLOSURE_HZ, GREETING_HZ, MENU_HZ, MUSIC_HZ,
                             SIP_OPERATOR_HZ, STATION_HZ, box)


def test_caller_reaches_a_station_through_ivr_and_queue(make_engine, phone):
    engine = make_engine(box())
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3.2", "--talk", "7", "--caller-id", "5551234")
    heard = caller.result()
    call = heard["calls"][0]
    assert call["connected"] and call["last_status"] == 200
    record = Path(heard["record"])
    # The IVR: greeting, disclosure and menu prompts, then music while queued, then the operator.
    for hz in (GREETING_HZ, DISCLOSURE_HZ, MENU_HZ, MUSIC_HZ, STATION_HZ["st1"]):
        assert has_tone(record, hz, min_s=0.4), f"caller did not hear {hz} Hz"
    assert tone_seconds(record, STATION_HZ["st1"]) > 3

    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["caller_id"] == "5551234"
    assert (rec["line"], rec["queue"], rec["operator"], rec["disposition"]) == ("gw", "desk", "st1", "answered")
    assert 1.0 <= rec["wait_s"] <= 3.5
    assert rec["talk_s"] > 3
    assert engine.queue_events(rec["id"]) == ["enter", "ring", "connect", "complete"]
    # Two-way audio: the caller's voice reached the operator and the recording holds both sides.
    station_ear = next((engine.data_dir / "stations" / "st1").glob("*.wav"))
    assert tone_seconds(station_ear, CALLER_HZ) > 3
    recording = Path(rec["recording"])
    assert recording.name == f"{rec['id']}.wav"
    rate, samples = read_wav(recording)
    assert rate == 8000
    assert tone_seconds(recording, CALLER_HZ) > 3 and tone_seconds(recording, STATION_HZ["st1"]) > 3
    # The operator wraps up, then is ready again.
    engine.wait_for(lambda: engine.status()["operators"][0]["state"] == "ready", what="operator ready")


def test_sip_operator_at_a_static_uri(make_engine, phone, tmp_path):
    operator = phone("answer", "--tone", str(SIP_OPERATOR_HZ), "--answer-after", "0.5")
    uri = f"sip:alice@127.0.0.1:{operator.port()}"
    engine = make_engine(box(operators=[{"name": "alice", "kind": "sip", "uri": uri}]))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3.0", "--talk", "5")
    heard = caller.result()
    answered = operator.result()
    assert has_tone(heard["record"], SIP_OPERATOR_HZ, min_s=2)
    assert tone_seconds(answered["record"], CALLER_HZ) > 2
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["operator"], rec["disposition"]) == ("alice", "answered")
    assert tone_seconds(rec["recording"], SIP_OPERATOR_HZ) > 2 and tone_seconds(rec["recording"], CALLER_HZ) > 2


def test_ring_timeout_moves_to_the_next_operator(make_engine, phone):
    silent = phone("answer", "--answer-after", "-1", "--max-seconds", "40")
    stations = [{"name": "slow", "kind": "sip", "uri": f"sip:slow@127.0.0.1:{silent.port()}"},
                {"name": "st2", "kind": "station", "auto_answer_s": 1, "voice": "voice-st2"}]
    engine = make_engine(box(operators=stations, queue={"ring_timeout_s": 2}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3",
                   "--talk", "7")
    heard = caller.result()
    assert has_tone(heard["record"], STATION_HZ["st2"], min_s=1)
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["operator"] == "st2"
    events = engine.queue_events(rec["id"])
    assert events[:5] == ["enter", "ring", "ringnoanswer", "ring", "connect"]
    assert silent.result()["calls"][0]["connected"] is False


def test_abandon_while_queued(make_engine, phone):
    engine = make_engine(box(operators=[{"name": "st1", "kind": "station"}]))  # never answers
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3",
                   "--talk", "4")
    caller.result()
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["disposition"] == "abandoned" and rec["operator"] is None
    assert 2.5 <= rec["wait_s"] <= 6
    assert engine.queue_events(rec["id"])[-1] == "abandon"
    assert engine.status()["waiting"] == []


def test_maximum_wait_sends_the_caller_to_the_fallback(make_engine, phone):
    engine = make_engine(box(operators=[{"name": "st1", "kind": "station"}], queue={"max_wait_s": 3}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3")
    heard = caller.result()
    assert heard["calls"][0]["disconnected_by"] == "remote"
    assert has_tone(heard["record"], BYE_HZ, min_s=0.5)
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["disposition"] == "timeout"
    assert "timeout" in engine.queue_events(rec["id"])


def test_caller_hanging_up_in_the_ivr_and_status_capacity(make_engine, phone):
    engine = make_engine(box())
    status = engine.status()
    assert status["capacity"]["max_calls"] >= 4 and status["capacity"]["name"]
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--hangup-after", "1.5")
    caller.result()
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["disposition"] == "ivr_hangup" and rec["queue"] is None
    text = engine.cli("status").stdout
    assert "SIP calls in use" in text and "st1" in text

