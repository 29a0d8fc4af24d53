"""Nobody is lost, over real SIP: queue callback (confirmed or keyed-in number), voicemail after hours,
and the worklist, with audio checked in what each side heard and in the recordings."""

from __future__ import annotations

import json
import time

import pytest

from firmware import settings as settings_mod
from firmware.sim.analysis import has_tone, tone_seconds
from tests.e2e.boxes import CALLER_HZ, STATION_HZ, box

OFFER_HZ, CONFIRMED_HZ, WHISPER_HZ, GREETING_HZ, BEEP_HZ = 1100, 1250, 1900, 700, 1000


def dialled(answered: dict) -> str:
    """The request line of the INVITE the test answerer received."""
    return next(e["detail"] for e in answered["events"] if e["event"] == "incoming")


def callback_box(answerer_port: int, channels: int = 1) -> str:
    """The e2e box with callback on, its gateway line able to dial out to the test answerer, and the
    system prompts the test listens for replaced by tones."""
    data = settings_mod.from_toml(box(
        operators=[{"name": "st1", "kind": "station", "auto_answer_s": 1.0, "voice": "voice-st1",
                    "login": "logged_out"}],
        queue={"callback": {"enabled": True, "offer_after_s": 1, "ring_s": 15, "attempts": 2,
                            "spacing_s": 5}})).model_dump(mode="json", exclude_none=True)
    data["lines"][0].update(outgoing=True, channels=channels, dial_uri=f"sip:{{number}}@127.0.0.1:{answerer_port}")
    data["prompts"].update({
        "sys-callback-offer": {"tone_hz": OFFER_HZ, "seconds": 1.0},
        "sys-callback-done": {"tone_hz": CONFIRMED_HZ, "seconds": 1.0},
        "sys-callback-whisper": {"tone_hz": WHISPER_HZ, "seconds": 1.0},
    })
    return settings_mod.to_toml(settings_mod.from_dict(data))


@pytest.mark.long(60)
def test_caller_chooses_callback_and_is_called_back_when_an_operator_and_the_line_are_free(make_engine, phone):
    customer = phone("answer", "--tone", str(CALLER_HZ), "--answer-after", "1", "--hangup-after", "5",
                     "--max-seconds", "120")
    engine = make_engine(callback_box(customer.port()))
    uri = f"sip:100@127.0.0.1:{engine.port}"
    # Menu 1 (queue), then 1 during the offer, then 1 to confirm the caller-ID number read back.
    caller = phone("call", uri, "--caller-id", "0301234567", "--digits", "1,,,1,,,,,,,,,,,,,1", "--digit-delay", "3.2",
                   "--talk", "20")
    heard = caller.result()
    assert has_tone(heard["record"], OFFER_HZ, min_s=0.5) and has_tone(heard["record"], CONFIRMED_HZ, min_s=0.5)
    assert heard["calls"][0]["disconnected_by"] == "remote"  # the box said goodbye and hung up
    first = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"] == "callback"], what="request")[0]
    assert engine.status()["callbacks"][0]["number"] == "0301234567"

    # Another caller holds the only line: the callback waits although an operator becomes free.
    other = phone("call", uri, "--caller-id", "0309999999", "--digits", "1", "--digit-delay", "3.2", "--talk", "8")
    engine.wait_for(lambda: len(engine.status()["waiting"]) == 1, what="second caller queued")
    engine.cli("operator", "st1", "ready")
    other.result()
    served = engine.wait_for(lambda: [c for c in engine.calls() if c["caller_id"] == "0309999999"
                                      and c["disposition"]], what="second call over")[0]
    assert served["operator"] == "st1"  # the callback came first in the queue, but had no line

    # The line and st1 free again: st1 is reserved, hears the whisper, then the customer is dialled.
    answered = customer.result(timeout=120)
    call = answered["calls"][0]
    assert call["connected"] and "sip:0301234567@" in dialled(answered)
    assert tone_seconds(answered["record"], STATION_HZ["st1"]) > 2  # the customer hears the operator
    back = engine.wait_for(lambda: [c for c in engine.calls() if c.get("direction") == "callback"
                                    and c["disposition"]], what="callback record")[0]
    assert (back["operator"], back["disposition"], back["callback_of"]) == ("st1", "answered", first["id"])
    assert back["started_at"] >= served["ended_at"]
    assert tone_seconds(back["recording"], CALLER_HZ) > 2 and tone_seconds(back["recording"], STATION_HZ["st1"]) > 2
    station_ear = sorted((engine.data_dir / "stations" / "st1").glob("*.wav"))[-1]
    assert has_tone(station_ear, WHISPER_HZ, min_s=0.5) and tone_seconds(station_ear, CALLER_HZ) > 2
    events = engine.queue_events(first["id"])
    assert events[:4] == ["enter", "callback_offered", "callback_chosen", "callback_requested"]
    assert events[-3:] == ["callback_attempt", "callback_dial", "callback_connected"]
    assert engine.status()["callbacks"] == []
    listed = engine.cli("callbacks", "--json").stdout
    assert '"status": "done"' in listed


@pytest.mark.long(45)
def test_a_withheld_caller_keys_in_a_number_to_be_called_back_on(make_engine, phone):
    customer = phone("answer", "--tone", str(CALLER_HZ), "--answer-after", "0.5", "--hangup-after", "3",
                     "--max-seconds", "90")
    engine = make_engine(callback_box(customer.port(), channels=2))
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--from-user", "anonymous",
                   "--digits", "1,,,1,,,0301112222#,,,,,,,,,,,,,1", "--digit-delay", "3.2", "--talk", "20")
    caller.result()
    request = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"] == "callback"], what="request")[0]
    assert "0301112222" in request["end_reason"]
    engine.cli("operator", "st1", "ready")
    answered = customer.result(timeout=90)
    assert "sip:0301112222@" in dialled(answered)
    assert tone_seconds(answered["record"], STATION_HZ["st1"]) > 1


def test_voicemail_after_hours_is_kept_listed_and_clears_from_the_worklist(make_engine, phone):
    config = settings_mod.from_toml(box()).model_dump(mode="json", exclude_none=True)
    config["prompts"]["vm-greeting"] = {"tone_hz": GREETING_HZ, "seconds": 1.0}
    config["mailboxes"] = [{"name": "office", "greeting": "vm-greeting", "max_message_s": 30}]
    config["menus"].append({"name": "closed", "prompt": "bye", "timeout_s": 0.1, "retries": 0,
                            "on_noinput": "voicemail:office"})
    config["lines"][0]["routes"][0]["night_menu"] = "closed"
    engine = make_engine(settings_mod.to_toml(settings_mod.from_dict(config)))
    engine.cli("hours", "night")
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--caller-id", "0305550000",
                   "--tone", str(CALLER_HZ), "--talk", "9")
    heard = caller.result()
    assert has_tone(heard["record"], GREETING_HZ, min_s=0.5) and has_tone(heard["record"], BEEP_HZ, min_s=0.2)
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["disposition"] == "voicemail"
    [message] = json.loads(engine.cli("voicemail", "--json").stdout)
    assert (message["mailbox"], message["caller_id"]) == ("office", "0305550000")
    assert message["path"] == rec["recording"]
    assert tone_seconds(message["path"], CALLER_HZ) > 3 and not has_tone(message["path"], GREETING_HZ, min_s=0.3)
    assert engine.status()["voicemail"]["unheard"] == 1
    [entry] = json.loads(engine.cli("worklist", "--json").stdout)
    assert (entry["number"], entry["reason"]) == ("0305550000", "left a voicemail")

    engine.cli("voicemail", "heard", str(message["id"]))
    assert engine.status()["voicemail"]["unheard"] == 0
    engine.cli("worklist", "done", "030 555 0000", "--by", "owner")
    assert json.loads(engine.cli("worklist", "--json").stdout) == []
    engine.cli("voicemail", "delete", str(message["id"]))
    assert json.loads(engine.cli("voicemail", "--all", "--json").stdout) == []
    assert "deleted message" in engine.cli("log").stdout
    missing = engine.cli("voicemail", "delete", str(message["id"]), check=False)
    assert missing.returncode == 1 and "no voicemail message" in missing.stderr


@pytest.mark.long(35)
def test_callback_dialled_out_on_the_analog_line(make_engine, tmp_path):
    config = settings_mod.from_toml(callback_box(9)).model_dump(mode="json", exclude_none=True)
    config["lines"][0].update(outgoing=False)
    config["lines"].append({"name": "analog", "kind": "modem", "device": "/dev/ttyACM0", "outgoing": True,
                            "routes": [{"number": "*", "greeting": "greeting", "day_menu": "main"}]})
    engine = make_engine(settings_mod.to_toml(settings_mod.from_dict(config)))
    line_state = lambda: next(ln["state"] for ln in engine.status()["lines"] if ln["name"] == "analog")
    engine.wait_for(lambda: line_state() == "idle", what="modem line up")
    sim = lambda *args: engine.cli("sim", "line", "analog", *args)
    sim("voice", str(CALLER_HZ))
    sim("ring", "0305550199")
    engine.wait_for(lambda: engine.status()["calls"], what="the call answered")
    time.sleep(3.0)  # greeting, disclosure, menu
    sim("dtmf", "1")
    engine.wait_for(lambda: engine.status()["waiting"], what="queued")
    time.sleep(1.5)  # the offer
    sim("dtmf", "1")
    time.sleep(1.0)  # the number read back
    sim("dtmf", "1")
    engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"] == "callback"], what="request")
    engine.wait_for(lambda: line_state() == "idle", what="the line on hook again")
    engine.cli("operator", "st1", "ready")
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), timeout=30,
                    what="the callback connected")
    time.sleep(4)
    heard = tmp_path / "customer-heard.wav"
    sim("heard", str(heard))
    sim("busy")
    back = engine.wait_for(lambda: [c for c in engine.calls() if c.get("direction") == "callback"
                                    and c["disposition"]], timeout=20, what="the callback over")[0]
    assert (back["line"], back["dialled"], back["operator"], back["disposition"]) == \
        ("analog", "0305550199", "st1", "answered")
    assert tone_seconds(heard, STATION_HZ["st1"]) > 2  # the customer hears the operator through the modem
    assert tone_seconds(back["recording"], CALLER_HZ) > 2  # and the operator hears the customer
    engine.wait_for(lambda: line_state() == "idle", what="the line back on hook")
