"""One voice modem on one analog line: the thin I/O shell around `Line` and the protocol parser.

Threads: the transport's reader (parses, feeds the line machine and the rx buffer, calls back), one
control thread (runs answer/dial/hang-up sequences and the reopen back-off, ticks the line), and a
writer during calls. The callback is called with the line lock held, from the reader or the control
thread: it must only queue the event.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from typing import Callable

import serial

from drivers.modem import protocol as p
from drivers.modem import sequences as seq
from drivers.modem.audio import FrameBuffer, codec_for
from drivers.modem.channel import ModemChannel
from drivers.modem.diagnostics import Diagnostics
from drivers.modem.linetest import LineTestReport, judge
from drivers.modem.errors import ModemError, PortLost
from drivers.modem.line import (Answer, Dial, HangUp, HangupCause, IllegalTransition, Line,
                                LineEvent, LineState)
from drivers.modem.quirks import GENERIC, ModelQuirks
from drivers.modem.settings import ModemFault, ModemSettings
from drivers.modem.timing import FrameClock
from drivers.modem.tones import hear_dial_tone
from drivers.modem.voice import DuplexAudio

log = logging.getLogger(__name__)


class Modem:
    """One modem line. `on_event` gets `LineEvent`s and `ModemFault`s; `rx`/`tx` carry call audio."""

    def __init__(self, url: str, on_event: Callable[[LineEvent | ModemFault], None],
                 settings: ModemSettings = ModemSettings(), *, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 open_port: Callable[..., serial.SerialBase] = serial.serial_for_url) -> None:
        self.url, self.settings, self._on_event = url, settings, on_event
        adaptive = {"max_prefill": settings.max_prefill_frames, "window": settings.jitter_window_frames}
        self.rx = FrameBuffer(settings.prefill_frames, settings.buffer_frames, **adaptive)  # modem -> application
        self.tx = FrameBuffer(settings.prefill_frames, settings.buffer_frames, **adaptive)  # application -> modem
        self.quirks: ModelQuirks = GENERIC
        self.bridge_clock = FrameClock()  # ticked by the media port each time the bridge takes a frame
        self.diagnostics_log = Diagnostics(wall_clock)
        self._line = Line(settings.line, clock)
        self._clock = clock
        self._dial_tone_at: float | None = None
        self._capture: bytearray | None = None  # received audio kept for the line test
        self._line_lock = threading.RLock()
        self._channel = ModemChannel(url, self._modem_event, self._modem_audio, self._port_lost,
                                     open_port=open_port, read_timeout=settings.read_timeout)
        self._voice = DuplexAudio(self._channel.send, self.rx, self.tx, lead=settings.tx_lead)
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue()
        self._stopping = threading.Event()
        self._dial_tone = threading.Event()
        self._lost_error: Exception | None = None
        self._control: threading.Thread | None = None

    # -- lifecycle --

    @property
    def state(self) -> LineState:
        return self._line.state

    def open(self) -> None:
        """Connect now (raises ModemError with a clear message), then supervise in the background."""
        try:
            self._connect()
        except (serial.SerialException, OSError) as error:
            raise ModemError(f"cannot open {self.url}: {error}") from error
        self._start_control(connect_first=False)

    def start(self) -> None:
        """Connect in the background, retrying with back-off until the modem answers."""
        self._start_control(connect_first=True)

    def close(self) -> None:
        self._stopping.set()
        self._jobs.put(lambda: None)
        if self._control is not None:
            self._control.join(timeout=5.0)
        self._voice.stop()
        if self.state not in (LineState.idle, LineState.offline):  # never leave the line off hook
            try:
                self._end_stream_and_hang_up()
            except ModemError:
                pass
        self._channel.close()

    # -- requests (any thread; False when the line is not in a state to do it) --

    def answer(self) -> bool:
        return self._request(self._line.answer)

    def dial(self, number: str) -> bool:
        """Go off hook, wait for dial tone, dial `number` ("" = off hook only), start the stream."""
        return self._request(self._line.dial, number)

    def hang_up(self) -> bool:
        return self._request(self._line.hang_up, HangupCause.local)

    def line_test(self, done: Callable[[LineTestReport], None], listen_s: float = 2.0) -> bool:
        """The technician's test of an idle line: identity, then off hook for `listen_s` (at least
        until the dial-tone report may come) to judge dial tone, then on hook. `done(report)` is
        called on the driver's control thread. False (and nothing done) when the line is not idle."""
        if not self._request(self._line.start_test):
            return False
        self._jobs.put(lambda: self._line_test(done, listen_s))
        return True

    def command(self, command: str, expect: tuple[str, ...] = ("OK",), timeout: float | None = None) -> list[str]:
        """One AT command outside calls (diagnostics, bench tests)."""
        if self._channel.in_voice_stream:
            raise ModemError(f"{command!r}: the modem is in a voice stream")
        return self._channel.command(command, expect, timeout or self.settings.timeouts.command)

    def diagnostics(self) -> dict:
        settings = dataclasses.asdict(self.settings)
        settings["line"]["hangup_on"] = sorted(kind.name for kind in self.settings.line.hangup_on)
        return {"url": self.url, "state": self.state.value, "quirks": self.quirks.as_dict(),
                "settings": settings, "rx": dataclasses.asdict(self.rx.stats()),
                "tx": dataclasses.asdict(self.tx.stats()), "audio": self._voice.stats(),
                "bridge_frames": self.bridge_clock.stats(),
                **self.diagnostics_log.as_dict()}

    # -- the line machine and the callback --

    def _request(self, method, *args) -> bool:
        try:
            self._apply(method, *args)
            return True
        except IllegalTransition:
            return False

    def _apply(self, method, *args) -> None:
        with self._line_lock:
            for output in method(*args):
                if isinstance(output, Answer):
                    self._jobs.put(self._answer)
                elif isinstance(output, Dial):
                    self._jobs.put(lambda number=output.number: self._dial(number))
                elif isinstance(output, HangUp):
                    self._jobs.put(self._hang_up)
                else:
                    self.diagnostics_log.record(type(output).__name__, str(output))
                    self._emit(output)

    def _emit(self, event) -> None:
        try:
            self._on_event(event)
        except Exception:
            log.exception("modem event callback failed")

    # -- reader thread --

    def _modem_event(self, event: p.Event) -> None:
        if isinstance(event, p.CallerId):
            self.diagnostics_log.last_caller_id_raw = event.raw
        if event == p.Tone(p.ToneKind.dial_tone):
            if not self._dial_tone.is_set():
                self._dial_tone_at = self._clock()
            self._dial_tone.set()
        if not isinstance(event, (p.Echo, p.Text)):
            self.diagnostics_log.record("modem", repr(event)[:200])
        self._apply(self._line.handle, event)

    def _modem_audio(self, data: bytes) -> None:
        pcm = self._voice.received(data)
        capture = self._capture
        if capture is not None:
            capture += pcm
        if pcm:
            self._apply(self._line.hear, pcm)

    def _port_lost(self, error: Exception) -> None:
        self._lost_error = error
        self._jobs.put(lambda: None)

    # -- control thread --

    def _start_control(self, connect_first: bool) -> None:
        self._stopping.clear()
        self._control = threading.Thread(target=self._run, args=(connect_first,), name="modem-control",
                                         daemon=True)
        self._control.start()

    def _run(self, connect_first: bool) -> None:
        if connect_first:
            self._reconnect()
        while not self._stopping.is_set():
            if self._lost_error is not None:
                self._go_offline(self._lost_error)
                self._reconnect()
                continue
            try:
                job = self._jobs.get(timeout=0.1)
            except queue.Empty:
                self._apply(self._line.tick)
                continue
            try:
                job()
            except PortLost:
                continue  # _lost_error is set: the next turn takes the line offline
            except Exception:
                log.exception("modem job failed")

    def _connect(self) -> None:
        self._lost_error = None
        self._channel.open()
        try:
            identity = seq.identify(self._channel, self.settings.timeouts, self.settings.model,
                                    self.settings.caller_id_region, self._note)
        except ModemError:
            self._channel.close()
            raise
        self.quirks = identity.quirks
        self.diagnostics_log.identity = {"ATI0": identity.product, "ATI3": identity.description}
        self.diagnostics_log.model = identity.quirks.name
        self._apply(self._line.modem_ready, f"({identity.quirks.name}: {identity.product})")

    def _reconnect(self) -> None:
        for delay in self.settings.backoff.delays():
            if self._stopping.is_set():
                return
            try:
                self._connect()
                return
            except (ModemError, serial.SerialException, OSError) as error:
                self.diagnostics_log.last_error = str(error)
                self.diagnostics_log.record("fault", str(error))
                self._emit(ModemFault(str(error), delay))
            self._stopping.wait(delay)

    def _go_offline(self, error: Exception) -> None:
        self._voice.stop()
        self._channel.close()
        while not self._jobs.empty():
            self._jobs.get_nowait()
        self.diagnostics_log.last_error = str(error)
        self.diagnostics_log.reconnects += 1
        self._apply(self._line.modem_lost, f"port lost: {error}")

    def _note(self, text: str) -> None:
        self.diagnostics_log.record("note", text)

    def _prepare_voice(self):
        voice_format = seq.configure_voice(self._channel, self.quirks, self.settings.timeouts,
                                           self.settings.caller_id_region, self._note)
        self.diagnostics_log.voice_format = f"AT+VSM={voice_format.vsm} ({voice_format.sample_format.value})"
        return codec_for(voice_format.sample_format)

    def _still(self, state: LineState) -> bool:
        """Jobs run after the fact: one queued for a state the line has already left is stale."""
        return self._line.state is state

    def _answer(self) -> None:
        if not self._still(LineState.answering):
            return
        try:
            codec = self._prepare_voice()
            seq.off_hook(self._channel, self.settings.timeouts)
            self._start_stream(codec)
        except PortLost:
            raise
        except ModemError as error:
            self._unless_hung_up(self._line.failed, f"answer failed: {error}")

    def _dial(self, number: str) -> None:
        if not self._still(LineState.dialing):
            return
        try:
            codec = self._prepare_voice()
            self._dial_tone.clear()
            seq.off_hook(self._channel, self.settings.timeouts)
            if not self._dial_tone.wait(self.settings.dial_tone_timeout):
                if self._lost_error is not None:
                    raise PortLost(str(self._lost_error))
                if self.settings.require_dial_tone:
                    raise ModemError(f"no dial tone reported within {self.settings.dial_tone_timeout:g} s")
                self._note("no dial-tone report; dialing anyway")
            seq.dial_digits(self._channel, number, self.quirks, self.settings.timeouts)
            self._start_stream(codec)
        except PortLost:
            raise
        except ModemError as error:
            self._unless_hung_up(self._line.failed, f"dial failed: {error}")

    def _start_stream(self, codec) -> None:
        self._voice.prepare(codec)
        self.bridge_clock.reset()
        seq.start_duplex(self._channel, self.settings.timeouts)
        self._voice.start()
        self._unless_hung_up(self._line.connected)

    def _unless_hung_up(self, method, *args) -> None:
        """Outcome of an answer or dial; the application may have hung up meanwhile (its HangUp job
        is queued behind this one and cleans up)."""
        with self._line_lock:
            if self._line.state in (LineState.answering, LineState.dialing):
                self._apply(method, *args)

    def _hang_up(self) -> None:
        if not self._still(LineState.hanging_up):
            return
        self._end_stream_and_hang_up()
        self._apply(self._line.hung_up)

    def _end_stream_and_hang_up(self) -> None:
        self._voice.stop()
        if self._channel.in_voice_stream:
            left = self._channel.end_voice_stream((self.quirks.end_stream(), self.quirks.abort_stream()),
                                                  self.settings.timeouts.hangup)
            if not left:
                self._note("the modem did not confirm the end of the stream")
        seq.on_hook(self._channel, self.settings.timeouts, self._note)

    # -- the line test (control thread) --

    def _line_test(self, done: Callable[[LineTestReport], None], listen_s: float) -> None:
        report = LineTestReport(model=self.quirks.name)
        off_at = None
        try:
            if not self._still(LineState.testing):
                raise ModemError("the line left the test before it began")
            timeouts = self.settings.timeouts
            report.identity = {"ATI0": " ".join(self._channel.command("ATI0", timeout=timeouts.command)),
                               "ATI3": " ".join(self._channel.command("ATI3", timeout=timeouts.command))}
            codec = self._prepare_voice()
            self._voice.prepare(codec)
            self._dial_tone.clear()
            self._capture = bytearray()
            off_at = self._clock()
            seq.off_hook(self._channel, timeouts)
            seq.start_receive(self._channel, timeouts)
            self._listen(off_at, listen_s)
        except ModemError as error:  # PortLost too: the control loop takes the line offline next
            report.error = str(error)
        finally:
            heard = bytes(self._capture or b"")
            self._capture = None
            if off_at is not None:
                report.waited_s = round(self._clock() - off_at, 2)
                report.dial_tone_reported = self._dial_tone.is_set()
                if report.dial_tone_reported and self._dial_tone_at is not None:
                    report.reported_after_s = round(max(0.0, self._dial_tone_at - off_at), 2)
                report.heard = hear_dial_tone(heard)
            try:
                self._end_stream_and_hang_up()
            except ModemError as error:
                report.error = report.error or f"could not hang up after the test: {error}"
            self._apply(self._line.test_over)
            report.last_caller_id_raw = self.diagnostics_log.last_caller_id_raw
            judge(report)
            self.diagnostics_log.record("line_test", report.verdict)
            done(report)

    def _listen(self, off_at: float, listen_s: float) -> None:
        """Until `listen_s` of audio is in and the dial-tone report had its chance (bounded)."""
        wanted = int(listen_s * 8000) * 2
        give_up = off_at + max(listen_s, self.settings.dial_tone_timeout) + 2.0
        while self._clock() < give_up and not self._stopping.is_set() and self._lost_error is None:
            report_due = self._dial_tone.is_set() or self._clock() - off_at >= self.settings.dial_tone_timeout
            if len(self._capture or b"") >= wanted and report_due:
                return
            self._stopping.wait(0.05)
        if self._lost_error is not None:
            raise PortLost(str(self._lost_error))
