"""Free space for recordings: when the disk falls below the reserve, recordings stop before the disk
is full (so the database keeps room to write), and start again for new calls once space is back.
Pure decision over a free-space reading; the engine applies it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

CHECK_EVERY_S = 1.0  # at 16 kB/s per recording, a second is little against a reserve of megabytes


@dataclass
class DiskGuard:
    free_bytes: Callable[[], int]   # a reading of the recordings' filesystem (OSError when unreadable)
    reserve_mb: float
    low: bool = False
    free_at_alert: int = 0

    def reading(self) -> int:
        try:
            return self.free_bytes()
        except OSError:
            return 0  # a folder that cannot even be examined is no place to record

    def check(self) -> str | None:
        """'low' when free space just fell below the reserve, 'ok' when it came back above twice the
        reserve (hysteresis: no flapping around the limit), None when nothing changed."""
        free = self.reading()
        reserve = self.reserve_mb * 1e6
        if not self.low and free < reserve:
            self.low, self.free_at_alert = True, free
            return "low"
        if self.low and free >= 2 * reserve:
            self.low = False
            return "ok"
        return None

    def message(self) -> str:
        return (f"disk almost full: {self.free_at_alert / 1e6:.1f} MB free, below the {self.reserve_mb:g} MB"
                " kept free (recording.min_free_mb); recordings stopped, calls go on unrecorded")
