"""systemd's notification protocol (sd_notify): READY, STOPPING, STATUS and watchdog pings.

A no-op when not started by systemd (no $NOTIFY_SOCKET), so the engine runs the same by hand.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    def __init__(self, environ=os.environ, clock=time.monotonic):
        self.address = environ.get("NOTIFY_SOCKET")
        if self.address and self.address.startswith("@"):  # abstract namespace
            self.address = "\0" + self.address[1:]
        usec = int(environ.get("WATCHDOG_USEC", "0") or 0)
        pid = environ.get("WATCHDOG_PID")
        if pid and int(pid) != os.getpid():
            usec = 0  # the watchdog is meant for another process
        self.interval = usec / 2e6 if usec else None  # ping twice per watchdog period
        self.clock = clock
        self._last_ping = float("-inf")

    def send(self, message: str) -> None:
        if not self.address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message.encode(), self.address)
            except OSError:
                pass  # systemd gone (shutdown): nothing to tell

    def ready(self, status: str) -> None:
        self.send(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def tick(self) -> None:
        """Called by the engine loop each turn: a hung loop stops the pings and systemd restarts it."""
        if self.interval is None:
            return
        now = self.clock()
        if now - self._last_ping >= self.interval:
            self._last_ping = now
            self.send("WATCHDOG=1")
