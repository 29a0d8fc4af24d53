"""The console's machine commands over a serial line (socat pty pair, pyserial): reboot, shutdown and
factory reset confirmed by typing the word, network settings, the web admin password and setup
code, and `log --follow`. systemctl is the edge: a fake one first on PATH records what it was asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.console import Passwords
from firmware.store.writer import Writer
from tests.e2e.conftest import ROOT
from tests.e2e.test_console import Cable

PASSWORD = "technician 1"


@pytest.fixture
def cable(tmp_path):
    c = Cable(tmp_path)
    yield c
    c.close()


@pytest.fixture
def fake_systemctl(tmp_path):
    bin_dir, calls = tmp_path / "bin", tmp_path / "systemctl.calls"
    bin_dir.mkdir()
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    script.chmod(0o755)
    return bin_dir, calls


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    writer = Writer(d)  # a box that has run: a database with a log entry
    writer.log("warning", "sip", "first entry")
    writer.flush()
    writer.close()
    Passwords(d).set(PASSWORD)
    return d


def open_console(data_dir: Path, cable: Cable, fake_systemctl) -> subprocess.Popen:
    bin_dir, _ = fake_systemctl
    shell = subprocess.Popen([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), "console",
                              "--tty", str(cable.box_end)], cwd=ROOT,
                             env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    cable.expect("technician password: ")
    cable.type(PASSWORD + "\r")
    cable.expect("switchboard> ")
    return shell


def calls(fake_systemctl) -> list[str]:
    path = fake_systemctl[1]
    return path.read_text().splitlines() if path.exists() else []


def run(cable: Cable, line: str) -> str:
    cable.type(line + "\r")
    return cable.expect("switchboard> ")


def test_reboot_and_shutdown_only_when_the_word_is_typed(data_dir, cable, fake_systemctl):
    shell = open_console(data_dir, cable, fake_systemctl)
    try:
        cable.type("rebo\t")
        cable.expect("reboot ")
        cable.type("\r")
        cable.expect("type reboot to confirm: ")
        cable.type("yes\r")
        assert "not confirmed; nothing done" in cable.expect("switchboard> ")
        assert calls(fake_systemctl) == []
        cable.type("reboot\r")
        cable.expect("type reboot to confirm: ")
        cable.type("reboot\r")
        assert "rebooting" in cable.expect("switchboard> ")
        cable.type("shutdown\r")
        cable.expect("type shutdown to confirm: ")
        cable.type("shutdown\r")
        assert "powering off" in cable.expect("switchboard> ")
        assert calls(fake_systemctl) == ["reboot", "poweroff"]
        cable.type("exit\r")
        assert shell.wait(10) == 0
    finally:
        shell.kill()


def test_network_settings_are_shown_set_and_applied(data_dir, cable, fake_systemctl):
    shell = open_console(data_dir, cable, fake_systemctl)
    try:
        assert "eth0: DHCP" in run(cable, "network-settings show")
        cable.type("network-settings st\t")
        cable.expect("static ")
        cable.type("192.168.1.300/24\r")
        assert "refused: bad address" in cable.expect("switchboard> ")
        assert calls(fake_systemctl) == []
        out = run(cable, "network-settings static 192.168.1.50/24 --gateway 192.168.1.1 --dns 192.168.1.1 9.9.9.9")
        assert "saved: eth0: static 192.168.1.50/24, gateway 192.168.1.1" in out and "applied" in out
        assert calls(fake_systemctl) == ["start switchboard-network.service"]
        keyfile = (data_dir / "network" / "switchboard-eth0.nmconnection")
        assert "address1=192.168.1.50/24,192.168.1.1" in keyfile.read_text()
        assert keyfile.stat().st_mode & 0o777 == 0o600
        assert "static 192.168.1.50/24" in run(cable, "network-settings show")
        run(cable, "network-settings dhcp")
        assert "eth0: DHCP" in run(cable, "network-settings show")
    finally:
        shell.kill()


def test_web_admin_setup_code_and_password_reset(data_dir, cable, fake_systemctl):
    from web.files import WebFiles
    files = WebFiles(data_dir / "web")
    shell = open_console(data_dir, cable, fake_systemctl)
    try:
        out = run(cable, "web-password setup-code")
        assert f"web admin setup code: {files.setup_code()}" in out
        files.set_password("a long admin password")
        assert "a web admin password is set" in run(cable, "web-password setup-code")
        out = run(cable, "web-password reset")
        assert "password removed" in out and not files.has_password()
        assert f"web admin setup code: {files.setup_code()}" in out
    finally:
        shell.kill()


def test_log_follow_shows_new_entries_until_enter(data_dir, cable, fake_systemctl):
    shell = open_console(data_dir, cable, fake_systemctl)
    try:
        cable.type("log --follow\r")
        assert "first entry" in cable.expect("-- following the log")
        cable.expect("to stop --")
        writer = Writer(data_dir)  # stands in for the engine writing its log
        writer.log("warning", "sip", "INVITE from 10.9.9.9 refused")
        writer.flush()
        writer.close()
        cable.expect("INVITE from 10.9.9.9 refused")
        cable.type("\r")
        cable.expect("switchboard> ")
        cable.type("log --follow\r")
        cable.expect("to stop --")
        cable.type("\x03")  # Ctrl-C ends following, not the session
        cable.expect("switchboard> ")
        assert "first entry" in run(cable, "log")
    finally:
        shell.kill()


def test_factory_reset_wipes_the_box_and_reboots(data_dir, cable, fake_systemctl):
    (data_dir / "recordings").mkdir(exist_ok=True)
    (data_dir / "recordings" / "c1.wav").write_bytes(b"RIFF")
    shell = open_console(data_dir, cable, fake_systemctl)
    try:
        cable.type("factory-reset\r")
        cable.expect("type reset to confirm: ")
        cable.type("\r")
        assert "not confirmed" in cable.expect("switchboard> ")
        assert (data_dir / "recordings" / "c1.wav").exists()
        cable.type("factory-reset\r")
        cable.expect("type reset to confirm: ")
        cable.type("reset\r")
        assert "rebooting" in cable.expect("switchboard> ")
        assert list(data_dir.iterdir()) == []
        stop, reboot = calls(fake_systemctl)
        assert stop.startswith("stop ") and "switchboard-engine.service" in stop and reboot == "reboot"
    finally:
        shell.kill()
