"""The technician's hardware checks against a running engine: the line test on a simulated modem
line (real dial-tone audio from the simulated exchange, and a dead line) and on a SIP line (an
OPTIONS ping to a real pjsua2 phone), the headset test on simulated headsets (the tone analysed in
what the simulated headset played, the level measured from what its microphone sent), and the panel
test showing presses made through gpiozero's mock pins."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import tomli_w

from firmware.sim.analysis import tone_seconds
from firmware.telephony.headset_test import TEST_HZ
from tests.e2e.boxes import STATION_HZ, box
from tests.e2e.conftest import ROOT, free_port


def line_state(engine, name="analog"):
    return next(ln["state"] for ln in engine.status()["lines"] if ln["name"] == name)


def line_test(engine, name="analog"):
    result = engine.cli("line-test", name, "--json", check=False)
    return result.returncode, json.loads(result.stdout)


def test_modem_line_test_hears_dial_tone_refuses_during_a_call_and_leaves_the_line_working(make_engine):
    engine = make_engine(box(modem=True))
    engine.wait_for(lambda: line_state(engine) == "idle", what="modem line up")
    code, report = line_test(engine)
    assert code == 0 and report["ok"], report
    assert report["dial_tone_reported"] and report["heard"]["kind"] == "north_america"
    assert report["identity"]["ATI0"] == "5601" and report["verdict"].startswith("dial tone OK")
    text = engine.cli("line-test", "analog").stdout
    assert "analog (modem): OK" in text and "350+440 Hz" in text and "modem: 5601" in text

    engine.cli("sim", "line", "analog", "dialtone", "europe")
    assert line_test(engine)[1]["heard"]["kind"] == "europe"

    # A call is up: the test refuses, clearly, and the call goes on.
    engine.cli("sim", "line", "analog", "ring", "5550142")
    engine.wait_for(lambda: engine.status()["calls"], what="the call answered")
    refused = engine.cli("line-test", "analog", check=False)
    assert refused.returncode == 1 and "call in progress" in refused.stderr
    assert engine.status()["calls"]
    engine.cli("sim", "line", "analog", "loopbreak")
    engine.wait_for(lambda: not engine.status()["calls"] and line_state(engine) == "idle", timeout=20,
                    what="the call over")

    # After the tests the line still takes calls, and the test shows the last raw caller ID.
    assert "NMBR=5550142" in line_test(engine)[1]["last_caller_id_raw"]
    engine.cli("sim", "line", "analog", "ring", "5550143")
    engine.wait_for(lambda: any(c["caller_id"] == "5550143" for c in engine.status()["calls"]),
                    what="a call answered after the line test")


def test_modem_line_test_fails_clearly_on_a_dead_line(make_engine):
    engine = make_engine(box(modem=True))
    engine.wait_for(lambda: line_state(engine) == "idle", what="modem line up")
    engine.cli("sim", "line", "analog", "dialtone", "none")
    code, report = line_test(engine)
    assert code == 1 and not report["ok"]
    assert not report["dial_tone_reported"] and report["heard"]["kind"] is None
    text = engine.cli("line-test", "analog", check=False).stdout
    assert "analog (modem): FAILED" in text and "NO DIAL TONE" in text and "cable" in text
    assert line_state(engine) == "idle"


def test_sip_line_test_pings_the_gateway_with_options(make_engine, phone):
    gateway = phone("answer", "--port", "0", "--max-seconds", "60")
    port = gateway.port()
    config = tomllib.loads(box())
    config["lines"][0]["dial_uri"] = f"sip:{{number}}@127.0.0.1:{port}"
    engine = make_engine(tomli_w.dumps(config))
    code, report = line_test(engine, "gw")
    assert code == 0 and report["ok"] and report["ping"]["code"] == 200, report
    assert report["ping"]["rtt_ms"] >= 0 and f"127.0.0.1:{port}" in report["verdict"]
    gateway.kill()
    code, report = line_test(engine, "gw")
    assert code == 1 and not report["ping"]["reachable"] and "NOT REACHABLE" in report["verdict"]


def test_headset_test_plays_the_tone_and_measures_the_microphone(make_engine):
    operators = [{"name": "st1", "kind": "station", "auto_answer_s": 1.5, "voice": "voice-st1"},
                 {"name": "st2", "kind": "station", "auto_answer_s": 1.5}]  # st2: a silent microphone
    engine = make_engine(box(operators=operators))
    engine.cli("operator", "st1", "ready")
    result = engine.cli("headset-test", "st1", "--seconds", "3", "--json")
    report = json.loads(result.stdout)
    assert report["ok"], report
    assert -30 < report["input"]["rms_dbfs"] < -3 and len(report["input"]["per_second"]) >= 2
    ear = engine.data_dir / "stations" / "st1" / "headset-test.wav"
    assert report["ear"] == str(ear) and tone_seconds(ear, TEST_HZ) > 2  # the simulated headset played it
    assert tone_seconds(report["mic"], STATION_HZ["st1"]) > 2  # what its microphone sent was measured

    silent = engine.cli("headset-test", "st2", "--seconds", "2", check=False)
    assert silent.returncode == 1 and "NO INPUT" in silent.stdout
    assert tone_seconds(engine.data_dir / "stations" / "st2" / "headset-test.wav", TEST_HZ) > 1

    unknown = engine.cli("headset-test", "nobody", check=False)
    assert unknown.returncode == 1 and "no operator named" in unknown.stderr
    engine.cli("sim", "headset", "st2", "unplug")
    engine.wait_for(lambda: not engine.status()["operators"][1]["available"], what="st2 unplugged")
    unplugged = engine.cli("headset-test", "st2", check=False)
    assert unplugged.returncode == 1 and "no headset to test" in unplugged.stderr


def test_headset_test_refused_on_a_call(make_engine, phone):
    engine = make_engine(box())
    engine.cli("operator", "st1", "ready")
    caller = phone("call", f"sip:100@127.0.0.1:{engine.port}", "--digits", "1", "--talk", "8", "--tone", "600")
    engine.wait_for(lambda: engine.status()["operators"][0]["state"] == "on_call", timeout=20, what="st1 on a call")
    refused = engine.cli("headset-test", "st1", check=False)
    assert refused.returncode == 1 and "on call" in refused.stderr and "try again" in refused.stderr
    caller.result()


def test_panel_test_shows_button_presses_live_and_they_do_nothing_else(make_engine):
    engine = make_engine(box())
    engine.cli("operator", "st1", "ready")
    test = subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(engine.data_dir),
                             "panel-test", "--seconds", "10"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    first = test.stdout.readline()
    assert "presses are shown here" in first
    engine.cli("sim", "press", "st1", "ready")
    engine.cli("sim", "press", "st1", "answer", "--long")
    out, _ = test.communicate(timeout=30)
    assert test.returncode == 0
    lines = [ln.split() for ln in out.splitlines() if ln.strip().endswith(("ready", "answer", "press)"))]
    assert [ln[2:4] for ln in lines] == [["st1", "ready"], ["st1", "answer"]] and "(long press)" in out
    assert "2 button presses seen" in out
    assert engine.status()["operators"][0]["state"] == "ready"  # the ready press did not pause st1
    engine.cli("sim", "press", "st1", "ready")  # after the test, buttons act again
    engine.wait_for(lambda: engine.status()["operators"][0]["state"] == "paused", what="st1 paused by its button")


def test_engine_stops_cleanly_during_a_headset_test(make_engine):
    engine = make_engine(box())
    test = subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(engine.data_dir),
                             "headset-test", "st1", "--seconds", "20"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    engine.wait_for(lambda: engine.status()["operators"][0]["unavailable_because"] == "headset test",
                    what="the test running")
    assert engine.stop() == 0  # no pjsua2 player or recorder left alive at libDestroy (that aborts)
    test.communicate(timeout=60)
    assert test.returncode != 0
