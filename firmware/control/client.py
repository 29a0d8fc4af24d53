"""The CLI's and web admin's side of the control socket."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from firmware.control import SOCKET_NAME


class EngineNotRunning(ConnectionError):
    pass


class ControlError(RuntimeError):
    def __init__(self, error: str, problems: list | None = None):
        self.problems = problems or []
        super().__init__(error + "".join(f"\n  {k} = {v!r}: {r}" for k, v, r in self.problems))


def request(data_dir: Path, cmd: str, timeout: float = 15, **args):
    """Send one command to the engine of `data_dir`; returns its result or raises ControlError."""
    path = Path(data_dir) / SOCKET_NAME
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        raise EngineNotRunning(f"no engine is running with data directory {data_dir} (no answer on {path})") from None
    with sock, sock.makefile("rwb") as stream:
        stream.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        stream.flush()
        line = stream.readline()
    if not line:
        raise ControlError("the engine closed the connection without an answer")
    answer = json.loads(line)
    if not answer.get("ok"):
        raise ControlError(answer.get("error", "failed"), answer.get("problems"))
    return answer["result"]
