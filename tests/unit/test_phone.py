"""Two simulated phones (separate processes, real SIP and RTP on loopback) talk to each other."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pjsua2")

from firmware.sim import analysis  # noqa: E402
from firmware.sim.phone import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn():
    procs = []

    def start(*args):
        proc = subprocess.Popen([sys.executable, "-m", "firmware.sim.phone", *args, "--json"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def listening_port(proc, ready_file: Path, timeout=10.0) -> int:
    deadline = time.monotonic() + timeout
    while not ready_file.exists():
        assert proc.poll() is None, f"answering phone exited early: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "answering phone never became ready"
        time.sleep(0.05)
    return int(ready_file.read_text())


def result(proc, timeout=30.0) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {err}"
    return json.loads(out)


def events(report, kind):
    return [e["detail"] for e in report["events"] if e["event"] == kind]


def test_two_phones_hear_each_other(spawn, tmp_path):
    ready = tmp_path / "port"
    answerer = spawn("answer", "--port", "0", "--ready-file", str(ready), "--tone", "1300",
                     "--answer-after", "0.5", "--hangup-after", "4",
                     "--record", str(tmp_path / "answer.wav"), "--max-seconds", "20")
    port = listening_port(answerer, ready)
    caller = spawn("call", f"sip:x@127.0.0.1:{port}", "--tone", "600", "--digits", "12",
                   "--record", str(tmp_path / "call.wav"), "--max-seconds", "20")
    heard_by_caller, heard_by_answerer = result(caller), result(answerer)

    call = heard_by_caller["calls"][0]
    assert call["connected"] and call["last_status"] == 200
    assert call["disconnected_by"] == "remote"
    assert call["connected_s"] == pytest.approx(4, abs=0.5)
    assert events(heard_by_caller, "dtmf_sent") == ["12"]
    assert analysis.has_tone(tmp_path / "call.wav", 1300, min_s=2)
    assert not analysis.has_tone(tmp_path / "call.wav", 600)
    assert any(s["kind"] == "tone" and abs(s["freq_hz"] - 1300) < 15
               for s in heard_by_caller["heard"])

    answered = heard_by_answerer["calls"][0]
    assert answered["connected"] and answered["disconnected_by"] == "local"
    assert events(heard_by_answerer, "dtmf_received") == ["1", "2"]
    assert events(heard_by_answerer, "incoming")[0].startswith(f"INVITE sip:x@127.0.0.1:{port} ")
    assert analysis.has_tone(heard_by_answerer["record"], 600, min_s=1)
    assert analysis.tone_seconds(heard_by_answerer["record"], 600) > 3


def test_rejected_call_is_reported_not_failed(spawn, tmp_path):
    ready = tmp_path / "port"
    answerer = spawn("answer", "--port", "0", "--ready-file", str(ready), "--reject", "486",
                     "--answer-after", "0", "--max-seconds", "15")
    port = listening_port(answerer, ready)
    report = result(spawn("call", f"sip:100@127.0.0.1:{port}", "--max-seconds", "15"))
    call = report["calls"][0]
    assert (call["last_status"], call["connected"], call["disconnected_by"]) == (486, False,
                                                                                 "remote")
    assert report["record"] is None and report["heard"] == []
    assert result(answerer)["calls"][0]["disconnected_by"] == "local"


def test_ringing_phone_sees_caller_id_and_source(spawn, tmp_path):
    ready = tmp_path / "port"
    answerer = spawn("answer", "--port", "0", "--ready-file", str(ready), "--answer-after", "-1",
                     "--max-seconds", "15")
    port = listening_port(answerer, ready)
    caller = result(spawn("call", f"sip:100@127.0.0.1:{port}", "--bind", "127.0.0.2",
                          "--caller-id", "5551234", "--from-user", "Alice", "--max-seconds", "1.5"))
    assert caller["calls"][0]["disconnected_by"] == "local"
    assert events(caller, "stop") == ["max-seconds"]

    ringing = result(answerer)
    incoming = next(e for e in ringing["events"] if e["event"] == "incoming")
    assert "<sip:5551234@127.0.0.2>" in incoming["from"] and '"Alice"' in incoming["from"]
    assert incoming["source"].startswith("127.0.0.2:")
    call = ringing["calls"][0]
    assert (call["connected"], call["last_status"], call["disconnected_by"]) == (False, 487,
                                                                                 "remote")


@pytest.mark.parametrize("argv", [[], ["call"], ["call", "not-a-uri"], ["answer", "--port", "x"],
                                  ["answer", "--reject", "200"], ["call", "sip:a@b", "--digits",
                                                                  "12x"]])
def test_bad_arguments_exit_2(argv, capsys):
    assert main(argv) == 2


def test_invalid_uri_found_by_pjsua_exits_2(spawn):
    proc = spawn("call", "sip:@@", "--max-seconds", "5")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 2, err
    assert events(json.loads(out), "error") == ["not a valid SIP URI: sip:@@"]
