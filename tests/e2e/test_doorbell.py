"""The engine loop's doorbell against real pjsua2: a poll that would block for a minute returns
when another thread rings, and the ring is not taken for SIP."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import ROOT, free_port

SCRIPT = """
import sys, threading
from firmware import settings
from firmware.telephony.sip import PjsuaTelephony

tel = PjsuaTelephony(lambda event: print("event", event, flush=True), None, lambda s: {})
tel.start(settings.from_dict({"sip": {"address": sys.argv[1]}}), int(sys.argv[2]))
ringer = threading.Timer(0.3, tel.wake)  # another thread, while the loop thread waits below
ringer.start()
tel.poll(60_000)
print("woke", flush=True)
ringer.join()
tel.shutdown()
"""


def run(address: str) -> subprocess.CompletedProcess:
    # The 60 s poll is cut short by the ring or not at all: the timeout only bounds a broken doorbell.
    return subprocess.run([sys.executable, "-c", SCRIPT, address, str(free_port())], cwd=ROOT,
                          capture_output=True, text=True, timeout=40)


def ours(result: subprocess.CompletedProcess) -> list[str]:
    """The script's own lines (pjlib prints its start-up lines to stdout too)."""
    return [line for line in result.stdout.splitlines() if line == "woke" or line.startswith("event")]


def test_a_ring_from_another_thread_ends_a_long_poll():
    result = run("127.0.0.1")
    assert result.returncode == 0, result.stderr
    assert ours(result) == ["woke"]  # woken, and no SIP event came of the ring
    assert "Error" not in result.stdout + result.stderr


def test_a_wildcard_bind_is_rung_on_loopback():
    result = run("0.0.0.0")
    assert result.returncode == 0, result.stderr
    assert ours(result) == ["woke"]
