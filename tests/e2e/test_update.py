"""`switchboard update`: real bundles made from this source tree, installed into real venvs, and a
real engine (`switchboard run --sim` from the release's own venv) that must report READY=1 over the
systemd notification protocol. The service manager here is `NotifyEngine`, a stand-in for systemd
that starts the engine of the `current` release with a NOTIFY_SOCKET and waits for READY=1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from firmware import update
from tests.e2e.conftest import ROOT, free_port


class NotifyEngine:
    """Starts `<current release>/venv/bin/switchboard run --sim` and waits for its READY=1, as systemd
    does for a Type=notify unit."""

    def __init__(self, releases: update.Releases, data_dir: Path, workdir: Path):
        self.releases, self.data_dir, self.workdir = releases, data_dir, workdir
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.started: list[Path] = []

    def restart(self) -> None:
        self.stop()
        path = self.workdir / f"notify-{len(self.started)}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        venv = self.releases.current_venv()
        self.started.append(venv)
        log = open(self.workdir / f"engine-{len(self.started)}.log", "wb")
        self.proc = subprocess.Popen([str(venv / "bin" / "switchboard"), "--data-dir", str(self.data_dir), "run",
                                      "--sim", "--sip-port", str(free_port()), "--web-port", "0"],
                                     cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "NOTIFY_SOCKET": str(path)})

    def wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0 and self.proc.poll() is None:
            self.sock.settimeout(min(left, 0.5))
            try:
                if self.sock.recv(4096).decode().startswith("READY=1"):
                    return True
            except socket.timeout:
                pass
        return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            self.sock.close()


def make_source(tmp: Path, version: str, never_ready: bool = False) -> Path:
    """A copy of this source tree at another version; optionally one whose engine never says READY."""
    src = tmp / f"src-{version}"
    for part in ("firmware", "drivers", "web"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    pyproject = (ROOT / "pyproject.toml").read_text()
    (src / "pyproject.toml").write_text(pyproject.replace('version = "0.1.0"', f'version = "{version}"', 1))
    if never_ready:
        notify = src / "firmware" / "notify.py"
        text = notify.read_text()
        assert 'self.send(f"READY=1' in text
        notify.write_text(text.replace('self.send(f"READY=1', 'None and self.send(f"READY=1'))
    return src


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bundles")
    good = update.build_bundle(tmp / "good", make_source(tmp, "0.2.0"))
    hung = update.build_bundle(tmp / "hung", make_source(tmp, "0.3.0", never_ready=True))
    return {"good": good, "hung": hung}


@pytest.fixture
def box(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    releases = update.Releases(data_dir, fallback_venv=Path(sys.prefix))
    engine = NotifyEngine(releases, data_dir, tmp_path)
    engine.restart()
    assert engine.wait_ready(60), (tmp_path / "engine-1.log").read_text()
    yield data_dir, releases, engine
    engine.stop()


def test_a_good_bundle_is_installed_and_the_engine_runs_from_it(box, bundles):
    data_dir, releases, engine = box
    said = []
    outcome = update.install_bundle(bundles["good"], data_dir, engine, ready_timeout_s=60, say=said.append,
                                    releases=releases)
    assert outcome.ok, outcome.message
    assert outcome.history == ["verify", "install", "switch", "wait_ready"]
    current, previous = releases.link("current"), releases.link("previous")
    assert str(current).startswith("0.2.0-") and str(previous) == "factory"
    assert not releases.pending.exists(), "the trial is over"
    assert (releases.root / "factory" / "venv").resolve() == Path(sys.prefix).resolve()
    new_venv = releases.root / current / "venv"
    assert engine.started[-1] == new_venv and engine.proc.poll() is None
    version = subprocess.run([str(new_venv / "bin" / "python"), "-c",
                              "import importlib.metadata as m, firmware; print(m.version('switchboard'), firmware.__file__)"],
                             capture_output=True, text=True, check=True, cwd=data_dir).stdout.split()
    assert version[0] == "0.2.0" and version[1].startswith(str(new_venv)), "the release runs its own code"
    status = subprocess.run([str(new_venv / "bin" / "switchboard"), "--data-dir", str(data_dir), "status", "--json"],
                            capture_output=True, text=True, timeout=60, cwd=data_dir)
    assert status.returncode == 0
    pid = __import__("json").loads(status.stdout)["pid"]  # the engine `run` supervises: its child
    parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert parent == engine.proc.pid
    assert str(new_venv) in Path(f"/proc/{pid}/cmdline").read_text(), "the engine runs the new release"
    assert any("waiting up to 60 s" in m for m in said)


@pytest.mark.long(25)
def test_an_engine_that_never_gets_ready_is_rolled_back(box, bundles):
    data_dir, releases, engine = box
    outcome = update.install_bundle(bundles["hung"], data_dir, engine, ready_timeout_s=12, releases=releases)
    assert outcome.step is update.Step.ROLLED_BACK, outcome.message
    assert outcome.history == ["verify", "install", "switch", "wait_ready", "roll_back"]
    assert "0.3.0 did not get ready" in outcome.message
    assert str(releases.link("current")) == "factory" and not releases.pending.exists()
    assert [p.name for p in releases.root.iterdir() if p.name.startswith("0.3.0")] == [], "the failed release is gone"
    assert engine.started[-1] == releases.root / "factory" / "venv" and engine.proc.poll() is None
    assert engine.started[-2].parent.name.startswith("0.3.0-")


def test_a_corrupt_bundle_is_refused_and_nothing_changes(box, bundles, tmp_path):
    data_dir, releases, engine = box
    # A wheel whose bytes differ from the manifest's SHA-256 (the manifest itself intact).
    bad = tmp_path / "switchboard-0.2.0.bundle.tar"
    with tarfile.open(bundles["good"]) as src, tarfile.open(bad, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()
            if member.name.endswith(".whl"):
                data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
            dst.addfile(member, __import__("io").BytesIO(data))
    before = sorted(p.name for p in releases.root.iterdir()) if releases.root.exists() else []
    outcome = update.install_bundle(bad, data_dir, engine, releases=releases)
    assert outcome.step is update.Step.REFUSED and "SHA-256 does not match the manifest" in outcome.message
    after = sorted(p.name for p in releases.root.iterdir() if p.name != ".lock")
    assert after == [n for n in before if n != ".lock"] and len(engine.started) == 1

    # Truncated in transit: refused by the sidecar checksum, through the command line.
    cut = tmp_path / "cut" / bundles["good"].name
    cut.parent.mkdir()
    cut.write_bytes(bundles["good"].read_bytes()[:-5000])
    shutil.copy(f"{bundles['good']}.sha256", f"{cut}.sha256")
    result = subprocess.run([sys.executable, "-m", "firmware.cli", "--data-dir", str(data_dir), "update", str(cut)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "refused" in result.stdout and "does not match" in result.stdout
    assert len(engine.started) == 1 and engine.proc.poll() is None
