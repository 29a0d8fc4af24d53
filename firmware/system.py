"""The box as a machine: reboot, power off, factory reset, and preparing the data directory at boot.

Privileged things go through `systemctl` (the service user may reboot, power off and start, stop or
restart the switchboard units: the image's polkit rule), run by a `Runner` passed in by the caller,
so tests give a fake one at that edge.

Factory reset wipes the data directory (database, recordings, settings, passwords, secrets, network
settings, installed releases) and reboots. It never leaves half a box: a mark file is written first,
every entry is moved into a trash folder (each move atomic), the trash is deleted, then the mark.
If power fails in between, `init_data_dir` (every boot, before the engine) sees the mark and finishes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Sequence

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]
RESET_MARK = ".factory-reset"
TRASH = ".trash"
KEEP = {"lost+found"}  # the data partition's own
UNITS_USING_DATA = ("switchboard-web.service", "switchboard-encoder.service", "switchboard-engine.service")


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120)


class CommandFailed(Exception):
    """A system command failed; the message says which and why."""


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise CommandFailed(f"{what} failed: {(result.stderr or result.stdout).strip() or f'exit {result.returncode}'}")


def reboot(runner: Runner = run_command) -> None:
    _check(runner(["systemctl", "reboot"]), "reboot")


def shutdown(runner: Runner = run_command) -> None:
    _check(runner(["systemctl", "poweroff"]), "shutdown")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wipe(data_dir: Path) -> int:
    """Empty the data directory (all but lost+found); returns how many entries went. Resumable."""
    data_dir = Path(data_dir)
    mark, trash = data_dir / RESET_MARK, data_dir / TRASH
    mark.touch()
    _fsync_dir(data_dir)
    trash.mkdir(exist_ok=True)
    moved = 0
    for entry in list(data_dir.iterdir()):
        if entry.name in KEEP or entry.name in (RESET_MARK, TRASH):
            continue
        target = trash / entry.name
        n = 0
        while target.exists() or target.is_symlink():
            n += 1
            target = trash / f"{entry.name}.{n}"
        os.rename(entry, target)
        moved += 1
    _fsync_dir(data_dir)
    shutil.rmtree(trash)
    mark.unlink()
    _fsync_dir(data_dir)
    return moved


def factory_reset(data_dir: Path, runner: Runner = run_command, say: Callable[[str], None] = print) -> None:
    """Stop what uses the data, wipe it, reboot (a new box: new secrets, setup code, passwords)."""
    say("stopping the engine, the web admin and the encoder")
    _check(runner(["systemctl", "stop", *UNITS_USING_DATA]), "stopping the services")
    say(f"wiping {data_dir}")
    wipe(Path(data_dir))
    say("rebooting")
    reboot(runner)


def init_data_dir(data_dir: Path, factory_venv: Path | None) -> list[str]:
    """At every boot, before the engine: finish a cut-short factory reset and point the active
    release at the factory one when none is set. Returns what it did."""
    from firmware.update import Releases
    data_dir = Path(data_dir)
    done = []
    if (data_dir / RESET_MARK).exists():
        wipe(data_dir)
        done.append("finished a factory reset that had been cut short")
    (data_dir / "recordings").mkdir(parents=True, exist_ok=True)
    if factory_venv is not None:
        releases = Releases(data_dir, fallback_venv=factory_venv)
        if (note := releases.recover_interrupted()):
            done.append(note)
        before = releases.link("current")
        releases.ensure_factory()
        if before is None or str(releases.link("current")) != str(before):
            done.append(f"active release: {releases.link('current')}")
    return done
