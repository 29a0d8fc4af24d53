"""The panel LEDs changed off the engine loop.

Showing a blink pattern with gpiozero stops the LED's previous blink thread (a join) and starts a
new one (Thread.start waits until it runs). On a busy machine each of those waits for the scheduler:
with callers entering and leaving the queue, the box LED alone took more than half of the engine
loop's busy time at 30 calls (py-spy), delaying every INVITE and digit behind it. The engine hands
each change to this worker instead and goes on; the LEDs show the changes in the order made.
"""

from __future__ import annotations

import logging
import queue
import threading

log = logging.getLogger(__name__)

_STOP = object()


class IndicatorWorker:
    """The engine's `Indicators`, applied to `target` (e.g. PanelIndicators) on a thread of its own."""

    def __init__(self, target):
        self.target = target
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="indicators", daemon=True)
        self._thread.start()

    def set_station(self, *args) -> None:
        self._queue.put((self.target.set_station, args))

    def show_box(self, *args) -> None:
        self._queue.put((self.target.show_box, args))

    def close(self, timeout: float = 5.0) -> None:
        """Show what was handed in so far, then stop."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            method, args = item
            try:
                method(*args)
            except Exception:
                log.exception("panel LED update %s%s failed", method.__name__, args)
