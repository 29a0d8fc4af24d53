"""What a person needs to diagnose a line: identity, settings, the last raw caller ID, recent events."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from typing import Callable


class Diagnostics:
    def __init__(self, wall_clock: Callable[[], float] = time.time, size: int = 200) -> None:
        self._wall_clock = wall_clock
        self._recent: deque[dict] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.identity: dict[str, str] = {}
        self.model = ""
        self.voice_format = ""
        self.last_caller_id_raw = ""
        self.last_error = ""
        self.reconnects = 0

    def record(self, kind: str, detail: str = "") -> None:
        at = dt.datetime.fromtimestamp(self._wall_clock(), dt.timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            self._recent.append({"at": at, "kind": kind, "detail": detail})

    def recent(self) -> list[dict]:
        with self._lock:
            return list(self._recent)

    def as_dict(self) -> dict:
        return {"identity": dict(self.identity), "model": self.model, "voice_format": self.voice_format,
                "last_caller_id_raw": self.last_caller_id_raw, "last_error": self.last_error,
                "reconnects": self.reconnects, "recent": self.recent()}
