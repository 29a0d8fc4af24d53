"""The timing of a periodic media callback (the conference bridge asking for a 20 ms frame).

`tick()` runs in the callback itself (pjmedia's clock thread), so it only reads the clock and appends
to a bounded deque; the figures are worked out when someone asks (`switchboard line NAME`, the bench).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

import numpy as np

PERIOD = 0.02
LATE = 0.04  # a frame this late has emptied a 40-60 ms buffer: what an underrun needs


class FrameClock:
    def __init__(self, clock: Callable[[], float] = time.perf_counter, keep: int = 15000) -> None:
        self._clock = clock
        self._intervals: deque[float] = deque(maxlen=keep)  # 5 minutes of 20 ms ticks
        self._lock = threading.Lock()
        self._last: float | None = None
        self.ticks = self.late = 0
        self.longest = 0.0

    def tick(self) -> None:
        now = self._clock()
        with self._lock:
            if self._last is not None:
                interval = now - self._last
                self._intervals.append(interval)
                if interval > self.longest:
                    self.longest = interval
                if interval >= LATE:
                    self.late += 1
            self._last = now
            self.ticks += 1

    def reset(self) -> None:
        with self._lock:
            self._intervals.clear()
            self._last = None
            self.ticks = self.late = 0
            self.longest = 0.0

    def stats(self) -> dict:
        """Intervals between ticks in ms: median, 99th percentile, longest, mean deviation from 20 ms
        (jitter), and how many were late (>= 40 ms)."""
        with self._lock:
            intervals = np.array(self._intervals, dtype=np.float64) * 1000
            ticks, late, longest = self.ticks, self.late, self.longest
        if not len(intervals):
            return {"ticks": ticks, "late": late, "p50_ms": None, "p99_ms": None, "max_ms": None,
                    "jitter_ms": None}
        return {"ticks": ticks, "late": late, "p50_ms": round(float(np.percentile(intervals, 50)), 2),
                "p99_ms": round(float(np.percentile(intervals, 99)), 2), "max_ms": round(longest * 1000, 2),
                "jitter_ms": round(float(np.mean(np.abs(intervals - PERIOD * 1000))), 3)}
