"""Under systemd the engine says when it is ready and its loop pings the watchdog; a hung loop stops
the pings (so systemd restarts it) while the rest of the process is still alive."""

from __future__ import annotations

import socket
import threading
import time

from tests.e2e.boxes import box


def messages(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    got, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append((time.monotonic(), sock.recv(4096).decode()))
        except socket.timeout:
            break
    return got


def test_ready_then_watchdog_pings_that_stop_when_the_loop_hangs(make_engine, tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        engine = make_engine(box(), env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"})
        first = messages(sock, 2.0)
        assert any(m.startswith("READY=1") for _, m in first)
        assert sum(m == "WATCHDOG=1" for _, m in first) >= 2
        # Listen throughout: the hold begins whenever the loop takes the command (later under load).
        heard: list = []
        listener = threading.Thread(target=lambda: heard.extend(messages(sock, 12.0)))
        listener.start()
        assert "held for 3 s" in engine.cli("watchdog-test", "--seconds", "3").stdout
        listener.join()
        pings = [t for t, m in heard if m == "WATCHDOG=1"]
        gaps = [(b - a, i) for i, (a, b) in enumerate(zip(pings, pings[1:]))]
        longest, at = max(gaps)
        assert longest >= 2.9, f"no ping-free stretch as long as the hold (pings every 0.5 s): gaps {gaps}"
        assert len(pings) - (at + 1) >= 2, "the pings resume after the hold"
        assert engine.status()["calls"] == []
        engine.stop()
        assert any(m == "STOPPING=1" for _, m in messages(sock, 1.0))
