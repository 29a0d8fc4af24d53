"""The edge as the engine's composition root sees it: files written, figures read, and, in
simulation, the Kamailio process itself.

`ManagedEdge` starts Kamailio as a child of `switchboard run --sim` on loopback ports and stops it
with the engine. `SystemdEdge` is the box: systemd runs Kamailio (switchboard-edge.service, whose
start renders the same files with `switchboard edge render`); the engine only writes the
credentials and reads the figures.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from firmware.edge import credentials, figures, rpc
from firmware.edge.render import EdgePlan, render
from firmware.settings import Settings

log = logging.getLogger(__name__)
KAMAILIO = "kamailio"
START_TIMEOUT_S = 15
# Shared and private memory (MB): ample for an office's phones, small enough for a Pi.
SHM_MB, PKG_MB = 32, 4


def _die_with_parent() -> None:
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EdgeError(RuntimeError):
    pass


def run_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "edge"


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def resolve_internal_port(port: int) -> int:
    return port or free_udp_port()


def write_files(plan: EdgePlan) -> Path:
    """kamailio.cfg and the credential tables; returns the configuration file."""
    plan.run_dir.mkdir(parents=True, exist_ok=True)
    text = render(plan)
    tmp = plan.config_file.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(plan.config_file)
    credentials.write_tables(plan.settings, plan.db_dir)
    return plan.config_file


def check_config(path: Path) -> None:
    """Kamailio's own syntax check of a rendered file (`kamailio -c`)."""
    result = subprocess.run([KAMAILIO, "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise EdgeError(f"kamailio refused {path}:\n{(result.stdout + result.stderr)[-2000:]}")


class Edge:
    """What every edge does: keep the credentials current and report its figures."""

    def __init__(self, plan: EdgePlan):
        self.plan = plan

    @property
    def internal_address(self) -> str:
        return self.plan.internal_address

    def apply(self, settings: Settings) -> list[str]:
        """A new configuration: the credentials apply at once (Kamailio re-reads the table when it
        changes); anything else in kamailio.cfg waits for a restart of the edge (said in the list)."""
        changed = credentials.write_tables(settings, self.plan.db_dir)
        new_plan = dataclasses.replace(self.plan, settings=settings)
        notes = []
        if settings.edge is not None and render(new_plan) != render(self.plan):
            notes.append("the edge's settings apply when the edge restarts")
        if changed:
            log.info("edge: operators' credentials updated")
        self.plan = new_plan
        return notes

    def status(self) -> dict:
        sock = self.plan.rpc_socket
        try:
            result = figures.status(rpc.call(sock, "htable.dump", "stats"), rpc.call(sock, "htable.dump", "ipban"),
                                    rpc.call(sock, "ul.dump"))
            return {"running": True, "port": self.plan.public_port, **result}
        except rpc.RpcError as exc:
            return {"running": False, "port": self.plan.public_port, "error": str(exc)}

    def unban(self, address: str) -> bool:
        """Lift a ban (and forget the address's failures); False when it was not banned."""
        banned = address in figures.htable_items(rpc.call(self.plan.rpc_socket, "htable.dump", "ipban"))
        for table in ("ipban", "authfail"):
            try:
                rpc.call(self.plan.rpc_socket, "htable.delete", table, address)
            except rpc.RpcError as exc:
                if "not found" not in str(exc).lower():  # a scanner's ban has no failures to forget
                    raise
        return banned

    def stop(self) -> None:
        pass


class SystemdEdge(Edge):
    """The box: Kamailio belongs to systemd (switchboard-edge.service)."""


class ManagedEdge(Edge):
    """Simulation: Kamailio as a child process, started after the engine's SIP port is open."""

    def __init__(self, plan: EdgePlan):
        super().__init__(plan)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if shutil.which(KAMAILIO) is None:
            raise EdgeError("kamailio is not installed (make deps installs it)")
        config = write_files(self.plan)
        for sock in (self.plan.rpc_socket, self.plan.ctl_socket):
            sock.unlink(missing_ok=True)
        log_file = open(self.plan.run_dir / "kamailio.log", "ab")
        # Its own session (Ctrl-C reaches the engine, which stops it), and a parent-death signal so a
        # killed engine never leaves Kamailio holding the port.
        self.proc = subprocess.Popen(
            [KAMAILIO, "-DD", "-E", "-m", str(SHM_MB), "-M", str(PKG_MB), "-f", str(config)],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_die_with_parent)
        log_file.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log_path = self.plan.run_dir / "kamailio.log"
                tail = [ln for ln in log_path.read_text(errors="replace").splitlines() if "ERROR" in ln][-3:]
                raise EdgeError(f"kamailio exited {self.proc.returncode} at start (is port {self.plan.public_port} "
                                f"taken?); {log_path}:\n" + "\n".join(tail))
            try:
                rpc.call(self.plan.rpc_socket, "core.version", timeout=0.5)
                log.info("edge (Kamailio) on %s:%d, engine behind it on 127.0.0.1:%d", self.plan.settings.sip.address,
                         self.plan.public_port, self.plan.engine_port)
                return
            except rpc.RpcError:
                time.sleep(0.1)
        self.stop()
        raise EdgeError("kamailio did not answer within %d s" % START_TIMEOUT_S)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
