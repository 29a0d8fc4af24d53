"""End-to-end fixtures: a real engine process per test (own ports and data directory) and real SIP
peers in other processes (the test phone, SIPp). Everything talks over loopback only."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.store import db as dbmod, queries
from reliability.engine import ROOT, Engine as EngineProcess, free_port, switchboard  # noqa: F401 (re-exported)


class Engine(EngineProcess):
    """`switchboard run --sim` in its own process (reliability/engine.py), on a data directory the test
    made; stopping it must succeed."""

    def __init__(self, data_dir: Path, port: int, env: dict | None = None):
        super().__init__(data_dir.parent, data_dir=data_dir, port=port, env=env)

    def stop(self) -> int:
        """Ctrl-C, as a person would; the engine must exit 0 without an abort."""
        running = self.alive()
        code = super().stop()
        if running and code == -9:  # it had to be killed
            raise AssertionError(f"engine did not stop on SIGINT:\n{self.log()}")
        return code

    def queue_events(self, call_id: str) -> list[str]:
        return [e["event"] for e in queries.queue_events(dbmod.open_read(self.data_dir), call_id)]


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
