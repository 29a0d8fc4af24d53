"""`switchboard run`: the engine in a child process, supervised the way systemd supervises
switchboard-engine.service (Type=notify, Restart=on-failure), next to the web admin.

Under systemd a restart from the web admin or the console is the engine exiting with code 75 and
systemd starting it again; under `switchboard run` this supervisor does the same: it starts the
engine (`switchboard engine`), hears its READY=1 over its own notification socket (and passes every
message on to an outer $NOTIFY_SOCKET, so a service manager above sees the engine's), and when the
engine exits decides, with `decide()` (pure), whether to start it again. Ctrl-C or SIGTERM stops
everything. The engine dies with the supervisor (a parent-death signal), so a killed `run` never
leaves an engine holding the SIP port.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

log = logging.getLogger("switchboard.run")
RESTART_EXIT = 75  # firmware.app.RESTART_EXIT (not imported: the supervisor never loads the engine's code)
RESTART_DELAY_S = 1.0  # systemd's RestartSec, shorter: a person is waiting at the web admin
START_LIMIT = 5  # at most this many starts ...
START_LIMIT_INTERVAL_S = 60.0  # ... within this many seconds (systemd's StartLimitBurst/IntervalSec)
STOP_TIMEOUT_S = 15.0  # then SIGKILL (systemd's TimeoutStopSec)


# -- the decision (pure) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Exit:
    """How one run of the engine ended."""
    code: int  # negative: killed by that signal (subprocess's convention)
    was_ready: bool  # it had reported READY=1
    stopping: bool  # the supervisor had been asked to stop (Ctrl-C, SIGTERM)


@dataclass(frozen=True)
class Decision:
    restart: bool
    reason: str
    delay_s: float = 0.0
    exit_code: int = 0  # the supervisor's own exit code when it does not restart


@dataclass
class History:
    starts: list[float] = field(default_factory=list)  # monotonic times of the engine's starts
    ever_ready: bool = False


def describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return "asked for a restart (exit code 75)" if code == RESTART_EXIT else f"exit code {code}"


def decide(ended: Exit, history: History, now: float) -> Decision:
    """Restart on request (75) and on failure, as Restart=on-failure does; stop when asked to, when
    the engine stopped by itself cleanly (0), when the very first start failed before it was ready
    (a taken port, a broken configuration: say so at once), and after START_LIMIT starts within
    START_LIMIT_INTERVAL_S (a crash loop)."""
    what = describe(ended.code)
    if ended.stopping:
        clean = ended.code in (0, -signal.SIGINT, -signal.SIGTERM)
        return Decision(False, f"engine stopped ({what})", exit_code=0 if clean else _code(ended.code))
    if ended.code == 0:
        return Decision(False, "the engine stopped by itself (exit code 0)")
    if not history.ever_ready and not ended.was_ready:
        return Decision(False, f"the engine did not start ({what})", exit_code=_code(ended.code))
    recent = [t for t in history.starts if now - t < START_LIMIT_INTERVAL_S]
    if len(recent) >= START_LIMIT:
        return Decision(False, f"the engine ended ({what}) and was started {len(recent)} times within "
                               f"{START_LIMIT_INTERVAL_S:.0f} s: giving up", exit_code=_code(ended.code))
    if ended.code == RESTART_EXIT:
        return Decision(True, f"the engine {what}: starting it again", delay_s=0.0)
    return Decision(True, f"the engine failed ({what}): starting it again in {RESTART_DELAY_S:g} s",
                    delay_s=RESTART_DELAY_S)


def _code(code: int) -> int:
    return 128 - code if code < 0 else code  # a shell's convention for "killed by signal N"


def engine_command(data_dir: Path, sim: bool, sip_port: int | None, verbose: bool) -> list[str]:
    """The engine of the `current` release when updates have installed one (as the box's unit runs
    /opt/switchboard/venv, which points there), else this interpreter's."""
    current = Path(data_dir) / "releases" / "current" / "venv" / "bin" / "switchboard"
    argv = [str(current)] if current.exists() else [sys.executable, "-m", "firmware.cli"]
    argv += ["--data-dir", str(data_dir)] + (["-v"] if verbose else []) + ["engine"]
    return argv + (["--sim"] if sim else []) + (["--sip-port", str(sip_port)] if sip_port else [])


# -- the process (I/O) -----------------------------------------------------------------------------

def _die_with_parent(sig: int):
    def preexec() -> None:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG
    return preexec


class Supervisor:
    def __init__(self, engine_argv: Callable[[], list[str]], web_argv: list[str] | None = None, environ=os.environ):
        self.engine_argv, self.web_argv = engine_argv, web_argv  # asked at each start: an update switches it
        self.environ = dict(environ)
        self.outer = self.environ.pop("NOTIFY_SOCKET", None)  # a service manager above us, if any
        self.environ.pop("WATCHDOG_PID", None)  # the engine's pings are passed on as ours
        self.stopping = False
        self.engine: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.history = History()

    def run(self) -> int:
        name = f"switchboard-run-{os.getpid()}-{secrets.token_hex(4)}"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind("\0" + name)  # abstract: no file, no path-length limit
            self.environ["NOTIFY_SOCKET"] = "@" + name
            old = {s: signal.signal(s, self._stop) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                if self.web_argv:
                    self.web = subprocess.Popen(self.web_argv, preexec_fn=_die_with_parent(signal.SIGTERM))
                return self._supervise(notify)
            finally:
                for s, handler in old.items():
                    signal.signal(s, handler)
                self._stop_web()

    def _stop(self, *_):
        self.stopping = True
        if self.engine is not None and self.engine.poll() is None:
            self.engine.send_signal(signal.SIGTERM)

    def _supervise(self, notify: socket.socket) -> int:
        while True:
            self._start_engine()
            ready = self._wait_exit(notify)
            decision = decide(Exit(self.engine.returncode, ready, self.stopping), self.history, time.monotonic())
            (log.warning if decision.restart or decision.exit_code else log.info)("%s", decision.reason)
            if not decision.restart:
                return decision.exit_code
            deadline = time.monotonic() + decision.delay_s
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.stopping:
                return 0

    def _start_engine(self) -> None:
        self.history.starts.append(time.monotonic())
        # SIGKILL with the supervisor: what killing `run` did when the engine ran inside it.
        self.engine = subprocess.Popen(self.engine_argv(), env=self.environ, preexec_fn=_die_with_parent(signal.SIGKILL))
        if self.stopping:  # Ctrl-C came while it was being started
            self.engine.send_signal(signal.SIGTERM)

    def _wait_exit(self, notify: socket.socket) -> bool:
        """Until the engine exits; passes its notifications on. True if it reported READY=1."""
        ready, stop_deadline = False, None
        notify.settimeout(0.2)
        while self.engine.poll() is None:
            if self.stopping and stop_deadline is None:
                stop_deadline = time.monotonic() + STOP_TIMEOUT_S
            if stop_deadline is not None and time.monotonic() > stop_deadline:
                log.warning("the engine did not stop within %.0f s: killing it", STOP_TIMEOUT_S)
                self.engine.kill()
            try:
                message = notify.recv(4096)
            except (socket.timeout, InterruptedError):
                continue
            ready = self._heard(message) or ready
        notify.settimeout(0)  # what it said just before it exited (STOPPING=1)
        while True:
            try:
                ready = self._heard(notify.recv(4096)) or ready
            except (BlockingIOError, InterruptedError):
                return ready

    def _heard(self, message: bytes) -> bool:
        lines = message.split(b"\n")
        if b"STOPPING=1" in lines and not self.stopping:
            return False  # a restart, not the end: a service manager above would take it as the end
        self._pass_on(message)
        if b"READY=1" in lines:
            self.history.ever_ready = True
            return True
        return False

    def _pass_on(self, message: bytes) -> None:
        if not self.outer:
            return
        address = "\0" + self.outer[1:] if self.outer.startswith("@") else self.outer
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message, address)
            except OSError:
                pass  # no service manager listening above us: nothing to tell

    def _stop_web(self) -> None:
        if self.web is None or self.web.poll() is not None:
            return
        self.web.terminate()
        try:
            self.web.wait(10)
        except subprocess.TimeoutExpired:
            self.web.kill()
            self.web.wait()


class SupervisedEngine:
    """The engine as `firmware.update` sees it under `switchboard run` (where no systemd unit runs
    it): restarted through the control socket (this supervisor starts it again, from the `current`
    release), ready once an engine with another pid answers `status`."""

    def __init__(self, data_dir: Path, sleep=time.sleep, clock=time.monotonic):
        self.data_dir, self.sleep, self.clock = Path(data_dir), sleep, clock
        self.old_pid: int | None = None

    def _status(self) -> dict | None:
        from firmware.control.client import ControlError, request
        try:
            return request(self.data_dir, "status", timeout=5)
        except (OSError, ControlError):
            return None

    def restart(self) -> None:
        from firmware.control.client import ControlError, request
        status = self._status()
        self.old_pid = status["pid"] if status else None
        try:
            request(self.data_dir, "restart", by="update")
        except ControlError as exc:
            raise OSError(f"the engine refused the restart: {exc}") from None

    def wait_ready(self, timeout_s: float) -> bool:
        deadline = self.clock() + timeout_s
        while self.clock() < deadline:
            status = self._status()
            if status and status.get("pid") != self.old_pid:
                return True
            self.sleep(0.5)
        return False
