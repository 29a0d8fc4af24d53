"""The SIP edge for real: Kamailio in front of an engine (`switchboard run --sim` starts both), test
phones that register with digest authentication, SIPp as scanners and floods. Every address is on
loopback: 127.0.0.1 is the line's allowed (and so trusted) address; attackers and phones use other
127.x addresses so that a ban of one does not hit the others."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from firmware import settings as settings_mod
from firmware.edge.credentials import ha1
from firmware.sim.analysis import has_tone
from tests.e2e.boxes import CALLER_HZ, SIP_OPERATOR_HZ, box
from tests.e2e.conftest import ROOT, free_port

SIPP = Path(__file__).parent / "sipp"
PASSWORD = "correct-horse-7"


def edge_box(**edge) -> str:
    """The test box with the edge on (free loopback ports) and one operator whose phone registers."""
    data = tomllib.loads(box(operators=[{"name": "alice", "kind": "sip", "uri": "sip:alice@127.0.0.1:9"}],
                             queue={"ring_timeout_s": 20}))
    data["operators"][0] = {"name": "alice", "kind": "sip", "username": "alice"}  # box() knows no edge
    data["edge"] = {"engine_port": 0, "internal_port": 0, **edge}
    return settings_mod.to_toml(settings_mod.from_dict(data))


def set_password(engine, name: str, password: str) -> str:
    result = subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(engine.data_dir), "edge",
                             "password", name], input=password + "\n", cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def sipp(scenario: str, port: int, tmp_path: Path, bind: str, *extra: str, calls: int = 1,
         timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["sipp", f"127.0.0.1:{port}", "-sf", str(SIPP / scenario), "-s", "100", "-i", bind,
                           "-p", str(free_port()), "-m", str(calls), "-timeout", f"{int(timeout)}s",
                           "-timeout_error", "-nostdin", "-trace_err", *extra],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout + 10)


def edge_status(engine) -> dict:
    edge = engine.status()["edge"]
    assert edge["running"], edge
    return edge


def wait_registered(p, timeout: float = 20) -> None:
    marker = Path(str(p.ready) + ".registered")
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert p.proc.poll() is None, f"phone exited: {p.proc.communicate()}"
        assert time.monotonic() < deadline, "the phone did not register"
        time.sleep(0.1)


def test_registered_phone_gets_a_queue_call_through_the_edge(make_engine, phone):
    engine = make_engine(edge_box())
    assert "configuration applied" in set_password(engine, "alice", PASSWORD)
    stored = tomllib.loads(engine.cli("config", "export").stdout)
    alice_config = next(o for o in stored["operators"] if o["name"] == "alice")
    assert alice_config["ha1"] == ha1("alice", "switchboard", PASSWORD)  # a digest, never the password
    assert PASSWORD not in engine.cli("config", "export").stdout
    assert PASSWORD not in "".join(p.read_text() for p in (engine.data_dir / "edge" / "db").iterdir())

    alice = phone("register", f"sip:127.0.0.1:{engine.port}", "--username", "alice", "--password", PASSWORD,
                  "--bind", "127.0.0.2", "--tone", str(SIP_OPERATOR_HZ), "--answer-after", "1",
                  "--max-seconds", "60")
    wait_registered(alice)
    regs = edge_status(engine)["registrations"]
    assert [r["user"] for r in regs] == ["alice"] and "127.0.0.2" in regs[0]["contact"]

    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ), "--digits", "1",
                   "--digit-delay", "3", "--talk", "6")
    heard = caller.result()
    assert heard["calls"][0]["connected"], heard["events"]
    assert has_tone(heard["record"], SIP_OPERATOR_HZ, min_s=1.5)
    answered = alice.result()  # the phone stops after its one call
    incoming = [e for e in answered["events"] if e["event"] == "incoming"]
    assert len(incoming) == 1 and "sip:alice@127.0.0.2" in incoming[0]["detail"]
    assert has_tone(answered["calls"][0]["record"], CALLER_HZ, min_s=1.5)
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["line"], rec["operator"], rec["disposition"]) == ("gw", "alice", "answered")


@pytest.mark.long(30)
def test_wrong_password_is_refused_and_repeated_failures_ban(make_engine, phone):
    engine = make_engine(edge_box(ban_after_failures=3))
    set_password(engine, "alice", PASSWORD)
    for attempt in range(3):
        result = phone("register", f"sip:127.0.0.1:{engine.port}", "--username", "alice", "--password",
                       "guessed-wrong", "--bind", "127.0.0.3", "--max-seconds", "8").result()
        if attempt < 2:  # refused with a new challenge
            assert [r["code"] for r in result["registrations"]] == [401], result
        else:  # the third failure bans the address: no answer at all
            assert all(r["code"] != 200 for r in result["registrations"]), result
    edge = edge_status(engine)
    assert edge["registrations"] == []
    assert edge["counts"]["auth_failures"] == 3
    assert {"address": "127.0.0.3", "reason": "failures"} in edge["banned"]
    # The right password from another address still works; the lifted ban lets the address in again.
    good = phone("register", f"sip:127.0.0.1:{engine.port}", "--username", "alice", "--password", PASSWORD,
                 "--bind", "127.0.0.4", "--max-seconds", "3").result()
    assert good["registrations"][0]["code"] == 200
    assert "ban lifted" in engine.cli("edge", "unban", "127.0.0.3").stdout
    again = phone("register", f"sip:127.0.0.1:{engine.port}", "--username", "alice", "--password", PASSWORD,
                  "--bind", "127.0.0.3", "--max-seconds", "3").result()
    assert again["registrations"][0]["code"] == 200
    status = engine.cli("status").stdout
    assert "SIP edge (Kamailio)" in status and "3 wrong credentials" in status


def test_scanner_user_agent_gets_no_answer_and_is_banned(make_engine, tmp_path):
    engine = make_engine(edge_box())
    scan = sipp("edge_unanswered.xml", engine.port, tmp_path, "127.0.0.66", "-key", "ua", "friendly-scanner")
    assert scan.returncode == 0, scan.stdout[-2000:] + scan.stderr[-2000:]
    # Banned now: even a harmless User-Agent from there gets nothing ...
    after = sipp("edge_unanswered.xml", engine.port, tmp_path, "127.0.0.66", "-key", "ua", "Generic Phone")
    assert after.returncode == 0, after.stdout[-2000:]
    # ... while the same harmless request from elsewhere is answered (the scenario then fails).
    elsewhere = sipp("edge_unanswered.xml", engine.port, tmp_path, "127.0.0.67", "-key", "ua", "Generic Phone")
    assert elsewhere.returncode != 0
    edge = edge_status(engine)
    assert edge["counts"]["scanners"] == 1 and edge["counts"]["dropped_banned"] >= 1
    assert edge["banned"] == [{"address": "127.0.0.66", "reason": "scanner"}]


def test_register_flood_is_banned_and_counted(make_engine, tmp_path):
    engine = make_engine(edge_box(flood_requests=20, flood_window_s=2))
    flood = sipp("edge_register_flood.xml", engine.port, tmp_path, "127.0.0.77", "-r", "200", calls=600)
    assert flood.returncode == 0, flood.stdout[-2000:]
    edge = edge_status(engine)
    assert {"address": "127.0.0.77", "reason": "flood"} in edge["banned"]
    assert edge["counts"]["floods"] >= 1 and edge["counts"]["bans"] >= 1
    assert edge["counts"]["dropped_banned"] > 0
    assert "127.0.0.77" in engine.cli("status").stdout
    # The line's own address is trusted: the same flood from it bans nothing.
    sipp("edge_register_flood.xml", engine.port, tmp_path, "127.0.0.1", "-r", "200", calls=300)
    assert [b["address"] for b in edge_status(engine)["banned"]] == ["127.0.0.77"]


def test_lines_are_still_accepted_by_source_address_behind_the_edge(make_engine, phone, tmp_path):
    engine = make_engine(edge_box())
    # A stranger claiming the line's address and an operator in the edge's own headers: the claims
    # are dropped and, not being a line, the INVITE must authenticate (407); the engine never sees it.
    spoofed = sipp("edge_spoofed_invite.xml", engine.port, tmp_path, "127.0.0.5")
    assert spoofed.returncode == 0, spoofed.stdout[-2000:] + spoofed.stderr[-2000:]
    assert engine.calls() == []
    # The line's own address is accepted through the edge.
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--talk", "2")
    assert caller.result()["calls"][0]["connected"]
    accepted = engine.wait_for(lambda: [c for c in engine.calls() if c["line"] == "gw" and c["disposition"]],
                               what="the accepted call's record")[0]
    assert accepted["disposition"] != "rejected"
    # The engine itself listens on loopback only, on its own port behind the edge.
    engine_sip = engine.status()["sip"]["engine"]
    assert engine_sip.startswith("127.0.0.1:") and int(engine_sip.rsplit(":", 1)[1]) != engine.port


def test_an_unregistered_phone_is_passed_over_like_an_unreachable_one(make_engine, phone):
    data = tomllib.loads(edge_box())
    data["operators"].append({"name": "st1", "kind": "station", "auto_answer_s": 1.0, "voice": "voice-st1"})
    data["queues"][0]["operators"] = ["alice", "st1"]  # linear: alice first
    engine = make_engine(settings_mod.to_toml(settings_mod.from_dict(data)))
    set_password(engine, "alice", PASSWORD)  # but her phone never registers
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--digit-delay", "3", "--talk", "4")
    assert caller.result()["calls"][0]["connected"]
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["operator"], rec["disposition"]) == ("st1", "answered")
    assert "ringnoanswer" in engine.queue_events(rec["id"])


def test_malformed_requests_are_answered_by_the_edge_and_counted(make_engine, tmp_path):
    engine = make_engine(edge_box())
    result = sipp("edge_malformed.xml", engine.port, tmp_path, "127.0.0.88", "-r", "10", calls=3)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    edge = edge_status(engine)
    assert edge["counts"]["malformed"] == 3 and edge["banned"] == []
