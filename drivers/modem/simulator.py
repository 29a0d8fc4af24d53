"""A simulated V.253 voice modem on a pty pair, for tests and for running the box without hardware.

The driver opens `SimulatedModem.path` (a symlink to the pty slave) exactly as it opens
/dev/ttyACM0. A thread on the master end answers AT commands like the chosen model, streams the far
end's audio at a paced 8000 bytes/s once in duplex (never before CONNECT), and records what the
driver sends. `unplug()` closes the master (the driver's next read fails) and removes the path;
`replug()` makes a new pty behind the same path.
"""

from __future__ import annotations

import os
import select
import tempfile
import threading
import time
import tty
from dataclasses import dataclass, field

import numpy as np

from drivers.modem.audio import Codec, codec_for
from drivers.modem.protocol import DleSplitter, shield
from drivers.modem.quirks import SampleFormat
from drivers.modem.sim_commands import CommandState, answer_command
from drivers.modem.sim_phone import FarEndPhone, SilenceSource, ToneSource
from drivers.modem.tones import DIAL_TONES

DLE, ETX = 0x10, 0x03
CHUNK = 80  # samples per write: 10 ms


@dataclass(frozen=True)
class SimModel:
    name: str
    ati0: str
    ati3: str
    caller_id_separator: str           # Conexant puts spaces around "=", USR does not
    needs_triple_dle: bool             # host -> modem end/abort prefix
    voice_formats: dict[str, SampleFormat] = field(default_factory=dict)


USR = SimModel("usr5637", "5601", "U.S. Robotics 56K FAX USB V1.2.23", "=", False,
               {"128,8000": SampleFormat.linear8, "130,8000": SampleFormat.unsigned8,
                "131,8000": SampleFormat.ulaw, "132,8000": SampleFormat.alaw})
CONEXANT = SimModel("conexant", "56000", "CX93001-EIS_V0.2002-V92", " = ", True,
                    {"1,8000,0,0": SampleFormat.unsigned8})
NO_NAME = SimModel("no-name", "ACME 56K", "Acme Voice Stick 1.0", "=", False,
                   {"1,8000": SampleFormat.unsigned8})
SIM_MODELS = {model.name: model for model in (USR, CONEXANT, NO_NAME)}


@dataclass(frozen=True)
class SimCallerId:
    number: str = "5551234"
    name: str = "SMITH JOHN"
    date: str = "1123"
    time: str = "0930"

    def lines(self, separator: str) -> list[str]:
        pairs = [("DATE", self.date), ("TIME", self.time), ("NMBR", self.number), ("NAME", self.name)]
        return [f"{tag}{separator}{value}" for tag, value in pairs if value]


class SimulatedModem:
    def __init__(self, model: SimModel | str = USR, *, directory: str | None = None,
                 lifetime: float = 120.0, ring_interval: float = 0.4) -> None:
        self.model = SIM_MODELS[model] if isinstance(model, str) else model
        self._own_directory = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="simmodem-")
        self.path = os.path.join(self.directory, "ttyMODEM0")
        self.ring_interval = ring_interval
        self.phone = FarEndPhone()
        self.behaviour = "normal"  # or "garbage" (answers noise) or "silent" (answers nothing)
        self.state = CommandState()
        self.commands: list[str] = []     # every AT line received, in order
        self.dialled: list[str] = []      # ATD numbers and AT+VTS digits
        self.answered_after_rings: int | None = None
        self.dial_result = "OK"
        self.dial_tone: str | None = "north_america"  # what the exchange plays off hook (None: a dead line)
        self._dial_tone_source = ToneSource(DIAL_TONES["north_america"], 0.2)
        self._deadline = time.monotonic() + lifetime
        self._lock = threading.RLock()
        self._scheduled: list[tuple[float, str, object]] = []   # (due, kind, payload)
        self._on_answer: list[tuple[float, str, object]] = []   # (seconds after CONNECT, kind, payload)
        self.rings_sent = 0
        self.ringing_until = 0.0  # a call is ringing (or between rings) until then
        self._master = self._slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rng = np.random.default_rng(7)

    # -- lifecycle --

    def __enter__(self) -> "SimulatedModem":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self._plug_in()

    def close(self) -> None:
        self.unplug()
        if self._own_directory:
            try:
                os.rmdir(self.directory)
            except OSError:
                pass

    def unplug(self) -> None:
        """The device disappears: the master closes (the driver's reads fail) and the path goes."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)
        with self._lock:
            for fd in (self._master, self._slave):
                if fd >= 0:
                    os.close(fd)
            self._master = self._slave = -1
            if os.path.islink(self.path):
                os.unlink(self.path)

    def replug(self) -> None:
        """The device comes back (power cycled: command mode, on hook) behind the same path."""
        self.unplug()
        with self._lock:
            self.state = CommandState()
            self._scheduled.clear()
            self._on_answer.clear()
        self._plug_in()

    # -- what a test does to the line --

    def ring(self, times: int = 2, caller_id: SimCallerId | None = None, interval: float | None = None) -> None:
        interval = interval or self.ring_interval
        now = time.monotonic()
        with self._lock:
            self.rings_sent, self.answered_after_rings = 0, None
            self.ringing_until = now + times * interval
            for index in range(times):
                self._schedule(now + index * interval, "ring")
            if caller_id is not None:
                lines = "\r\n".join(caller_id.lines(self.model.caller_id_separator))
                self._schedule(now + interval * 0.4, "text", f"\r\n{lines}\r\n".encode())

    def call(self, caller_id: SimCallerId | None = None, rings: int = 3, digits: str = "",
             digit_delay: float = 4.0, digit_gap: float = 0.3) -> None:
        """The exchange places a call: rings (caller ID after the first unless None) and, once the
        box has answered and the stream runs, the caller's digits `digit_delay` seconds later."""
        with self._lock:
            self._on_answer = [(digit_delay + index * digit_gap, "in_band", digit)
                               for index, digit in enumerate(digits)]
        self.ring(rings, caller_id)

    def dtmf(self, digits: str) -> None:
        self.in_band(*(ch for ch in digits))

    def busy_tone(self, dle: bool = True, audio: bool = True) -> None:
        """The far end hung up: the exchange's busy tone, as audio and/or as the modem's DLE b."""
        if audio:
            self.phone.play_busy_tone()
        if dle:
            now = time.monotonic()
            with self._lock:
                for second in range(30):
                    self._schedule(now + 0.5 + second, "in_band", "b")

    def set_dial_tone(self, kind: str | None) -> None:
        """The exchange's dial tone off hook: a key of tones.DIAL_TONES, or None for a dead line (no
        loop current: no dial tone reported or heard, only silence)."""
        if kind is not None and kind not in DIAL_TONES:
            raise ValueError(f"dial tone {kind!r}: one of {', '.join(DIAL_TONES)}, or none")
        with self._lock:
            self.dial_tone = kind
            self._dial_tone_source = ToneSource(DIAL_TONES[kind], 0.2) if kind else SilenceSource()

    def loop_break(self) -> None:
        self.in_band("l")

    def in_band(self, *codes: str) -> None:
        """DLE-shielded reports, sent within the voice stream (or in command mode when not in one)."""
        with self._lock:
            for code in codes:
                self._schedule(time.monotonic(), "in_band", code)

    def wait_until(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.01)
        return predicate(self)

    # -- the master-side thread --

    def _plug_in(self) -> None:
        # The slave stays open as long as the master: with no slave open, reads on the master fail,
        # and the driver closes and reopens its own slave fd whenever it reconnects.
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or CR/LF translation by the line discipline
        os.set_blocking(master, False)
        link = self.path + ".new"
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.ttyname(slave), link)
        os.replace(link, self.path)
        with self._lock:
            self._master, self._slave = master, slave
        self._stop = threading.Event()
        self._splitter = DleSplitter()
        self._line = bytearray()
        self._thread = threading.Thread(target=self._run, name="sim-modem", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        master, stop = self._master, self._stop
        while not stop.is_set() and time.monotonic() < self._deadline:
            try:
                readable, _, _ = select.select([master], [], [], self._idle_time(time.monotonic()))
                if readable:
                    data = os.read(master, 4096)
                    if data:
                        self._from_host(data)
                self._service(time.monotonic())
            except OSError:
                return
        if not stop.is_set():  # lifetime over: vanish like an unplugged device, rather than hang
            self.unplug()

    def _idle_time(self, now: float) -> float:
        """Sleep until the next audio chunk or scheduled event is due (at most 20 ms)."""
        with self._lock:
            wait = 0.02
            if self.state.voice:
                due = self.state.voice_started + (self.state.samples_sent + CHUNK) / 8000
                wait = min(wait, due - now)
            if self._scheduled:
                wait = min(wait, self._scheduled[0][0] - now)
        return max(wait, 0.001)

    def _write(self, data: bytes) -> None:
        try:
            os.write(self._master, data)
        except BlockingIOError:
            pass  # nobody reads: a real modem would overrun too

    def _schedule(self, due: float, kind: str, payload: object = None) -> None:
        self._scheduled.append((due, kind, payload))
        self._scheduled.sort(key=lambda item: item[0])

    def _service(self, now: float) -> None:
        with self._lock:
            while self._scheduled and self._scheduled[0][0] <= now:
                _, kind, payload = self._scheduled.pop(0)
                self._due(kind, payload)
            if self.state.voice:
                self._stream(now)

    def _due(self, kind: str, payload) -> None:
        state = self.state
        if kind == "ring" and not state.off_hook and not state.voice:
            self.rings_sent += 1
            self._write(b"\r\nRING\r\n")
        elif kind == "text" and not state.voice:
            self._write(payload)
        elif kind == "in_band" and (payload != "b" or state.voice):
            self._write(bytes([DLE, ord(payload)]))

    def _stream(self, now: float) -> None:
        state = self.state
        due = int((now - state.voice_started) * 8000) - state.samples_sent
        if due < CHUNK:
            return
        source = self._dial_tone_source if state.dial_tone else self.phone
        samples = source.samples(min(due, 20 * CHUNK))
        state.samples_sent += len(samples)
        state.worst_write_gap = max(state.worst_write_gap, now - state.last_write)
        state.last_write = now
        self._write(shield(self._codec().encode(samples.astype("<i2").tobytes())))

    def answered(self, now: float) -> None:
        """The duplex stream started (called by the command mode, lock held): what the caller does next."""
        for delay, kind, payload in self._on_answer:
            self._schedule(now + delay, kind, payload)
        self._on_answer = []

    def _codec(self) -> Codec:
        return codec_for(self.model.voice_formats[self.state.vsm])

    # -- host -> modem --

    def _from_host(self, data: bytes) -> None:
        with self._lock:
            if self.behaviour == "silent":
                return
            if self.state.voice:
                self._voice_from_host(data)
            else:
                self._commands_from_host(data)

    def _commands_from_host(self, data: bytes) -> None:
        for index, byte in enumerate(data):
            if byte != 0x0D:
                if byte != 0x0A and len(self._line) < 256:
                    self._line.append(byte)
                continue
            line = self._line.decode("ascii", "replace").strip()
            self._line.clear()
            if not line.upper().startswith("AT"):
                continue
            self.commands.append(line)
            if self.behaviour == "garbage":
                self._write(self._rng.integers(0, 256, 64, dtype=np.uint8).tobytes())
                continue
            if self.state.echo:
                self._write(line.encode() + b"\r")
            self._write(answer_command(self, line, time.monotonic()))
            if self.state.voice:  # CONNECT: the rest of this chunk is audio
                self._splitter = DleSplitter()
                self._voice_from_host(data[index + 1:])
                return

    def _voice_from_host(self, data: bytes) -> None:
        state = self.state
        for item in self._splitter.split(data):
            if isinstance(item, bytes):
                self.phone.hear(self._codec().decode(item))
                state.last_audio_byte = item[-1]
                continue
            if item in (ord("^"), ord("!"), ETX):
                if self.model.needs_triple_dle and state.last_audio_byte != DLE:
                    continue  # this model ignores a single DLE before its end codes
                state.voice = False
                self._write(bytes([DLE, ETX]) + b"\r\nOK\r\n")
                return
            state.last_audio_byte = None
