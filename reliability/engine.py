"""The engine under test: `switchboard run --sim` in its own process, on its own port and data
directory, with a configuration whose prompts and voices are tones (found again by analysis).
The one engine-process helper of the project: the end-to-end and web tests use it too
(tests/e2e/conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from firmware import settings as settings_mod
from firmware.control.client import EngineNotRunning, request

ROOT = Path(__file__).resolve().parents[1]
CALLER_HZ, MENU_HZ = 600, 1000
STATION_HZ = {"st1": 1300, "st2": 1500, "st3": 2100}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def box(modem: bool = False, stations: int = 3, extra: dict | None = None) -> str:
    """A line for 127.0.0.1 only (anything else is a stranger), tone prompts, a hunt group of stations."""
    names = list(STATION_HZ)[:stations]
    route = [{"number": "*", "day_menu": "main"}]
    data = {
        "sip": {"address": "127.0.0.1"},
        "prompts": {"menu": {"tone_hz": MENU_HZ, "seconds": 0.6}, "bye": {"tone_hz": 350, "seconds": 0.5},
                    "music": {"tone_hz": 800, "seconds": 2.0},
                    **{f"voice-{n}": {"tone_hz": hz, "seconds": 2.0} for n, hz in STATION_HZ.items()}},
        "lines": [{"name": "gw", "kind": "fxo_gateway", "allow": ["127.0.0.1"], "routes": route}]
        + ([{"name": "analog", "kind": "modem", "device": "/dev/ttyACM0", "routes": route}] if modem else []),
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:desk", "2": "message:bye"},
                   "timeout_s": 6, "retries": 1, "on_noinput": "hangup", "on_invalid": "hangup"}],
        "queues": [{"name": "desk", "operators": names, "strategy": "linear", "ring_timeout_s": 5,
                    "retry_delay_s": 0.5, "wrapup_s": 0, "max_wait_s": 60, "fallback": "message:bye",
                    "music": "music"}],
        "operators": [{"name": n, "kind": "station", "auto_answer_s": 0.5, "voice": f"voice-{n}"} for n in names],
        **(extra or {}),
    }
    return settings_mod.to_toml(settings_mod.from_dict(data))


def switchboard(data_dir: Path, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"switchboard {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


class Engine:
    def __init__(self, work: Path, config_toml: str | None = None, data_dir: Path | None = None,
                 port: int | None = None, python: str | None = None, env: dict | None = None,
                 daemon_only: bool = False):
        self.work = Path(work)
        # `switchboard run` (engine, supervised, and web admin) or only `switchboard engine`, as systemd runs it
        self.command = ["engine", "--sim"] if daemon_only else ["run", "--sim", "--web-port", "0"]
        self.env = env  # added to this process's environment
        self.python = python or sys.executable  # the interpreter whose pjsua2 build is tested
        self.data_dir = data_dir or self.work / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.log_path = self.work / f"engine-{self.port}.log"
        self.proc: subprocess.Popen | None = None
        if config_toml is not None:
            path = self.work / "box.toml"
            path.write_text(config_toml)
            switchboard(self.data_dir, "config", "import", str(path))

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def spawn(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.python, "-m", "firmware.cli", "--data-dir", str(self.data_dir),
                                      *self.command, "--sip-port", str(self.port)],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(self.env or {})})
        log.close()

    def start(self, timeout: float = 30) -> "Engine":
        self.spawn()
        self.wait_control(timeout)
        return self

    def wait_control(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine exited {self.proc.returncode} at start:\n{self.log()[-3000:]}")
            try:
                request(self.data_dir, "ping", timeout=2)
                return
            except (EngineNotRunning, OSError):
                time.sleep(0.05)
        raise RuntimeError(f"engine did not come up:\n{self.log()[-3000:]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def kill(self) -> None:
        """SIGKILL: what a power cut or the OOM killer does; nothing gets to clean up."""
        self.proc.kill()
        self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def clean_log(self) -> bool:
        """No Python traceback and no pjsua2 assertion in what the engine printed."""
        text = self.log()
        return "Traceback" not in text and "Assertion" not in text

    def status(self) -> dict:
        return request(self.data_dir, "status")

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return switchboard(self.data_dir, *args, check=check)

    def calls(self) -> list[dict]:
        return json.loads(self.cli("calls", "--json", "--limit", "100000").stdout)

    def restarted(self, old_pid: int, timeout: float = 60) -> dict:
        """The status of the engine `switchboard run` started again after `old_pid` exited (the run
        process supervises its engine as systemd does)."""
        def fresh():
            try:
                status = self.status()
            except OSError:
                return None
            return status if status["pid"] != old_pid else None
        status = self.wait_for(fresh, timeout=timeout, what="the engine to come back")
        assert self.proc.poll() is None
        return status

    def wait_for(self, predicate, timeout: float = 15, what: str = "condition", step: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(step)
        raise TimeoutError(f"timed out waiting for {what}")

    def idle(self) -> bool:
        """No call state left: no session, nobody waiting, no SIP call held by pjsua2."""
        st = self.status()
        return not st["calls"] and not st["waiting"] and st["capacity"]["in_use"] == 0
