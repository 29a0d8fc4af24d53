"""The benchmark harness keeps working: a short run of `python -m bench` with one call.

Only that the harness measured something is checked, never how good the figures are (benchmark
figures stay out of pass/fail tests; `make bench` reports them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench import rtp

ROOT = Path(__file__).resolve().parents[2]


def test_one_short_call_through_the_benchmark(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bench", "--levels", "1", "--call-seconds", "4",
                             "--idle-seconds", "1", "--settle-seconds", "0.5", "--pause-seconds", "0",
                             "--stream-stats-every", "0.25",
                             "--out", str(tmp_path), "--work-dir", str(tmp_path / "work")],
                            cwd=ROOT, capture_output=True, text=True, timeout=55)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "concurrent calls" in result.stdout and "JSON:" in result.stdout
    [path] = tmp_path.glob("bench-*.json")
    report = json.loads(path.read_text())
    assert report["machine"]["cpu_model"] and report["pjsua2"]["max_calls"] >= 4
    assert report["idle"]["cpu_pct_of_core"] is not None
    [level] = report["levels"]
    assert (level["attempted"], level["completed"], level["failed"]) == (1, 1, 0), level["failures"]
    assert level["cpu"]["net_cpu_s_per_call_minute"] is not None
    assert level["memory"]["peak_rss_mb"] > 0
    assert level["invite_to_200_ms"]["n"] == 1 and level["dtmf_to_operator_invite_ms"]["n"] == 1
    if os.geteuid() == 0:  # the engine's SIP seen on the wire (tcpdump comes with the test packages)
        assert report["wire"]["captured"], report["wire"]
        assert level["wire"]["invite_to_200_ms"]["n"] == 1 and level["wire"]["dtmf_to_operator_invite_ms"]["n"] == 1
        # the SIPp caller saw the 200 after the engine sent it, the operator its INVITE after it left
        assert level["wire"]["invite_to_200_ms"]["p50"] <= level["invite_to_200_ms"]["p50"]
        assert level["wire"]["dtmf_to_operator_invite_ms"]["p50"] <= level["dtmf_to_operator_invite_ms"]["p50"]
    else:
        assert not report["wire"]["captured"] and report["wire"]["why_not"]
    assert level["recordings"]["analysed"] == 1 and level["recordings"]["calls_missing_a_leg"] == 0
    for direction in ("callers", "operators"):
        assert level["rtp"][direction]["engine_tx"]["streams"] == 1
        assert level["rtp"][direction]["engine_rx"]["streams_reported"] == 1
    jbuf = level["jitter_buffer"]  # read from the engine while the call was connected: caller and operator leg
    assert jbuf["reading_errors"] == 0 and jbuf["streams"] == 2 and jbuf["frames"] > 0
    assert {"empty", "lost", "discard"} <= set(jbuf)
    assert report["engine"]["engine_exit_code"] == 0 and not report["engine"]["engine_log_problems"]


def test_caller_rtp_is_a_tone_with_the_digit_in_one_rtp_session():
    packets, digit_at = rtp.stream(1000, 0.5, 0xABC, digit="1", lead_s=0.2)
    times = [t for t, _ in packets]
    assert times[0] == 0 and times == sorted(times)
    assert digit_at == 10 and abs(times[digit_at] - 0.2) < 1e-6
    first = packets[digit_at][1]
    assert first[1] == 0x80 | rtp.PT_EVENT and first[12] == 1  # marker, event "1"
    events = [p for _, p in packets if p[1] & 0x7F == rtp.PT_EVENT]
    assert {p[12] for p in events} == {1} and sum(1 for p in events if p[13] & 0x80) == 3
    seqs = [int.from_bytes(p[2:4], "big") for _, p in packets]
    assert seqs == list(range(rtp.FIRST_SEQ, rtp.FIRST_SEQ + len(seqs)))
    assert {int.from_bytes(p[8:12], "big") for _, p in packets} == {0xABC}
    audio = b"".join(p[12:] for _, p in packets if p[1] & 0x7F == rtp.PT_PCMU)
    samples = rtp.ulaw_decode(audio)
    spectrum = np.abs(np.fft.rfft(samples))
    assert abs(int(spectrum.argmax()) * rtp.RATE / len(samples) - 1000) <= 2
