"""`switchboard run` supervises its engine as systemd does: a restart asked from the web admin (over
real HTTP, to the web admin `run` started) brings a new engine while the web keeps serving; a crashed
engine is started again; a first start that fails ends `run` with its code; Ctrl-C stops everything;
a killed `run` leaves no engine behind."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from firmware.control.client import EngineNotRunning, request
from firmware.store.writer import Writer
from tests.e2e.conftest import ROOT, free_port
from web.files import WebFiles

PASSWORD = "a long enough password"


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Run:
    """`switchboard run --sim` in its own process, with the web admin on a free port."""

    def __init__(self, tmp_path: Path, web: bool = True):
        self.data_dir = tmp_path / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.web_port = free_tcp_port() if web else 0
        self.log_path = tmp_path / "run.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Run":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(self.data_dir), "run",
                                      "--sim", "--sip-port", str(free_port()), "--web-port", str(self.web_port)],
                                     cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict | None:
        try:
            return request(self.data_dir, "status", timeout=5)
        except (EngineNotRunning, OSError):
            return None

    def wait_status(self, unlike_pid: int | None = None, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"run exited {self.proc.returncode}:\n{self.log()[-3000:]}"
            status = self.status()
            if status and status["pid"] != unlike_pid:
                return status
            time.sleep(0.2)
        raise AssertionError(f"no engine answered within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"run did not stop on SIGINT:\n{self.log()[-3000:]}")
        return self.proc.returncode


class Browser:
    """The web admin over real HTTP: a cookie jar and the forms' CSRF tokens."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=15) as response:
            return response.read().decode()

    def post(self, path: str, form_page: str, fields: dict) -> str:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get(form_page)).group(1)
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        with self.opener.open(self.base + path, data=data, timeout=30) as response:
            return response.read().decode()

    def wait_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.get("/login")
                return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the web admin did not answer")


@pytest.fixture
def box(tmp_path):
    runs: list[Run] = []

    def make(web: bool = True) -> Run:
        run = Run(tmp_path, web)
        runs.append(run)
        return run

    yield make
    for run in runs:
        if run.proc and run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()


def started_and_logged_in(box):
    """A box with its web admin, started; its first engine's status and a browser logged in to it."""
    run = box()
    WebFiles(run.data_dir / "web").set_password(PASSWORD)
    run.start()
    first = run.wait_status()
    browser = Browser(run.web_port)
    browser.wait_up()
    browser.post("/login", "/login", {"password": PASSWORD})
    return run, first, browser


def test_restart_from_the_web_admin_brings_the_engine_back_and_the_web_keeps_serving(box):
    run, first, browser = started_and_logged_in(box)
    assert f"running, pid {first['pid']}" in browser.get("/system")

    page = browser.post("/system/restart", "/system", {})
    assert "Restarting: the engine is stopping" in page
    second = run.wait_status(unlike_pid=first["pid"])
    assert second["started_at"] > first["started_at"] and not alive(first["pid"])
    assert f"running, pid {second['pid']}" in browser.get("/system"), "the same web admin, still logged in"
    assert "the engine asked for a restart (exit code 75): starting it again" in run.log()

    # And again through the control socket, as `switchboard`'s console and the CLI would.
    request(run.data_dir, "restart", by="test")
    third = run.wait_status(unlike_pid=second["pid"])
    assert third["pid"] not in (first["pid"], second["pid"])

    assert run.stop() == 0
    assert not alive(third["pid"])
    with pytest.raises(OSError):
        browser.get("/login")  # the web admin stopped with it
    log = run.log()
    assert "Traceback" not in log and "Assertion" not in log, log[-3000:]


def test_a_crashed_engine_is_started_again(box):
    run = box(web=False).start()
    first = run.wait_status()
    os.kill(first["pid"], signal.SIGKILL)  # a crash: nothing cleaned up
    second = run.wait_status(unlike_pid=first["pid"])
    assert second["pid"] != first["pid"]
    assert "the engine failed (killed by SIGKILL): starting it again" in run.log()
    assert run.stop() == 0


def test_a_first_start_that_fails_ends_run_with_its_code(box):
    run = box(web=False)
    writer = Writer(run.data_dir)
    writer.save_config("[sip]\nport = 0\n", "test")  # a stored configuration the engine refuses
    writer.close()
    run.start()
    assert run.proc.wait(60) == 2
    assert "the engine did not start (exit code 2)" in run.log()


def test_a_killed_run_leaves_no_engine_behind(box):
    run = box(web=False).start()
    engine = run.wait_status()["pid"]
    run.proc.kill()
    run.proc.wait()
    deadline = time.monotonic() + 10
    while alive(engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(engine)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "----switchboard-test-" + os.urandom(8).hex()
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    for key, (name, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_an_update_uploaded_to_the_web_admin_restarts_the_engine_on_the_new_release(box, tmp_path):
    from firmware import update
    bundle = update.build_bundle(tmp_path / "bundle", ROOT)
    run, first, browser = started_and_logged_in(box)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/system")).group(1)
    body, kind = multipart({"csrf_token": token}, {"bundle": (bundle.name, bundle.read_bytes())})
    req = urllib.request.Request(browser.base + "/system/update", data=body, headers={"Content-Type": kind})
    with browser.opener.open(req, timeout=60) as response:
        assert "checked (Switchboard 0.1.0): installing" in response.read().decode()
    deadline = time.monotonic() + 240
    while "Install and restart" in (page := browser.get("/system/update")) or 'data-running="yes"' in page:
        assert time.monotonic() < deadline, page
        time.sleep(1)
    assert "Updated to 0.1.0; the engine is ready." in page, page
    second = run.wait_status(unlike_pid=first["pid"])
    current = (run.data_dir / "releases" / "current").resolve()
    assert current.name.startswith("0.1.0-")
    cmdline = Path(f"/proc/{second['pid']}/cmdline").read_text()
    assert str(current / "venv" / "bin" / "python") in cmdline or "releases/current/venv/bin/switchboard" in cmdline
    assert run.stop() == 0
