"""The technician's console over a serial line: a socat-linked pty pair stands in for the USB-serial
cable; the console runs on one end, the test types on the other through pyserial."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import serial

from tests.e2e.boxes import box
from tests.e2e.conftest import ROOT


class Cable:
    def __init__(self, tmp_path):
        self.box_end, self.laptop_end = tmp_path / "ttyBOX", tmp_path / "ttyLAPTOP"
        self.socat = subprocess.Popen(["socat", f"pty,link={self.box_end}",
                                       f"pty,raw,echo=0,link={self.laptop_end}"])
        deadline = time.monotonic() + 5
        while not (self.box_end.exists() and self.laptop_end.exists()):
            assert time.monotonic() < deadline, "socat made no ptys"
            time.sleep(0.05)
        time.sleep(0.3)  # socat links the ptys before it starts moving data
        self.port = serial.serial_for_url(str(self.laptop_end), baudrate=115200, timeout=0.1)
        self.seen = ""

    def type(self, text: str) -> None:
        self.port.write(text.encode())

    def expect(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.seen += self.port.read(4096).decode(errors="replace")
            if text in self.seen:
                before, _, self.seen = self.seen.partition(text)
                return before
        raise AssertionError(f"did not see {text!r}; saw {self.seen[-500:]!r}")

    def close(self):
        self.port.close()
        self.socat.kill()
        self.socat.wait()


@pytest.fixture
def cable(tmp_path):
    c = Cable(tmp_path)
    yield c
    c.close()


def console(engine, cable) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(engine.data_dir),
                             "console", "--tty", str(cable.box_end)], cwd=ROOT)


def test_technician_sets_a_password_then_operates_the_box_with_completion(make_engine, cable):
    engine = make_engine(box())
    shell = console(engine, cable)
    try:
        cable.expect("new technician password: ")
        cable.type("correct horse\r")
        cable.expect("again: ")
        cable.type("correct horse\r")
        cable.expect("switchboard> ")
        cable.type("stat\t")  # TAB completes the command
        cable.expect("status ")
        cable.type("\r")
        screen = cable.expect("switchboard> ")
        assert "st1" in screen and "SIP calls in use" in screen
        cable.type("operator st1 pa\t")
        cable.expect("pause ")
        cable.type("--reason lunch\r")
        assert "st1 is paused" in cable.expect("switchboard> ")
        assert engine.status()["operators"][0]["reason"] == "lunch"
        cable.type("config export\r")
        assert "ring_timeout_s = 3" in cable.expect("switchboard> ")
        cable.type("operator nobody ready\r")
        assert "no operator named 'nobody'" in cable.expect("switchboard> ")
        cable.type("help\r")
        assert "calls" in cable.expect("switchboard> ")
        cable.type("exit\r")
        assert shell.wait(10) == 0
    finally:
        shell.kill()


def test_wrong_password_three_times_ends_the_session(make_engine, cable):
    engine = make_engine(box())
    from firmware.console import Passwords
    Passwords(engine.data_dir).set("the right one")
    shell = console(engine, cable)
    try:
        for _ in range(3):
            cable.expect("technician password: ")
            cable.type("guess\r")
        assert shell.wait(10) == 1
        assert "the right one" not in cable.seen
    finally:
        shell.kill()


def test_line_test_headset_test_and_panel_test_over_the_serial_console(make_engine, cable):
    engine = make_engine(box(modem=True))
    engine.wait_for(lambda: engine.status()["lines"][1]["state"] == "idle", what="modem line up")
    from firmware.console import Passwords
    Passwords(engine.data_dir).set("technician1")
    shell = console(engine, cable)
    try:
        cable.expect("technician password: ")
        cable.type("technician1\r")
        cable.expect("switchboard> ")
        cable.type("line-t\t")  # TAB completes the new commands like the others
        cable.expect("line-test ")
        cable.type("ana\t")  # and the configured lines' names
        cable.expect("analog ")
        cable.type("\r")
        screen = cable.expect("switchboard> ", timeout=40)
        assert "analog (modem): OK" in screen and "reported by the modem (DLE d): yes" in screen
        assert "350+440 Hz" in screen and "dial tone OK" in screen
        engine.cli("sim", "line", "analog", "dialtone", "none")  # the line goes dead
        cable.type("line-test analog\r")
        screen = cable.expect("switchboard> ", timeout=40)
        assert "analog (modem): FAILED" in screen and "NO DIAL TONE" in screen
        cable.type("headset-t\t")
        cable.expect("headset-test ")
        cable.type("--sec\t")
        cable.expect("--seconds ")
        cable.type("2 s\t")
        cable.expect("st1 ")
        cable.type("\r")
        screen = cable.expect("switchboard> ", timeout=40)
        assert "microphone input OK" in screen
        assert "s  RMS  -1" in screen  # the level shown live while the tone played (about -13 dBFS)
        cable.type("help line-test\r")
        assert "dial tone" in cable.expect("switchboard> ")
        cable.type("exit\r")
        assert shell.wait(10) == 0
    finally:
        shell.kill()
