"""The engine loop's waiting: how long a poll may block, and who rings the doorbell."""

from __future__ import annotations

import threading

from firmware.telephony.loop import Loop


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Doorbell:
    def __init__(self):
        self.rings = 0

    def __call__(self) -> None:
        self.rings += 1


def idle_loop():
    clock, bell = Clock(), Doorbell()
    loop = Loop(clock)
    loop.waker = bell
    return loop, clock, bell


def test_an_idle_loop_waits_the_whole_cap():
    loop, _, _ = idle_loop()
    assert loop.wait_ms(1000) == 1000


def test_the_wait_ends_at_the_next_timer_rounded_up():
    loop, clock, _ = idle_loop()
    loop.call_later(0.2503, lambda: None)
    loop.call_later(5.0, lambda: None)
    assert loop.wait_ms(1000) == 251  # rounded up: waking before the deadline would only spin
    assert loop.wait_ms(100) == 100
    clock.now += 0.3
    assert loop.wait_ms(1000) == 0


def test_a_cancelled_timer_does_not_shorten_the_wait():
    loop, _, _ = idle_loop()
    loop.call_later(0.05, lambda: None).cancel()
    loop.call_later(0.4, lambda: None)
    assert loop.wait_ms(1000) == 400


def test_work_already_handed_in_means_no_wait():
    loop, _, _ = idle_loop()
    loop.post("status")
    assert loop.wait_ms(1000) == 0
    loop2, _, _ = idle_loop()
    loop2.emit("event")
    assert loop2.wait_ms(1000) == 0


def turn_once(loop: Loop, handled: list, waits: list) -> None:
    loop.turn(waits.append, handled.append, 1000)


def test_another_thread_rings_once_until_the_loop_has_turned():
    loop, _, bell = idle_loop()
    handled, waits = [], []
    turn_once(loop, handled, waits)  # the loop thread is now known
    assert waits == [1000]
    futures = []
    worker = threading.Thread(target=lambda: futures.extend([loop.post("a"), loop.post("b")]) or loop.emit("c"))
    worker.start()
    worker.join()
    assert bell.rings == 1  # three hand-ins, one ring: the first is enough to end the wait
    turn_once(loop, handled, waits)
    assert waits[-1] == 0
    assert handled == ["c", "a", "b"]
    assert [f.result(0) for f in futures] == [None, None]
    worker = threading.Thread(target=loop.post, args=("d",))
    worker.start()
    worker.join()
    assert bell.rings == 2  # after a turn the next hand-in rings again


def test_the_loop_thread_itself_never_rings():
    loop, _, bell = idle_loop()
    handled, waits = [], []
    turn_once(loop, handled, waits)
    loop.emit("from a pjsua2 callback during the poll")
    loop.post("from a handler")
    assert bell.rings == 0
    turn_once(loop, handled, waits)
    assert waits[-1] == 0 and handled == ["from a pjsua2 callback during the poll", "from a handler"]


def test_a_ring_that_races_the_drain_is_not_lost():
    """Handed in after the loop's drain started: the ring is sent, so the next wait ends at once."""
    loop, _, bell = idle_loop()
    handled, waits = [], []
    turn_once(loop, handled, waits)

    def handle(item):
        handled.append(item)
        if item == "first":  # another thread hands in while the loop is handling
            worker = threading.Thread(target=loop.post, args=("second",))
            worker.start()
            worker.join()

    worker = threading.Thread(target=loop.post, args=("first",))
    worker.start()
    worker.join()
    loop.turn(waits.append, handle, 1000)
    assert handled == ["first", "second"]  # drained in the same turn
    assert bell.rings == 2  # and it rang: a spare wake-up at worst, never a missed one


def test_stop_from_another_thread_wakes_the_loop():
    loop, _, bell = idle_loop()
    turn_once(loop, [], [])
    worker = threading.Thread(target=loop.stop)
    worker.start()
    worker.join()
    assert bell.rings == 1 and loop.wait_ms(1000) == 0


def test_run_waits_at_most_the_cap_and_ticks_every_turn():
    loop, _, _ = idle_loop()
    waits, ticks = [], []

    def poll(ms):
        waits.append(ms)
        if len(waits) == 3:
            loop.stop()

    loop.run(poll, lambda item: None, tick=lambda: ticks.append(1), max_wait_ms=250)
    assert waits == [250, 250, 250] and len(ticks) == 3


class Incoming:
    def __init__(self, leg):
        self.leg = leg


def test_incoming_calls_are_handled_before_the_other_events_waiting_in_their_own_order():
    loop = Loop(Clock(), urgent=(Incoming,))
    seen = []
    first, second = Incoming("in1"), Incoming("in2")
    loop.emit("digit on in0")
    loop.emit(first)
    loop.emit("operator answered")
    loop.emit(second)
    assert loop.wait_ms(1000) == 0  # an urgent event waiting is work too

    def handle(item):
        seen.append(item)
        if item is first:
            loop.emit("in1 cancelled")  # a leg's own later events still come after its IncomingCall

    loop.turn(lambda ms: None, handle)
    assert seen == [first, second, "digit on in0", "operator answered", "in1 cancelled"]
