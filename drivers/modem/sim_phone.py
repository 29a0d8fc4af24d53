"""The far end of the simulated line: a phone that plays a chosen sound and records what it hears."""

from __future__ import annotations

import threading

import numpy as np

RATE = 8000


class ToneSource:
    """Sum of sines, optionally gated by an on/off cadence (busy tone); phase runs across calls."""

    def __init__(self, frequencies: tuple[float, ...], level: float = 0.3,
                 on: float | None = None, off: float | None = None) -> None:
        self.frequencies, self.level, self.on, self.off = frequencies, level, on, off
        self._next = 0

    def samples(self, n: int) -> np.ndarray:
        t = (self._next + np.arange(n)) / RATE
        self._next += n
        wave = sum(np.sin(2 * np.pi * f * t) for f in self.frequencies) / len(self.frequencies)
        if self.on is not None and self.off is not None:
            wave = wave * ((t % (self.on + self.off)) < self.on)
        return (wave * self.level * 32767).astype(np.int16)


class PcmSource:
    """Recorded 16-bit PCM, looped (e.g. speech)."""

    def __init__(self, pcm: bytes) -> None:
        self._samples = np.frombuffer(pcm, dtype="<i2")
        self._next = 0

    def samples(self, n: int) -> np.ndarray:
        index = (self._next + np.arange(n)) % len(self._samples)
        self._next += n
        return self._samples[index].astype(np.int16)


class NoiseSource:
    """Line noise: what an analog line carries when nobody speaks (faint, never digital zero)."""

    def __init__(self, level_dbfs: float = -60.0) -> None:
        self._rms = 32768 * 10 ** (level_dbfs / 20)
        self._rng = np.random.default_rng(11)

    def samples(self, n: int) -> np.ndarray:
        return np.clip(self._rng.normal(0, self._rms, n), -32768, 32767).astype(np.int16)


class SilenceSource:
    def samples(self, n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.int16)


class FarEndPhone:
    """Thread-safe: tests set what it plays and read what it heard while the simulator runs it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source = ToneSource((1200.0,))
        self._heard = bytearray()

    def play_tone(self, hz: float, level: float = 0.3) -> None:
        self._set(ToneSource((hz,), level))

    def play_busy_tone(self, frequencies: tuple[float, ...] = (480.0, 620.0), on: float = 0.5,
                       off: float = 0.5, level: float = 0.3) -> None:
        self._set(ToneSource(frequencies, level, on, off))

    def play_pcm(self, pcm: bytes) -> None:
        self._set(PcmSource(pcm))

    def play_silence(self) -> None:
        self._set(SilenceSource())

    def play_line_noise(self, level_dbfs: float = -60.0) -> None:
        """The caller went quiet (or left the line without the exchange noticing): only line noise."""
        self._set(NoiseSource(level_dbfs))

    def samples(self, n: int) -> np.ndarray:
        with self._lock:
            return self._source.samples(n)

    def hear(self, pcm: bytes) -> None:
        with self._lock:
            self._heard += pcm

    def heard(self) -> bytes:
        """Everything the box sent into the line since the call began (16-bit PCM)."""
        with self._lock:
            return bytes(self._heard)

    def clear_heard(self) -> None:
        with self._lock:
            self._heard.clear()

    def _set(self, source) -> None:
        with self._lock:
            self._source = source
