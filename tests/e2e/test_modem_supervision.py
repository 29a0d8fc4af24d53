"""Disconnect supervision of an analog line, end to end: a caller placed by `switchboard sim ring`
who speaks (espeak-ng speech from a WAV) and then only makes tones is never hung up, however sensitive
the guards are set; once the exchange leaves only line noise, the box hangs up after the line's
`max_silence_s` and closes the call record."""

from __future__ import annotations

import json
import subprocess
import time
import tomllib

import pytest
import tomli_w

from firmware.sim.analysis import read_wav, segments
from tests.e2e.boxes import CALLER_HZ, box

MAX_SILENCE_S = 5
SPEECH = ("Hello, this is Maria from the bakery on Main Street. I am calling about the order for "
          "Saturday. We would like three cakes, one with strawberries, and two loaves of bread. "
          "Could somebody call me back this afternoon? Thank you very much, goodbye.")


def supervised_box() -> str:
    data = tomllib.loads(box(modem=True))
    analog = next(line for line in data["lines"] if line["kind"] == "modem")
    analog.update(max_silence_s=MAX_SILENCE_S, busy_tone_cycles=2)  # the most sensitive settings allowed
    return tomli_w.dumps(data)


def sound_seconds(path) -> float:
    rate, samples = read_wav(path)
    return sum(s.duration for s in segments(samples, rate) if s.kind == "sound")


@pytest.mark.long(50)
def test_speech_and_tones_keep_the_call_and_only_silence_ends_it(make_engine, tmp_path):
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(speech), SPEECH], check=True, timeout=30)
    engine = make_engine(supervised_box())
    line = lambda: json.loads(engine.cli("line", "analog", "--json").stdout)
    engine.wait_for(lambda: line()["state"] == "idle", what="modem line up")
    out = engine.cli("sim", "ring", "analog", "--caller-id", "5550142", "--audio", str(speech),
                     "--digits", "1", "--digit-delay", "5").stdout
    assert "ringing, caller ID 5550142, digits 1" in out
    engine.wait_for(lambda: any(c["state"] == "connected" for c in engine.status()["calls"]), timeout=40,
                    what="the caller's digit 1 to reach the queue and st1 to answer")
    time.sleep(3 * MAX_SILENCE_S)  # the caller talks (with the pauses of speech) for three times the limit
    assert [c["state"] for c in engine.status()["calls"]] == ["connected"] and line()["state"] == "in_call"
    engine.cli("sim", "line", "analog", "voice", str(CALLER_HZ))
    time.sleep(2 * MAX_SILENCE_S)  # a steady tone is no busy tone and no silence either
    assert [c["state"] for c in engine.status()["calls"]] == ["connected"] and line()["state"] == "in_call"

    engine.cli("sim", "line", "analog", "silence")  # the caller left; the exchange sends nothing
    rec = engine.wait_for(lambda: [c for c in engine.calls() if c["disposition"]], timeout=4 * MAX_SILENCE_S,
                          what="the call to end after the maximum silence")[0]
    assert (rec["caller_id"], rec["operator"], rec["disposition"]) == ("5550142", "st1", "answered")
    assert rec["end_reason"] == "caller hung up" and rec["talk_s"] > 5 * MAX_SILENCE_S
    ended = [e["detail"] for e in line()["diagnostics"]["recent"] if e["kind"] == "CallEnded"]
    assert len(ended) == 1 and "max_silence" in ended[0]
    engine.wait_for(lambda: line()["state"] == "idle", what="the line back on hook")
    # The caller's speech crossed the modem into the bridge: the station heard it.
    station_ear = next((engine.data_dir / "stations" / "st1").glob("*.wav"))
    assert sound_seconds(station_ear) > 2 * MAX_SILENCE_S
