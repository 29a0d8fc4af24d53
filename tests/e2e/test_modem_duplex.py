"""A 60-second two-way call on an analog line at engine level: tones cross both ways for the whole
call, and the modem port's frame buffers never run dry (no underruns either way), as counted by the
driver and shown by `switchboard line NAME`."""

from __future__ import annotations

import json
import time

import pytest

from firmware.sim.analysis import tone_seconds
from tests.e2e.boxes import CALLER_HZ, STATION_HZ, box

CALL_S = 60


def host_pressure() -> str:
    try:
        return "host CPU pressure: " + open("/proc/pressure/cpu").readline().strip()
    except OSError:
        return "host CPU pressure: unknown"


@pytest.mark.solo
@pytest.mark.timeout(240)
def test_a_sixty_second_duplex_call_has_no_underruns(make_engine, tmp_path):
    engine = make_engine(box(modem=True))
    diagnostics = lambda: json.loads(engine.cli("line", "analog", "--json").stdout)["diagnostics"]
    engine.wait_for(lambda: diagnostics()["state"] == "idle", what="modem line up")
    engine.cli("sim", "line", "analog", "voice", str(CALLER_HZ))
    engine.cli("sim", "ring", "analog", "--caller-id", "5550160", "--digits", "1", "--digit-delay", "5")
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), timeout=40,
                    what="connected to st1")
    time.sleep(CALL_S)
    heard = tmp_path / "caller-heard.wav"
    engine.cli("sim", "line", "analog", "heard", str(heard))
    during = diagnostics()
    text = engine.cli("line", "analog").stdout
    engine.cli("sim", "line", "analog", "busy")
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], timeout=20,
                          what="the call to end by busy tone")[0]

    rx, tx, frames = during["rx"], during["tx"], during["bridge_frames"]
    # A failure says how long the engine process was held up (bridge frame gaps, audio arrival gaps)
    # and how starved the host was: the adaptive buffers ride out stalls up to 240 ms.
    assert (rx["underruns"], tx["underruns"]) == (0, 0), (rx, tx, frames, during["audio"], host_pressure())
    # While the call was in the IVR the bridge took no frames from the line (nobody listened): the rx
    # buffer filled up and overran; once connected, that backlog (latency) was trimmed to the pre-fill.
    assert tx["overruns"] == 0 and rx["level"] <= rx["prefill"] + 1, (rx, tx, frames)
    assert 3 <= rx["prefill"] <= 12 and 3 <= tx["prefill"] <= 12  # raised only by stalls it saw coming
    assert frames["ticks"] >= CALL_S / 0.02 and rx["frames_out"] >= CALL_S / 0.02
    assert tx["frames_in"] >= CALL_S / 0.02 and tx["frames_out"] >= CALL_S / 0.02
    assert "line -> box" in text and "underruns 0" in text and "bridge frames:" in text
    # Both ways, all along: the caller heard the operator, the operator heard the caller.
    assert tone_seconds(heard, STATION_HZ["st1"]) > CALL_S - 5
    station_ear = next((engine.data_dir / "stations" / "st1").glob("*.wav"))
    assert tone_seconds(station_ear, CALLER_HZ) > CALL_S - 5
    assert rec["disposition"] == "answered" and rec["talk_s"] > CALL_S
