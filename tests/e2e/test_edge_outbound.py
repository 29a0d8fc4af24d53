"""Operators dialling out through the edge, for real: Kamailio challenges the operator phone's INVITE
(digest, the same password as its registration), the engine dials the number on the SIP line (a test
phone plays the public network) and bridges both; strangers, wrong passwords and denied numbers are
refused. Without the edge nobody can dial out, whatever headers they send."""

from __future__ import annotations

import tomllib
from pathlib import Path

from firmware import settings as settings_mod
from firmware.sim.analysis import has_tone
from tests.e2e.boxes import SIP_OPERATOR_HZ, box
from tests.e2e.test_edge_sip import PASSWORD, edge_box, set_password, sipp, wait_registered

PSTN_HZ = 900
NUMBER = "0301234567"
SCENARIO = Path(__file__).parent / "sipp" / "operator_header_without_edge.xml"


def outbound_box(pstn_port: int, **edge) -> str:
    """The edge box with its gateway line able to dial out to the test phone playing the network."""
    data = tomllib.loads(edge_box(**edge))
    data["lines"][0].update(outgoing=True, dial_uri=f"sip:{{number}}@127.0.0.1:{pstn_port}")
    return settings_mod.to_toml(settings_mod.from_dict(data))


def operator_state(engine, name: str) -> str:
    return next(op["state"] for op in engine.status()["operators"] if op["name"] == name)


def test_a_registered_operator_dials_out_on_the_line_with_audio_both_ways(make_engine, phone):
    pstn = phone("answer", "--tone", str(PSTN_HZ), "--answer-after", "1", "--hangup-after", "7",
                 "--max-seconds", "90")
    engine = make_engine(outbound_box(pstn.port()))
    set_password(engine, "alice", PASSWORD)
    alice = phone("register", f"sip:127.0.0.1:{engine.port}", "--username", "alice", "--password", PASSWORD,
                  "--bind", "127.0.0.2", "--tone", str(SIP_OPERATOR_HZ),
                  "--dial", f"sip:{NUMBER}@127.0.0.1:{engine.port}", "--max-seconds", "60")
    engine.wait_for(lambda: operator_state(engine, "alice") == "on_call", what="alice on her call")
    call = engine.wait_for(lambda: [c for c in engine.status()["calls"] if c["operator"] == "alice"],
                           what="the call in status")[0]
    assert call["line"] == "gw"

    answered = pstn.result()
    incoming = next(e for e in answered["events"] if e["event"] == "incoming")
    assert f"sip:{NUMBER}@127.0.0.1:{answered['port']}" in incoming["detail"]
    assert answered["calls"][0]["connected"]
    assert has_tone(answered["calls"][0]["record"], SIP_OPERATOR_HZ, min_s=2)  # the network hears alice
    dialled = alice.result()
    assert dialled["registrations"][0]["code"] == 200
    out = [c for c in dialled["calls"] if c["direction"] == "out"][0]
    assert out["connected"] and has_tone(out["record"], PSTN_HZ, min_s=2)  # alice hears the network

    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["direction"], rec["operator"], rec["line"], rec["caller_id"], rec["disposition"]) == (
        "outbound", "alice", "gw", NUMBER, "answered")
    assert has_tone(rec["recording"], SIP_OPERATOR_HZ, min_s=2) and has_tone(rec["recording"], PSTN_HZ, min_s=2)
    engine.wait_for(lambda: operator_state(engine, "alice") == "ready", what="alice ready again")


def test_strangers_wrong_passwords_and_denied_numbers_do_not_get_out(make_engine, phone):
    pstn = phone("answer", "--tone", str(PSTN_HZ), "--answer-after", "1", "--max-seconds", "90")
    engine = make_engine(outbound_box(pstn.port()))
    set_password(engine, "alice", PASSWORD)
    uri = f"sip:{NUMBER}@127.0.0.1:{engine.port}"
    # A phone with no password at all: challenged, and it cannot answer the challenge.
    stranger = phone("call", uri, "--bind", "127.0.0.3", "--max-seconds", "15").result()
    assert not stranger["calls"][0]["connected"] and stranger["calls"][0]["last_status"] == 407
    # The right user name with a wrong password: refused the same way, and counted towards a ban.
    guess = phone("call", uri, "--username", "alice", "--password", "guessed-wrong", "--bind", "127.0.0.4",
                  "--max-seconds", "15").result()
    assert not guess["calls"][0]["connected"] and guess["calls"][0]["last_status"] in (403, 407)
    edge = engine.status()["edge"]
    assert edge["counts"]["auth_failures"] == 1
    assert engine.calls() == []  # neither reached the engine

    # The right password, a number the dial plan denies (international): 403, logged, alerted.
    alice = phone("call", "sip:0044201234567@127.0.0.1:" + str(engine.port), "--username", "alice",
                  "--password", PASSWORD, "--bind", "127.0.0.2", "--max-seconds", "15").result()
    assert not alice["calls"][0]["connected"] and alice["calls"][0]["last_status"] == 403
    rec = engine.wait_for(lambda: engine.calls(), what="the refused call's record")[0]
    assert (rec["direction"], rec["operator"], rec["disposition"], rec["line"]) == (
        "outbound", "alice", "rejected", None)
    assert "deny rule" in rec["end_reason"]
    assert "0044201234567" in engine.cli("log").stdout
    alerts = engine.status()["alerts"]
    assert [a["kind"] for a in alerts] == ["dialplan"] and "ALERT dialplan" in engine.cli("status").stdout
    assert operator_state(engine, "alice") == "ready"
    pstn.proc.terminate()  # it reports what it got: no call at all
    assert [e for e in pstn.result()["events"] if e["event"] == "incoming"] == []


def test_without_the_edge_nobody_dials_out_whatever_headers_say(make_engine, phone, tmp_path):
    pstn = phone("answer", "--tone", str(PSTN_HZ), "--answer-after", "1", "--max-seconds", "60")
    data = tomllib.loads(box())
    data["lines"][0].update(outgoing=True, dial_uri=f"sip:{{number}}@127.0.0.1:{pstn.port()}")
    engine = make_engine(settings_mod.to_toml(settings_mod.from_dict(data)))
    # An INVITE from a stranger carrying the edge's headers (an operator, a line's source): 403.
    result = sipp(SCENARIO.name, engine.port, tmp_path, "127.0.0.6", "-s", NUMBER)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    rec = engine.wait_for(lambda: engine.calls(), what="the refused call's record")[0]
    assert (rec["disposition"], rec["line"], rec["operator"]) == ("rejected", None, None)
    assert rec.get("direction") != "outbound"
    assert engine.status()["capacity"]["in_use"] == 0
