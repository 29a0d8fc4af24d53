"""Headset stations end to end: transfer between stations and back to the queue, the ring tone in the
headset, an unplugged headset. A real engine, a SIP caller in another process, simulated stations on
mock GPIO pins and simulated USB headsets (a fake /proc and /sys tree read by the real discovery)."""

from __future__ import annotations

import time
import wave
from pathlib import Path

from firmware.sim.analysis import has_tone, read_wav, segments, tone_seconds
from firmware.store import db as dbmod, queries
from firmware.telephony.stations import RING_HZ
from tests.e2e.boxes import CALLER_HZ, SIP_OPERATOR_HZ, STATION_HZ, box

STATIONS = [{"name": n, "kind": "station", "voice": f"voice-{n}"} for n in ("st1", "st2", "st3")]


def states(engine) -> dict[str, str]:
    return {o["name"]: o["state"] for o in engine.status()["operators"]}


def heard_by(engine, station: str) -> list[Path]:
    """What a simulated station heard, one WAV per leg, oldest first."""
    return sorted((engine.data_dir / "stations" / station).glob("*.wav"), key=lambda p: p.stat().st_mtime)


def split_at_first(path: Path, hz: float):
    """(samples before, samples from) the first moment `hz` is heard, and the rate."""
    rate, samples = read_wav(path)
    for seg in segments(samples, rate):
        if seg.kind == "tone" and abs(seg.freq_hz - hz) < 20:
            cut = int(seg.start_s * rate)
            return samples[:cut], samples[cut:], rate
    raise AssertionError(f"{hz} Hz never heard in {path}: {segments(samples, rate)}")


def ring_bursts(samples, rate) -> int:
    return sum(1 for s in segments(samples, rate) if s.kind == "tone" and abs(s.freq_hz - RING_HZ) < 20)


def test_transfer_between_stations_keeps_one_call_and_one_recording(make_engine, phone):
    engine = make_engine(box(operators=STATIONS[:2], queue={"ring_timeout_s": 30, "wrapup_s": 30}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--talk", "60")
    engine.wait_for(lambda: states(engine)["st1"] == "ringing", what="st1 ringing")
    time.sleep(2.5)  # st1 hears its ring tone
    engine.cli("sim", "press", "st1", "answer")
    engine.wait_for(lambda: states(engine)["st1"] == "on_call", what="st1 on the call")
    time.sleep(3)  # the caller and st1 talk
    result = engine.cli("operator", "st1", "transfer", "st2")
    assert "ringing st2" in result.stdout
    engine.wait_for(lambda: states(engine)["st2"] == "ringing", what="st2 ringing")
    assert states(engine)["st1"] == "on_call"  # st1 keeps the caller while st2 rings
    time.sleep(2.5)
    engine.cli("sim", "press", "st2", "answer")
    engine.wait_for(lambda: states(engine) == {"st1": "wrapup", "st2": "on_call"}, what="st2 took the call")
    time.sleep(3)  # the caller and st2 talk
    engine.cli("sim", "press", "st2", "answer")  # st2 hangs up
    heard = caller.result()
    assert heard["calls"][0]["disconnected_by"] == "remote"
    assert has_tone(heard["record"], STATION_HZ["st1"], min_s=1.5), "the caller never heard st1"
    assert has_tone(heard["record"], STATION_HZ["st2"], min_s=1.5), "the caller never heard st2"

    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")
    assert len(rec) == 1 and (rec[0]["operator"], rec[0]["disposition"]) == ("st2", "answered")
    recording = rec[0]["recording"]
    for who, hz in (("caller", CALLER_HZ), ("st1", STATION_HZ["st1"]), ("st2", STATION_HZ["st2"])):
        assert tone_seconds(recording, hz) > 1.5, f"{who} missing from the call's one recording"
    events = engine.queue_events(rec[0]["id"])
    assert events[-4:] == ["transfer", "transfer", "connect", "complete"], events
    log = [(r["operator"], r["state"], r["reason"]) for r in
           reversed(queries.operator_log(dbmod.open_read(engine.data_dir)))]
    assert ("st1", "on_call", "transfer to st2 requested (command)") in log
    assert ("st2", "ringing", "transfer from st1") in log
    assert ("st1", "wrapup", "after call") in log and ("st2", "on_call", "transfer from st1") in log

    # st2's headset: the ring tone while it rang, then the caller, and no ring tone once answered.
    before, after, rate = split_at_first(heard_by(engine, "st2")[-1], CALLER_HZ)
    assert ring_bursts(before, rate) >= 2, "st2 heard no ring tone (two bursts a cycle)"
    assert tone_seconds(after, RING_HZ, rate=rate) == 0, "the ring tone went on after the answer"


def caller_moves_from_st1_to_st2(make_engine, phone, *action: str):
    """st1 answers a caller, talks, then `switchboard sim ACTION...`; the caller must end up with st2
    (who answers on its own) and have heard both. The engine and the one closed call record."""
    stations = [STATIONS[0], {**STATIONS[1], "auto_answer_s": 1.5}]
    engine = make_engine(box(operators=stations, queue={"ring_timeout_s": 30, "wrapup_s": 30}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--talk", "60")
    engine.wait_for(lambda: states(engine)["st1"] == "ringing", what="st1 ringing")
    engine.cli("sim", "press", "st1", "answer")
    engine.wait_for(lambda: states(engine)["st1"] == "on_call", what="st1 on the call")
    time.sleep(2.5)
    engine.cli("sim", *action)
    engine.wait_for(lambda: states(engine) == {"st1": "wrapup", "st2": "on_call"}, what="st2 took the call")
    time.sleep(3)  # the caller and st2 talk
    engine.cli("sim", "press", "st2", "answer")  # st2 hangs up
    heard = caller.result()
    assert has_tone(heard["record"], STATION_HZ["st1"], min_s=1.5)
    assert has_tone(heard["record"], STATION_HZ["st2"], min_s=1.5)
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")
    assert len(rec) == 1 and (rec[0]["operator"], rec[0]["disposition"]) == ("st2", "answered")
    return engine, rec


def test_transfer_button_hands_the_caller_back_to_the_queue(make_engine, phone):
    engine, rec = caller_moves_from_st1_to_st2(make_engine, phone, "press", "st1", "transfer")
    assert tone_seconds(rec[0]["recording"], STATION_HZ["st1"]) > 1.5
    assert tone_seconds(rec[0]["recording"], STATION_HZ["st2"]) > 1.5
    events = engine.queue_events(rec[0]["id"])
    assert ["connect", "transfer", "enter", "ring", "connect", "complete"] == events[-6:], events


def test_ring_tone_in_the_headset_stops_when_the_ringing_is_cancelled(make_engine, phone):
    engine = make_engine(box(operators=STATIONS[:1], queue={"ring_timeout_s": 3, "retry_delay_s": 30}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3",
                   "--talk", "6")
    caller.result()
    engine.wait_for(lambda: heard_by(engine, "st1") and states(engine)["st1"] == "ready", what="ring over")
    rate, samples = read_wav(heard_by(engine, "st1")[0])
    found = segments(samples, rate)
    assert ring_bursts(samples, rate) >= 2, found
    assert all(s.kind == "tone" and abs(s.freq_hz - RING_HZ) < 20 for s in found), found
    # Cancelled with the ringing: the station's ear (its recorder) was closed, its WAV header written.
    with wave.open(str(heard_by(engine, "st1")[0])) as w:
        assert w.getnframes() == len(samples)


def test_an_unplugged_headset_is_skipped_and_comes_back(make_engine, phone):
    engine = make_engine(box(operators=[{**s, "auto_answer_s": 1.5} for s in STATIONS[:2]]))
    assert "st1's headset unplugged" in engine.cli("sim", "headset", "st1", "unplug").stdout
    available = lambda: {o["name"]: o["available"] for o in engine.status()["operators"]}
    engine.wait_for(lambda: available() == {"st1": False, "st2": True}, what="st1 unavailable")
    assert "HEADSET UNPLUGGED" in engine.cli("status").stdout
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--talk", "4")
    heard = caller.result()
    assert has_tone(heard["record"], STATION_HZ["st2"], min_s=1)
    assert tone_seconds(heard["record"], STATION_HZ["st1"]) == 0
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["operator"] == "st2" and engine.queue_events(rec["id"]).count("ring") == 1
    assert not heard_by(engine, "st1"), "st1 was rung with its headset unplugged"
    engine.cli("sim", "headset", "st1", "plug")
    engine.wait_for(lambda: available() == {"st1": True, "st2": True}, what="st1 available again")
    log = [r["reason"] for r in queries.operator_log(dbmod.open_read(engine.data_dir), "st1")]
    assert any(r.startswith("headset unplugged") for r in log) and any(r.startswith("headset plugged in")
                                                                       for r in log), log


def test_unplugging_during_a_call_gives_the_caller_to_another_station(make_engine, phone):
    engine, rec = caller_moves_from_st1_to_st2(make_engine, phone, "headset", "st1", "unplug")
    assert tone_seconds(rec[0]["recording"], STATION_HZ["st2"]) > 1.5
    log = [r["reason"] for r in queries.operator_log(dbmod.open_read(engine.data_dir), "st1")]
    assert "headset unplugged during the call" in log, log


def test_transfer_from_a_station_to_a_sip_phone(make_engine, phone):
    operator = phone("answer", "--tone", str(SIP_OPERATOR_HZ), "--answer-after", "1", "--hangup-after", "4")
    alice = {"name": "alice", "kind": "sip", "uri": f"sip:alice@127.0.0.1:{operator.port()}"}
    engine = make_engine(box(operators=[STATIONS[0], alice], queue={"ring_timeout_s": 30, "wrapup_s": 30}))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--talk", "60")
    engine.wait_for(lambda: states(engine)["st1"] == "ringing", what="st1 ringing")
    engine.cli("sim", "press", "st1", "answer")
    engine.wait_for(lambda: states(engine)["st1"] == "on_call", what="st1 on the call")
    time.sleep(2.5)
    assert "ringing alice" in engine.cli("operator", "st1", "transfer", "alice").stdout
    heard = caller.result()  # alice answers, talks, hangs up: the box ends the caller's call
    answered = operator.result()
    assert has_tone(heard["record"], STATION_HZ["st1"], min_s=1.5)
    assert has_tone(heard["record"], SIP_OPERATOR_HZ, min_s=2)
    assert tone_seconds(answered["record"], CALLER_HZ) > 2
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")
    assert len(rec) == 1 and (rec[0]["operator"], rec[0]["disposition"]) == ("alice", "answered")
    for hz in (CALLER_HZ, STATION_HZ["st1"], SIP_OPERATOR_HZ):
        assert tone_seconds(rec[0]["recording"], hz) > 1.5, hz
