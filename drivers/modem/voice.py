"""The audio of one call: received modem bytes -> rx frames, tx frames -> paced shielded writes."""

from __future__ import annotations

import threading
import time
from typing import Callable

from drivers.modem.audio import FRAME_SAMPLES, RATE, Codec, FrameBuffer
from drivers.modem.errors import ModemError
from drivers.modem.protocol import shield

FRAME_SECONDS = FRAME_SAMPLES / RATE


class DuplexAudio:
    """`received()` runs on the reader thread; a writer thread keeps the modem `lead` seconds ahead.

    The modem plays what it gets at its own 8 kHz clock: writing too little makes it underrun (it
    reports DLE u), writing too much adds latency. Pacing by the monotonic clock keeps 100-300 ms
    queued in the modem whatever the scheduling jitter here.
    """

    def __init__(self, send: Callable[[bytes], None], rx: FrameBuffer, tx: FrameBuffer, *,
                 lead: float = 0.2, min_lead: float = 0.06, clock: Callable[[], float] = time.monotonic) -> None:
        self._send, self.rx, self.tx = send, rx, tx
        self.lead, self.min_lead, self._clock = lead, min_lead, clock
        self._codec: Codec | None = None
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self.bytes_received = self.bytes_sent = 0
        self.max_receive_gap = 0.0  # longest wait between audio arrivals this call (USB or host stalls)
        self._last_arrival: float | None = None

    @property
    def running(self) -> bool:
        return self._writer is not None and self._writer.is_alive()

    def prepare(self, codec: Codec) -> None:
        """Before asking for the stream: received audio is decoded from now on."""
        self.stop()
        self._codec = codec
        self.rx.clear()
        self.tx.clear()
        self.bytes_received = self.bytes_sent = 0
        self.max_receive_gap, self._last_arrival = 0.0, None

    def start(self) -> None:
        """After CONNECT: start writing (before it, our bytes would be read as commands)."""
        self._stop.clear()
        self._writer = threading.Thread(target=self._write_loop, name="modem-writer", daemon=True)
        self._writer.start()

    def stop(self) -> None:
        self._stop.set()
        writer, self._writer = self._writer, None
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=2.0)

    def received(self, data: bytes) -> bytes:
        """Modem bytes (already unshielded) -> PCM pushed to rx; returns the PCM for the line guard."""
        codec = self._codec
        if codec is None:
            return b""
        pcm = codec.decode(data)
        self.rx.push(pcm)
        self.bytes_received += len(data)
        now = self._clock()
        if self._last_arrival is not None:
            self.max_receive_gap = max(self.max_receive_gap, now - self._last_arrival)
        self._last_arrival = now
        return pcm

    def stats(self) -> dict:
        return {"bytes_received": self.bytes_received, "bytes_sent": self.bytes_sent,
                "max_receive_gap_ms": round(self.max_receive_gap * 1000, 1)}

    def _write_loop(self) -> None:
        codec = self._codec
        start, written = self._clock(), 0.0
        filled = False  # the modem's queue is our tx jitter buffer: fill it to `lead` once, with silence
        while not self._stop.is_set():
            ahead = written - (self._clock() - start)
            if ahead < -1.0:  # we were stalled for long: restart the schedule rather than burst
                start, written, ahead = self._clock(), 0.0, 0.0
            if ahead >= self.lead:
                self._stop.wait(min(FRAME_SECONDS, ahead - self.lead + 0.005))
                continue
            filled = filled or ahead >= self.lead - FRAME_SECONDS
            frame = self.tx.try_pop()
            if frame is None and filled and ahead > self.min_lead:
                # Nothing from the bridge yet, but the modem still has audio queued: wait for the
                # frame rather than write silence (which the far end would hear as a dropout).
                self._stop.wait(0.005)
                continue
            data = shield(codec.encode(frame if frame is not None else self.tx.pop()))
            try:
                self._send(data)
            except ModemError:  # the port is gone; the transport has reported it
                return
            self.bytes_sent += FRAME_SAMPLES
            written += FRAME_SECONDS
