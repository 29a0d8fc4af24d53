"""The engine under test: its configuration and its process (`switchboard run --sim`)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from firmware import settings as settings_mod
from firmware.control.client import ControlError, EngineNotRunning, request

ROOT = Path(__file__).resolve().parents[1]
PROMPT_HZ = {"greeting": 440, "disclosure": 520, "menu": 350, "music": 800}


def config(operators: int, operator_port: int, prompt_s: float = 0.3) -> str:
    """A line for 127.0.0.1, greeting + recording disclosure + menu (tones, prompt_s each), option 1
    to the queue `bench` (round robin over `operators` SIP operators, all at the SIPp UAS on
    operator_port with users op1..opN), music on hold, recording on, no wrap-up."""
    names = [f"op{i}" for i in range(1, operators + 1)]
    data = {
        "sip": {"address": "127.0.0.1"},
        "prompts": {
            **{name: {"tone_hz": hz, "seconds": prompt_s} for name, hz in PROMPT_HZ.items() if name != "music"},
            "music": {"tone_hz": PROMPT_HZ["music"], "seconds": 2.0},
        },
        "recording": {"disclosure_prompt": "disclosure"},
        "lines": [{"name": "bench", "kind": "sip_trunk", "allow": ["127.0.0.1"],
                   "routes": [{"number": "*", "greeting": "greeting", "day_menu": "main"}]}],
        "menus": [{"name": "main", "prompt": "menu", "options": {"1": "queue:bench"}, "timeout_s": 10,
                   "retries": 0, "on_noinput": "hangup", "on_invalid": "hangup"}],
        "queues": [{"name": "bench", "operators": names, "strategy": "round_robin", "ring_timeout_s": 10,
                    "retry_delay_s": 0.5, "wrapup_s": 0, "max_wait_s": 120, "max_callers": 500,
                    "fallback": "hangup", "music": "music", "record": True, "autopause_after": 0}],
        "operators": [{"name": n, "kind": "sip", "uri": f"sip:{n}@127.0.0.1:{operator_port}"} for n in names],
    }
    return settings_mod.to_toml(settings_mod.from_dict(data))


class EngineProcess:
    """`python -m firmware.cli run --sim` with its own data directory, SIP port and no web admin.
    `python` is the interpreter whose pjsua2 is under test."""

    def __init__(self, python: str, data_dir: Path, sip_port: int, log_path: Path):
        self.python, self.data_dir, self.sip_port, self.log_path = python, data_dir, sip_port, log_path
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([self.python, "-m", "firmware.cli", "--data-dir", str(self.data_dir), *args],
                                cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"switchboard {' '.join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}")
        return result

    def import_config(self, toml: str, path: Path) -> None:
        path.write_text(toml)
        self.cli("config", "import", str(path))

    def start(self, timeout: float = 60) -> "EngineProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.python, "-m", "firmware.cli", "--data-dir", str(self.data_dir), "run",
                                      "--sim", "--sip-port", str(self.sip_port), "--web-port", "0"],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"engine exited {self.proc.returncode} at start:\n{self.log()[-3000:]}")
            try:
                self.pid = int(self.status(timeout=2)["pid"])
                return self
            except (EngineNotRunning, OSError, KeyError):
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"engine did not come up within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def status(self, timeout: float = 15) -> dict:
        return request(self.data_dir, "status", timeout=timeout)

    def calls_in_progress(self) -> int:
        return len(self.status()["calls"])

    def wait_idle(self, timeout: float) -> bool:
        """True once no call is in progress (polled twice a second, at most `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.calls_in_progress() == 0:
                return True
            time.sleep(0.5)
        return False

    def stop(self, timeout: float = 30) -> int | None:
        """SIGINT, as Ctrl-C; killed if it does not exit in time. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_problems(self) -> list[str]:
        return [line for line in self.log().splitlines() if "Traceback" in line or "Assertion" in line]



class StreamSampler:
    """Asks the engine for its legs' jitter-buffer figures every `every` seconds on a thread (one
    control request each: a few ms of the engine loop at 60 legs), keeping (time, reading) pairs."""

    def __init__(self, engine: EngineProcess, every: float = 1.0):
        self.engine, self.every = engine, every
        self.samples: list[tuple[float, dict]] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-sampler", daemon=True)

    def start(self) -> "StreamSampler":
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, dict]]:
        self._stop.set()
        self._thread.join(10)
        return self.samples

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.time()
            try:
                self.samples.append((t, request(self.engine.data_dir, "stream_stats", timeout=5)))
            except (ControlError, OSError, ValueError):  # an engine without the command, or a slow answer
                self.errors += 1
            self._stop.wait(self.every)
