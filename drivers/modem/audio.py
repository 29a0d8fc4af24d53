"""Modem sample formats <-> 16-bit little-endian PCM, and the thread-safe frame buffers.

Conversions are table lookups over numpy arrays (built once at import), so the per-frame cost on
the reader thread and in pjsua2's media callbacks is a few microseconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from drivers.modem.quirks import SampleFormat

RATE = 8000
FRAME_SAMPLES = 160            # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit mono
SILENCE_FRAME = bytes(FRAME_BYTES)
FRAME_SECONDS = FRAME_SAMPLES / RATE
RELAX_WINDOWS = 60  # an adaptive buffer lowers its pre-fill after this many windows without trouble


def _ulaw_decode_table() -> np.ndarray:
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent, mantissa = (code >> 4) & 0x07, code & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(code & 0x80, -magnitude, magnitude).astype("<i2")


def _ulaw_encode_table() -> np.ndarray:
    # G.711 works on 14-bit magnitudes: drop two bits first (floor), then add the bias of 33.
    sample = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(sample < 0, 0x7F, 0xFF)  # the code is sent inverted; the sign bit is 1 for >= 0
    magnitude = np.minimum(np.abs(sample), 8159) + 33
    segment = np.floor(np.log2(magnitude)).astype(np.int32) - 5
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    code = np.where(segment >= 8, 0x7F, (segment << 4) | mantissa)
    return (code ^ mask).astype(np.uint8)


def _alaw_decode_table() -> np.ndarray:
    code = np.arange(256, dtype=np.int32) ^ 0x55
    segment, mantissa = (code >> 4) & 0x07, code & 0x0F
    magnitude = np.where(segment == 0, (mantissa << 1) + 1,
                         ((mantissa << 1) + 33) << np.maximum(segment - 1, 0)) << 3
    return np.where(code & 0x80, magnitude, -magnitude).astype("<i2")


def _alaw_encode_table() -> np.ndarray:
    sample = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(sample >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(sample >= 0, sample, -sample - 1) >> 3, 4095)
    segment = np.where(magnitude < 32, 0,
                       np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 4)
    mantissa = np.where(segment == 0, magnitude >> 1, (magnitude >> np.maximum(segment, 1)) & 0x0F)
    return ((sign | (segment << 4) | mantissa) ^ 0x55).astype(np.uint8)


def _unsigned_decode_table() -> np.ndarray:
    return ((np.arange(256, dtype=np.int32) - 128) << 8).astype("<i2")


def _unsigned_encode_table() -> np.ndarray:
    return ((np.arange(-32768, 32768, dtype=np.int32) >> 8) + 128).astype(np.uint8)


@dataclass(frozen=True)
class Codec:
    """One 8-bit sample format: `decode(modem bytes) -> PCM16LE`, `encode(PCM16LE) -> modem bytes`."""

    sample_format: SampleFormat
    decode_table: np.ndarray  # 256 int16
    encode_table: np.ndarray  # 65536 uint8, indexed by sample + 32768

    def decode(self, data: bytes) -> bytes:
        return self.decode_table[np.frombuffer(data, dtype=np.uint8)].tobytes()

    def encode(self, pcm: bytes) -> bytes:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32) + 32768
        return self.encode_table[samples].tobytes()

    @property
    def silence(self) -> int:
        """The byte for a zero sample (what the modem gets when the host has nothing to say)."""
        return int(self.encode_table[32768])


_UNSIGNED = (_unsigned_decode_table(), _unsigned_encode_table())
CODECS = {
    SampleFormat.unsigned8: Codec(SampleFormat.unsigned8, *_UNSIGNED),
    SampleFormat.linear8: Codec(SampleFormat.linear8, *_UNSIGNED),
    SampleFormat.ulaw: Codec(SampleFormat.ulaw, _ulaw_decode_table(), _ulaw_encode_table()),
    SampleFormat.alaw: Codec(SampleFormat.alaw, _alaw_decode_table(), _alaw_encode_table()),
}


def codec_for(sample_format: SampleFormat) -> Codec:
    return CODECS[sample_format]


@dataclass(frozen=True)
class BufferStats:
    level: int          # frames waiting now
    underruns: int      # pops that found the buffer empty after it had been primed
    overruns: int       # frames dropped because the buffer was full
    frames_in: int
    frames_out: int
    trimmed: int = 0    # frames dropped to bring a standing backlog (latency) back to the pre-fill
    prefill: int = 0    # the pre-fill now (adaptive buffers raise it after underruns)


class FrameBuffer:
    """A thread-safe queue of 20 ms PCM frames (320 bytes) between a producer and a consumer.

    `push` takes any length and cuts frames. `pop` always returns one frame: silence until the
    buffer holds `prefill` frames (60 ms), and silence on underrun, after which it primes again.
    When full, the oldest frame is dropped, which keeps the latency bounded.

    With `window` set it is an adaptive jitter buffer. An underrun raises the pre-fill by one frame
    (up to `max_prefill`), so a host that stalls the consumer or the producer now and then gets the
    margin it needs instead of a dropout every time, and so does a gap between two pushes (before it
    costs an underrun, when the consumer is not there yet); `window` * 60 pops without one lower it again
    by a frame (a host that stalls once a minute keeps its margin). And a backlog that never drains is latency, not margin: when the fewest frames
    waiting over `window` pops exceeded the pre-fill (e.g. the bridge did not take frames while the
    call was in the IVR, so the buffer filled up), the surplus is dropped at once.
    """

    def __init__(self, prefill: int = 3, capacity: int = 15, *, max_prefill: int | None = None,
                 window: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        max_prefill = prefill if max_prefill is None else max_prefill
        if not 0 < prefill <= max_prefill <= capacity:
            raise ValueError("need 0 < prefill <= max_prefill <= capacity")
        self.base_prefill, self.prefill, self.max_prefill, self.capacity = prefill, prefill, max_prefill, capacity
        self.window = window
        self._frames: deque[bytes] = deque()
        self._partial = b""
        self._lock = threading.Lock()
        self._primed = False
        self._underruns = self._overruns = self._in = self._out = self._trimmed = 0
        self._window_pops, self._window_min, self._steady_pops = 0, capacity, 0
        self._clock, self._last_push = clock, None
        self.longest_push_gap = 0.0

    def push(self, pcm: bytes) -> None:
        with self._lock:
            if self.window:
                self._follow_producer()
            data = self._partial + pcm if self._partial else pcm
            whole = len(data) - len(data) % FRAME_BYTES
            for start in range(0, whole, FRAME_BYTES):
                if len(self._frames) >= self.capacity:
                    self._frames.popleft()
                    self._overruns += 1
                self._frames.append(data[start:start + FRAME_BYTES])
                self._in += 1
            self._partial = data[whole:]
            if len(self._frames) >= self.prefill:
                self._primed = True

    def pop(self) -> bytes:
        with self._lock:
            if not self._primed:
                return SILENCE_FRAME
            if not self._frames:
                self._underruns += 1
                self._primed = False
                if self.window:
                    self.prefill = min(self.prefill + 1, self.max_prefill)
                    self._steady_pops = 0
                    self._window_pops, self._window_min = 0, self.capacity
                return SILENCE_FRAME
            if self.window:
                self._adapt()
            self._out += 1
            return self._frames.popleft()

    def _follow_producer(self) -> None:
        """Before a push (lock held): a producer that went quiet for G seconds needs G of margin; the
        pre-fill rises to cover it before the gap costs an underrun (a host stall while the call is
        still in the IVR sizes the buffer for the conversation)."""
        now = self._clock()
        if self._last_push is not None:
            gap = now - self._last_push
            self.longest_push_gap = max(self.longest_push_gap, gap)
            needed = min(self.max_prefill, math.ceil(gap / FRAME_SECONDS) + 1)
            if needed > self.prefill:
                self.prefill, self._steady_pops = needed, 0
        self._last_push = now

    def try_pop(self) -> bytes | None:
        """A frame if one is ready, else None: for a consumer that can wait (the modem writer)."""
        with self._lock:
            if not (self._primed and self._frames):
                return None
        return self.pop()

    def _adapt(self) -> None:
        """Before a pop (lock held): follow the backlog over the window, trim it, relax the pre-fill."""
        self._window_min = min(self._window_min, len(self._frames))
        self._window_pops += 1
        self._steady_pops += 1
        if self._steady_pops >= RELAX_WINDOWS * self.window and self.prefill > self.base_prefill:
            self.prefill -= 1
            self._steady_pops = 0
        if self._window_pops >= self.window:
            surplus = self._window_min - self.prefill
            for _ in range(max(0, min(surplus, len(self._frames) - 1))):
                self._frames.popleft()
                self._trimmed += 1
            self._window_pops, self._window_min = 0, self.capacity

    def clear(self) -> None:
        """Empty it and zero the counters (at the start of each call)."""
        with self._lock:
            self._frames.clear()
            self._partial = b""
            self._primed = False
            self._underruns = self._overruns = self._in = self._out = self._trimmed = 0
            self.prefill = self.base_prefill
            self._window_pops, self._window_min, self._steady_pops = 0, self.capacity, 0
            self._last_push, self.longest_push_gap = None, 0.0

    def stats(self) -> BufferStats:
        with self._lock:
            return BufferStats(len(self._frames), self._underruns, self._overruns, self._in, self._out,
                               self._trimmed, self.prefill)
