"""Where the engine's start-up time goes: seconds since the process began (interpreter and imports
included, read from /proc) at each step, logged once the engine is ready and shown in `status`. The
issue's figure is a restart back to accepting calls within 2 s, so each step is worth seeing."""

from __future__ import annotations

import os
import time


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that cannot be read."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat; the name in brackets may hold spaces
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


class Timeline:
    """Marks of start-up steps, as seconds since the process started."""

    def __init__(self):
        age = process_age_s()
        self._origin = time.monotonic() - (age or 0.0)
        self.marks: dict[str, float] = {"imports": round(age, 3) if age is not None else 0.0}

    def mark(self, step: str) -> None:
        self.marks[step] = round(time.monotonic() - self._origin, 3)

    def summary(self) -> str:
        steps, last, parts = list(self.marks.items()), 0.0, []
        for name, at in steps:
            parts.append(f"{name} {at - last:.2f}")
            last = at
        return f"{last:.2f} s after the process started ({', '.join(parts)})"
