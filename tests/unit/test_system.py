"""Reboot, shutdown and factory reset through a fake command runner (the systemctl edge), and a factory
reset cut short by a power failure being finished at the next boot."""

from __future__ import annotations

import os
import subprocess

import pytest

from firmware import system


class FakeRunner:
    """Records the commands; fails the ones named in `failing`."""

    def __init__(self, failing: tuple[str, ...] = ()):
        self.commands: list[list[str]] = []
        self.failing = failing

    def __call__(self, argv):
        self.commands.append(list(argv))
        bad = any(word in argv for word in self.failing)
        return subprocess.CompletedProcess(argv, 1 if bad else 0, "", "Access denied" if bad else "")


def filled(data_dir):
    (data_dir / "recordings").mkdir(parents=True)
    (data_dir / "recordings" / "c1.wav").write_bytes(b"RIFF")
    (data_dir / "switchboard.db").write_bytes(b"db")
    (data_dir / "web").mkdir()
    (data_dir / "web" / "admin.json").write_text("{}")
    (data_dir / "lost+found").mkdir()
    os.symlink("factory", data_dir / "current-link")
    return data_dir


def test_reboot_and_shutdown_ask_systemd():
    runner = FakeRunner()
    system.reboot(runner)
    system.shutdown(runner)
    assert runner.commands == [["systemctl", "reboot"], ["systemctl", "poweroff"]]


def test_a_refused_reboot_says_why():
    with pytest.raises(system.CommandFailed, match="Access denied"):
        system.reboot(FakeRunner(failing=("reboot",)))


def test_factory_reset_stops_the_services_wipes_everything_and_reboots(tmp_path):
    data = filled(tmp_path / "data")
    runner, said = FakeRunner(), []
    system.factory_reset(data, runner, said.append)
    assert runner.commands[0][:2] == ["systemctl", "stop"] and "switchboard-engine.service" in runner.commands[0]
    assert runner.commands[-1] == ["systemctl", "reboot"]
    assert sorted(p.name for p in data.iterdir()) == ["lost+found"]


def test_factory_reset_touches_nothing_when_the_services_do_not_stop(tmp_path):
    data = filled(tmp_path / "data")
    before = sorted(p.name for p in data.rglob("*"))
    with pytest.raises(system.CommandFailed):
        system.factory_reset(data, FakeRunner(failing=("stop",)), lambda m: None)
    assert sorted(p.name for p in data.rglob("*")) == before


def test_a_reset_cut_short_is_finished_at_the_next_boot(tmp_path):
    data = filled(tmp_path / "data")
    # The power failed after the mark and some of the moves.
    (data / system.RESET_MARK).touch()
    (data / system.TRASH).mkdir()
    os.rename(data / "web", data / system.TRASH / "web")
    done = system.init_data_dir(data, None)
    assert "finished a factory reset" in done[0]
    assert sorted(p.name for p in data.iterdir()) == ["lost+found", "recordings"]
    assert list((data / "recordings").iterdir()) == []


def test_init_points_the_active_release_at_the_factory_venv(tmp_path):
    venv = tmp_path / "factory" / "venv"
    venv.mkdir(parents=True)
    data = tmp_path / "data"
    data.mkdir()
    assert system.init_data_dir(data, venv) == ["active release: factory"]
    assert os.readlink(data / "releases" / "current") == "factory"
    assert (data / "releases" / "current" / "venv").resolve() == venv.resolve()
    assert system.init_data_dir(data, venv) == []  # the next boot: nothing to do
