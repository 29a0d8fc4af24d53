"""Fixtures and helpers of the modem contract (imported by test_modem_contract.py only, so they do
not leak into the other contract suites in this folder).

The modem contract: the same tests through real pyserial against the simulated modem (always) and
against a real modem when SWITCHBOARD_TEST_MODEM names its port (e.g. /dev/ttyACM0 on a bench box).

Tests that need to act on the far end of the line (ring it, press digits, hang up, unplug) take the
`far_end` fixture: the simulator provides one; a lone real modem cannot, so those skip for it.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from drivers.modem.audio import FRAME_SAMPLES
from drivers.modem.modem import Modem, ModemSettings
from drivers.modem.simulator import SimulatedModem
from drivers.modem.transport import Backoff

REAL_PORT = os.environ.get("SWITCHBOARD_TEST_MODEM", "")
RATE = 8000


@dataclass
class Bench:
    url: str
    simulator: SimulatedModem | None
    expected_model: str | None


class EventLog:
    """Stands in for the engine: its callback only queues; tests wait on what arrived."""

    def __init__(self):
        self.events: list = []
        self._changed = threading.Condition()

    def __call__(self, event):
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def of(self, kind):
        with self._changed:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, kind, timeout=5.0, where=lambda e: True):
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [e for e in self.events if isinstance(e, kind) and where(e)]
                if found:
                    return found[0]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {kind.__name__} within {timeout} s; got {self.events}")
                self._changed.wait(remaining)


@pytest.fixture(params=["usr5637", "real"])
def bench(request):
    """The simulated USR model and the real port; a test may ask for other simulated models with
    `@pytest.mark.parametrize("bench", [...], indirect=True)`."""
    if request.param == "real":
        if not REAL_PORT:
            pytest.skip("SWITCHBOARD_TEST_MODEM is not set (name a real modem's port to run this)")
        yield Bench(REAL_PORT, None, None)
        return
    with SimulatedModem(request.param, lifetime=60.0, ring_interval=0.4) as simulator:
        yield Bench(simulator.path, simulator, {"no-name": "generic"}.get(request.param, request.param))


@pytest.fixture
def far_end(bench) -> SimulatedModem:
    if bench.simulator is None:
        pytest.skip("acting on the far end needs the simulator (or a person at the bench)")
    return bench.simulator


@pytest.fixture
def settings():
    return ModemSettings(backoff=Backoff(initial=0.1, factor=2.0, maximum=0.8))


@pytest.fixture
def events():
    return EventLog()


@pytest.fixture
def modem(bench, events, settings):
    modem = Modem(bench.url, events, settings)
    modem.open()
    yield modem
    modem.close()


class StallWatch:
    """Measures how long the host keeps this process from running (a thread asking for 5 ms sleeps).

    A 60 ms pre-fill cannot ride out a host that stalls the process for longer; when that happened the
    underrun count says something about the host, not the driver."""

    def __init__(self, threshold: float = 0.03):
        self.threshold, self.stalls = threshold, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-watch", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=1)

    def _run(self):
        while not self._stop.is_set():
            start = time.monotonic()
            time.sleep(0.005)
            overshoot = time.monotonic() - start - 0.005
            if overshoot >= self.threshold:
                self.stalls.append(overshoot)

    @property
    def worst(self) -> float:
        return max(self.stalls, default=0.0)

    def overloaded(self, simulator: SimulatedModem | None = None) -> str:
        """Why the host could not give a 60 ms pre-fill its chance, or "" when it could.

        Before each pop the buffer holds 40 to 60 ms, so a stall of 40 ms can drain it. Stalls of
        the simulated modem count too: real modem hardware keeps streaming whatever the host does."""
        cpus, load = len(os.sched_getaffinity(0)), os.getloadavg()[0]
        simulator_stall = simulator.state.worst_write_gap - 0.01 if simulator else 0.0  # chunks are 10 ms
        if self.worst >= 0.04 or simulator_stall >= 0.04 or load >= cpus:
            return (f"host overloaded: load {load:.1f} on {cpus} CPUs, this process stalled "
                    f"{len(self.stalls)} times (worst {self.worst * 1000:.0f} ms), the simulated modem "
                    f"up to {simulator_stall * 1000:.0f} ms")
        return ""


def run_media(modem: Modem, seconds: float, send_hz: float | None = None) -> np.ndarray:
    """Play pjsua2's part for `seconds`: every 20 ms push one tx frame and pop one rx frame."""
    t = np.arange(FRAME_SAMPLES) / RATE
    received, start = [], time.monotonic()
    for index in range(int(seconds / 0.02)):
        if send_hz is not None:
            phase = 2 * np.pi * send_hz * index * FRAME_SAMPLES / RATE
            frame = (np.sin(2 * np.pi * send_hz * t + phase) * 0.3 * 32767).astype("<i2")
            modem.tx.push(frame.tobytes())
        received.append(modem.rx.pop())
        time.sleep(max(0.0, start + (index + 1) * 0.02 - time.monotonic()))
    return np.frombuffer(b"".join(received), dtype="<i2")


def tone_level(samples: np.ndarray, hz: float) -> float:
    """Share of the signal's energy within 20 Hz of `hz`."""
    samples = samples.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
    total = spectrum.sum()
    return float(spectrum[np.abs(freqs - hz) <= 20].sum() / total) if total else 0.0
