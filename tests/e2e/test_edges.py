"""The SIP edge and faults: unknown sources, SIPp peers, bad configuration, a killed engine."""

from __future__ import annotations

import struct
import subprocess
import time
import wave
from pathlib import Path

from firmware.sim.analysis import tone_seconds
from tests.e2e.boxes import CALLER_HZ, STATION_HZ, box
from tests.e2e.conftest import free_port

SIPP = Path(__file__).parent / "sipp"


def sipp(scenario: str, port: int, tmp_path: Path, service: str = "100", bind: str = "127.0.0.1",
         timeout: float = 30) -> subprocess.CompletedProcess:
    """Run one SIPp call of a scenario against the engine; exit code 0 means the scenario passed."""
    return subprocess.run(["sipp", f"127.0.0.1:{port}", "-sf", str(SIPP / scenario), "-s", service,
                           "-i", bind, "-p", str(free_port()), "-m", "1", "-timeout", f"{int(timeout)}s",
                           "-timeout_error", "-nostdin", "-trace_err"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout + 10)


def test_unknown_source_address_gets_403_and_a_log_entry(make_engine, phone):
    engine = make_engine(box())
    stranger = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--bind", "127.0.0.2")
    call = stranger.result()["calls"][0]
    assert call["last_status"] == 403 and not call["connected"]
    rec = engine.wait_for(lambda: engine.calls(), what="call record")[0]
    assert rec["disposition"] == "rejected" and rec["line"] is None
    assert "127.0.0.2" in engine.cli("log").stdout
    assert engine.status()["calls"] == []


def test_sipp_options_and_a_caller_hanging_up_in_the_ivr(make_engine, tmp_path):
    engine = make_engine(box())
    options = sipp("options.xml", engine.port, tmp_path)
    assert options.returncode == 0, options.stdout + options.stderr
    call = sipp("invite.xml", engine.port, tmp_path, service="200")
    assert call.returncode == 0, call.stdout + call.stderr
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert (rec["disposition"], rec["caller_id"], rec["line"]) == ("ivr_hangup", "5550100", "gw")


def test_invalid_configuration_is_refused_and_the_running_one_kept(make_engine, tmp_path):
    engine = make_engine(box())
    bad = tmp_path / "bad.toml"
    bad.write_text(box().replace('strategy = "linear"', 'strategy = "loudest"') + "\nflavour = 1\n")
    result = engine.cli("config", "import", str(bad), check=False)
    assert result.returncode == 2
    assert "queues[0].strategy = 'loudest'" in result.stderr
    assert "flavour = 1: unknown key" in result.stderr
    exported = engine.cli("config", "export").stdout
    assert 'strategy = "linear"' in exported
    good = tmp_path / "good.toml"
    good.write_text(box(queue={"ring_timeout_s": 9}))
    assert "applied" in engine.cli("config", "import", str(good)).stdout
    assert "ring_timeout_s = 9" in engine.cli("config", "export").stdout


def test_reload_during_a_call_keeps_it(make_engine, phone):
    engine = make_engine(box())
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--talk", "8")
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), what="connected")
    assert "1 calls in progress kept" in engine.cli("reload").stdout
    heard = caller.result()
    assert heard["calls"][0]["disconnected_by"] == "local"
    assert tone_seconds(heard["record"], STATION_HZ["st1"]) > 5
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], what="call record")[0]
    assert rec["disposition"] == "answered" and rec["talk_s"] > 5


def test_engine_killed_mid_call_then_restarted(make_engine, phone):
    engine = make_engine(box())
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--tone", str(CALLER_HZ),
                   "--digits", "1", "--digit-delay", "3", "--max-seconds", "12")
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), what="connected")
    time.sleep(3)
    engine.kill()
    caller.kill()
    recording = next((engine.data_dir / "recordings").glob("*.wav"))
    riff_size = struct.unpack("<I", recording.read_bytes()[4:8])[0]
    assert riff_size == 0  # what a killed pjsua2 recorder leaves

    restarted = make_engine(None, port=engine.port)
    with wave.open(str(recording)) as w:  # repaired at start-up: readable, with its audio
        assert w.getnframes() / w.getframerate() > 2
    assert tone_seconds(recording, CALLER_HZ) > 2
    rec = restarted.calls()[0]
    assert rec["disposition"] == "answered" and rec["ended_at"] and rec["talk_s"] > 2
    assert "repaired" in restarted.cli("log").stdout
    # And the restarted box takes calls again.
    again = phone("call", f"sip:100@127.0.0.1:{restarted.port}", "--hangup-after", "1")
    assert again.result()["calls"][0]["connected"]


def test_a_call_beyond_the_call_limit_is_refused_and_explained(make_engine, phone):
    engine = make_engine(box(sip={"max_calls": 3}))  # within any build's limit (the wheel allows 4)
    limit = engine.status()["capacity"]["max_calls"]
    assert limit == 3
    callers = [phone("call", f"sip:100@127.0.0.1:{engine.port}", "--hangup-after", "6") for _ in range(limit)]
    engine.wait_for(lambda: len(engine.status()["calls"]) == limit, what="calls up to the limit")
    extra = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--hangup-after", "2")
    refused = extra.result()["calls"][0]
    assert not refused["connected"] and refused["last_status"] >= 400
    assert all(c.result()["calls"][0]["connected"] for c in callers)
    assert f"{limit} of {limit} SIP calls in use" in engine.cli("log").stdout
