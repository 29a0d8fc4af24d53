"""End-to-end fixtures: a real engine process per test (own ports and data directory) and real SIP
peers in other processes (the test phone, SIPp). Everything talks over loopback only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.control.client import EngineNotRunning, request
from firmware.store import db as dbmod, queries

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A UDP port free on 127.0.0.1 (SIP); RTP ports are chosen by pjsua itself."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def switchboard(data_dir: Path, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"switchboard {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


class Engine:
    """`switchboard run --sim` in its own process."""

    def __init__(self, data_dir: Path, port: int, env: dict | None = None):
        self.data_dir, self.port, self.env = data_dir, port, env
        self.log_path = data_dir.parent / f"engine-{port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Engine":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(self.data_dir),
                                      "run", "--sim", "--sip-port", str(self.port), "--web-port", "0"],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(self.env or {})})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"engine exited {self.proc.returncode} at start:\n{self.log()}")
            try:
                request(self.data_dir, "ping", timeout=2)
                return self
            except (EngineNotRunning, OSError):
                time.sleep(0.1)
        raise AssertionError(f"engine did not come up:\n{self.log()}")

    def stop(self) -> int:
        """Ctrl-C, as a person would; the engine must exit 0 without an abort."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"engine did not stop on SIGINT:\n{self.log()}")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def status(self) -> dict:
        return request(self.data_dir, "status")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return switchboard(self.data_dir, *args, check=check)

    def calls(self) -> list[dict]:
        return json.loads(self.cli("calls", "--json").stdout)

    def queue_events(self, call_id: str) -> list[str]:
        return [e["event"] for e in queries.queue_events(dbmod.open_read(self.data_dir), call_id)]

    def wait_for(self, predicate, timeout: float = 15, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def make_engine(tmp_path):
    engines: list[Engine] = []

    def make(config_toml: str | None, port: int | None = None, env: dict | None = None) -> Engine:
        """An engine on `config_toml` (None: an empty data directory, so the demo configuration)."""
        data_dir = tmp_path / "data"
        data_dir.mkdir(exist_ok=True)
        if not engines and config_toml is not None:
            config = tmp_path / "box.toml"
            config.write_text(config_toml)
            switchboard(data_dir, "config", "import", str(config))
        engine = Engine(data_dir, port or free_port(), env).start()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        code = engine.stop()
        log = engine.log()
        assert "Assertion" not in log and "Traceback" not in log, log[-3000:]
        assert code in (0, -9), f"engine exited {code}:\n{log[-3000:]}"


class Phone:
    """The test phone (firmware.sim.phone) in its own process."""

    def __init__(self, tmp_path: Path, mode: str, *args: str):
        self.record = tmp_path / f"{mode}-{time.monotonic_ns()}.wav"
        self.ready = tmp_path / f"ready-{time.monotonic_ns()}"
        self.proc = subprocess.Popen([sys.executable, "-m", "firmware.sim.phone", mode, *args, "--record",
                                      str(self.record), "--ready-file", str(self.ready), "--json"],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def port(self, timeout: float = 15) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.exists() and self.ready.read_text().strip():
                return int(self.ready.read_text())
            time.sleep(0.05)
        raise AssertionError("phone did not start")

    def result(self, timeout: float = 90) -> dict:
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, f"phone exited {self.proc.returncode}: {err[-2000:]}"
        return json.loads(out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def phone(tmp_path):
    phones: list[Phone] = []

    def make(mode: str, *args: str) -> Phone:
        p = Phone(tmp_path, mode, *args)
        phones.append(p)
        return p

    yield make
    for p in phones:
        p.kill()
