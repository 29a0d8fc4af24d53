"""One serial port (any pyserial URL: device path, pty path, socket://) and the thread reading it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import serial

from drivers.modem.errors import PortLost

log = logging.getLogger(__name__)

PORT_ERRORS = (serial.SerialException, OSError)


@dataclass(frozen=True)
class Backoff:
    """Reopen delays: initial, doubling, capped."""

    initial: float = 0.25
    factor: float = 2.0
    maximum: float = 8.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


class SerialTransport:
    """Bytes in and out. The reader thread calls `on_data(bytes)`, `on_idle()` when a read timed out
    with nothing, and `on_lost(exception)` once when the port fails; then it ends."""

    def __init__(self, url: str, on_data: Callable[[bytes], None], on_idle: Callable[[], None],
                 on_lost: Callable[[Exception], None], *,
                 open_port: Callable[..., serial.SerialBase] = serial.serial_for_url,
                 read_timeout: float = 0.05, write_timeout: float = 2.0, baudrate: int = 115200):
        self.url = url
        self._on_data, self._on_idle, self._on_lost = on_data, on_idle, on_lost
        self._open_port = open_port
        self._settings = dict(baudrate=baudrate, timeout=read_timeout, write_timeout=write_timeout)
        self._port: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._closing = threading.Event()
        self._lost_once = threading.Lock()
        self._lost = False
        self._reader: threading.Thread | None = None

    @property
    def is_open(self) -> bool:
        return self._port is not None and not self._lost

    def open(self) -> None:
        """Raises serial.SerialException when the port cannot be opened."""
        self._port = self._open_port(self.url, **self._settings)
        self._closing.clear()
        self._lost = False
        self._reader = threading.Thread(target=self._read_loop, name=f"modem-reader {self.url}",
                                        daemon=True)
        self._reader.start()

    def write(self, data: bytes) -> None:
        port = self._port
        if port is None or self._lost:
            raise PortLost(f"{self.url} is not open")
        try:
            with self._write_lock:
                port.write(data)
        except PORT_ERRORS as error:
            self._report_lost(error)
            raise PortLost(f"{self.url}: {error}") from error

    def close(self) -> None:
        """Stop the reader before closing: a closed fd number can be reused by the next open, and a
        reader still selecting on it would read the new port."""
        self._closing.set()
        port = self._port
        if port is not None and hasattr(port, "cancel_read"):
            try:
                port.cancel_read()
            except PORT_ERRORS:
                pass
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2.0)  # without cancel_read (socket://) the read timeout ends it
        self._port = None
        if port is not None:
            try:
                port.close()
            except PORT_ERRORS:
                pass

    def _read_loop(self) -> None:
        port = self._port
        while not self._closing.is_set() and port is not None:
            try:
                data = port.read(min(max(port.in_waiting, 1), 4096))
            except (*PORT_ERRORS, TypeError, AttributeError) as error:  # close() races raise these
                if not self._closing.is_set():
                    self._report_lost(error)
                return
            try:
                self._on_data(data) if data else self._on_idle()
            except Exception:  # a bug in a handler must not silently stop the line
                log.exception("modem reader: handler failed")

    def _report_lost(self, error: Exception) -> None:
        with self._lost_once:
            if self._lost:
                return
            self._lost = True
        self._on_lost(error)
