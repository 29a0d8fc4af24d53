"""The parser bound to a port: AT commands with timeouts, and routing of what the modem says.

Everything the reader thread parses goes one of three ways: audio to `on_audio`, every other event to
`on_event`, and the events that answer a command (result codes, information lines, end of stream)
also to the command waiter. A command never hangs: it ends with its expected result, a clear
`ModemError`, or `PortLost`.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable

from drivers.modem import protocol as p
from drivers.modem.errors import ModemError, PortLost
from drivers.modem.transport import SerialTransport

_LOST = object()
GARBAGE_LIMIT = 16  # this many unprintable bytes instead of an answer: no need to wait for the timeout
RESPONSES = (p.Result, p.Connect, p.Text, p.Echo, p.Garbage, p.EndOfStream)


class ModemChannel:
    def __init__(self, url: str, on_event: Callable[[p.Event], None],
                 on_audio: Callable[[bytes], None], on_lost: Callable[[Exception], None],
                 **transport_options) -> None:
        self.url = url
        self._on_event, self._on_audio, self._on_lost = on_event, on_audio, on_lost
        self._parser = p.Parser()
        self._parser_lock = threading.Lock()
        self._responses: queue.Queue = queue.Queue()
        self._command_lock = threading.Lock()
        self._last_bytes = b""
        self._transport = SerialTransport(url, self._data, self._idle, self._lost, **transport_options)

    # -- lifecycle --

    def open(self) -> None:
        self._parser = p.Parser()
        self._responses = queue.Queue()  # a new port: forget the old one's loss
        self._transport.open()

    def close(self) -> None:
        self._transport.close()

    @property
    def in_voice_stream(self) -> bool:
        return self._parser.mode is p.Mode.voice

    # -- talking --

    def send(self, data: bytes) -> None:
        self._transport.write(data)

    def command(self, command: str, expect: tuple[str, ...] = ("OK",), timeout: float = 2.0) -> list[str]:
        """Send one AT command; return its information lines once a result in `expect` arrives."""
        with self._command_lock:
            self._drain()
            unprintable_before = self._parser.unprintable
            self.send(command.encode("ascii") + b"\r")
            info: list[str] = []
            deadline = time.monotonic() + timeout
            while True:
                event = self._next(min(deadline, time.monotonic() + 0.05))
                garbage = self._parser.unprintable - unprintable_before
                if garbage >= GARBAGE_LIMIT or (event is None and time.monotonic() >= deadline):
                    raise ModemError(self._no_answer(command, timeout, garbage))
                if isinstance(event, (p.Result, p.Connect)):
                    if event.text in expect or (isinstance(event, p.Connect) and "CONNECT" in expect):
                        return info
                    raise ModemError(f"{command!r} on {self.url}: modem answered {event.text!r}")
                if isinstance(event, p.Text):
                    info.append(event.text)

    def end_voice_stream(self, sequences: tuple[bytes, ...], timeout: float) -> bool:
        """Send each end sequence in turn until the modem leaves the stream (DLE ETX or a result).

        Returns False when it never did; the parser is put back in command mode either way."""
        with self._command_lock:
            try:
                for sequence in sequences:
                    self._drain()
                    self.send(sequence)
                    deadline = time.monotonic() + timeout
                    while (event := self._next(deadline)) is not None:
                        if isinstance(event, p.Result):
                            return True
                        if isinstance(event, p.EndOfStream):  # its OK follows: do not leave it
                            self._next(min(deadline, time.monotonic() + 0.5))  # to the next command
                            return True
                return False
            finally:
                with self._parser_lock:
                    if self._parser.mode is p.Mode.voice:
                        self._parser.reset(p.Mode.command)

    # -- reader thread --

    def _data(self, data: bytes) -> None:
        with self._parser_lock:
            if self._parser.mode is p.Mode.command:
                self._last_bytes = (self._last_bytes + data)[-32:]
            events = self._parser.feed(data)
        self._route(events)

    def _idle(self) -> None:
        with self._parser_lock:
            events = self._parser.flush()
        self._route(events)

    def _route(self, events: list[p.Event]) -> None:
        for event in events:
            if isinstance(event, p.Audio):
                self._on_audio(event.data)
                continue
            if isinstance(event, RESPONSES):
                self._responses.put(event)
            self._on_event(event)

    def _lost(self, error: Exception) -> None:
        self._responses.put(_LOST)
        self._on_lost(error)

    # -- helpers --

    def _next(self, deadline: float):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            event = self._responses.get(timeout=remaining)
        except queue.Empty:
            return None
        if event is _LOST:
            self._responses.put(_LOST)  # every later waiter must see it too
            raise PortLost(f"{self.url}: port lost")
        return event

    def _drain(self) -> None:
        try:
            while True:
                if self._responses.get_nowait() is _LOST:
                    self._responses.put(_LOST)
                    return
        except queue.Empty:
            pass

    def _no_answer(self, command: str, timeout: float, garbage: int) -> str:
        if garbage:
            return (f"{command!r} on {self.url}: the device answers garbage, not a modem's result codes "
                    f"(wrong port or speed?): {self._last_bytes!r}")
        return (f"no answer to {command!r} on {self.url} within {timeout:g} s "
                "(nothing received: is a modem there, and powered?)")
