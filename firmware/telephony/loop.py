"""The engine loop: the one thread that owns pjsua2.

Each turn: let pjsua2 handle network events, run due timers, then handle what the callbacks and
other threads handed in. Other threads never call pjsua2 (that aborts the process); they `post`.

The loop does not poll on a fixed period: pjsua2 waits for network I/O or its own next timer, up to
the loop's next timer deadline and a cap. What other threads (and pjsua2's media callbacks) hand in
rings the `waker`, which makes the blocked wait return at once.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import math
import queue
import threading
import time
from concurrent.futures import Future
from typing import Callable

log = logging.getLogger(__name__)


class TimerHandle:
    __slots__ = ("fn", "args", "cancelled")

    def __init__(self, fn, args):
        self.fn, self.args, self.cancelled = fn, args, False

    def cancel(self) -> None:
        self.cancelled = True
        self.fn = self.args = None  # drop references early (pjsua2 objects must not outlive the loop)


class Loop:
    def __init__(self, clock: Callable[[], float] = time.monotonic, urgent: tuple[type, ...] = ()):
        self.clock = clock
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()  # (item, future) from any thread
        self._events: collections.deque = collections.deque()  # from pjsua2 callbacks
        # Events of these types are handled before the others waiting (in their own order): a new
        # call's INVITE waits for its 200 while the events that arrived with it in one poll (a digit
        # that dials an operator, an operator's answer that starts a recording) cost milliseconds
        # each. It is the first event of its leg, so no leg sees its own events reordered.
        self._urgent_types = urgent
        self._urgent: collections.deque = collections.deque()
        self._timers: list = []
        self._seq = itertools.count()
        self.stopping = False
        self.waker: Callable[[], None] | None = None  # makes a blocked poll return (any thread)
        self._wake_pending = False  # a wake-up is on its way: others need not send one
        self._thread: int | None = None  # the loop thread, once it turns

    def _wake(self) -> None:
        if self.waker is None or self._wake_pending or threading.get_ident() == self._thread:
            return  # on the loop thread the new work is drained before the next wait
        self._wake_pending = True
        try:
            self.waker()
        except OSError:
            log.exception("cannot wake the engine loop")

    # -- from any thread --------------------------------------------------------------------------
    def post(self, item) -> Future:
        """Hand a command to the loop; the future gets the handler's result or exception."""
        future: Future = Future()
        self._inbox.put((item, future))
        self._wake()
        return future

    def emit(self, event) -> None:
        """Hand an event from a callback to the loop (callbacks decide nothing themselves)."""
        (self._urgent if isinstance(event, self._urgent_types) else self._events).append(event)
        self._wake()

    def stop(self) -> None:
        self.stopping = True
        self._wake()

    # -- on the loop thread -----------------------------------------------------------------------
    def call_later(self, delay: float, fn: Callable, *args) -> TimerHandle:
        handle = TimerHandle(fn, args)
        heapq.heappush(self._timers, (self.clock() + delay, next(self._seq), handle))
        return handle

    def run(self, poll: Callable[[int], None], handle: Callable, tick: Callable[[], None] | None = None,
            max_wait_ms: int = 1000) -> None:
        """Turn until stopped. Network I/O, pjsua2's timers, the loop's timers and the waker each end
        a wait, so `max_wait_ms` only bounds how late `tick` (the systemd watchdog) runs."""
        while not self.stopping:
            self.turn(poll, handle, max_wait_ms)
            if tick:
                tick()

    def wait_ms(self, cap_ms: int) -> int:
        """How long the next poll may block: 0 with work waiting, else until the next timer, at most cap_ms."""
        if self._events or self._urgent or not self._inbox.empty() or self.stopping:
            return 0
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)  # a cancelled timer must not cut the wait short
        if self._timers:
            due = self._timers[0][0] - self.clock()
            return max(0, min(cap_ms, math.ceil(due * 1000 - 1e-6)))  # up: waking early would only spin
        return cap_ms

    def turn(self, poll: Callable[[int], None], handle: Callable, poll_ms: int = 10) -> None:
        self._thread = threading.get_ident()
        poll(self.wait_ms(poll_ms))
        self._wake_pending = False  # before draining: what is handed in from now on rings again
        self._drain_events(handle)
        now = self.clock()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                fn, args = timer.fn, timer.args
                timer.cancel()
                self._guard(fn, *args)
            self._drain_events(handle)
        while True:
            try:
                item, future = self._inbox.get_nowait()
            except queue.Empty:
                break
            try:
                future.set_result(handle(item))
            except Exception as exc:
                future.set_exception(exc)
            self._drain_events(handle)

    def _drain_events(self, handle) -> None:
        while self._urgent or self._events:
            self._guard(handle, (self._urgent or self._events).popleft())

    def clear(self) -> None:
        """Forget every timer and event (shutdown: nothing may keep pjsua2 objects alive)."""
        for _, _, timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._events.clear()
        self._urgent.clear()

    @staticmethod
    def _guard(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("engine error while handling %s", args[0] if args else fn)
