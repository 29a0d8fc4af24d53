"""Kamailio's JSON-RPC over its Unix datagram socket (the jsonrpcs module): what `switchboard status`
reads. Each call binds its own reply socket, so any thread may call."""

from __future__ import annotations

import itertools
import json
import os
import socket
import tempfile
from pathlib import Path

_ids = itertools.count(1)


class RpcError(RuntimeError):
    pass


def call(server: Path, method: str, *params, timeout: float = 2.0):
    """The result of one JSON-RPC call; RpcError when the edge does not answer or answers an error."""
    request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": next(_ids)}
    folder = tempfile.mkdtemp(prefix="sb-rpc-")
    reply_path = os.path.join(folder, "r.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(reply_path)
        sock.settimeout(timeout)
        sock.sendto(json.dumps(request).encode(), str(server))
        answer = json.loads(sock.recv(1 << 20))
    except (OSError, ValueError) as exc:
        raise RpcError(f"the edge did not answer {method}: {exc}") from None
    finally:
        sock.close()
        for path in (reply_path, folder):
            try:
                os.unlink(path) if path == reply_path else os.rmdir(path)
            except OSError:
                pass
    if "error" in answer:
        raise RpcError(f"{method}: {answer['error'].get('message', answer['error'])}")
    return answer.get("result")
