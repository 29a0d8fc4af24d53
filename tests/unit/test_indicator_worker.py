"""LED changes leave the engine loop for a worker thread, and arrive in order."""

from __future__ import annotations

import threading

from firmware.indicator_worker import IndicatorWorker


class Panel:
    """Records what was shown, on which thread."""

    def __init__(self):
        self.shown: list[tuple] = []
        self.threads: set[int] = set()

    def set_station(self, station, state):
        self.threads.add(threading.get_ident())
        if station == "broken":
            raise KeyError(station)
        self.shown.append(("station", station, state))

    def show_box(self, *args):
        self.threads.add(threading.get_ident())
        self.shown.append(("box", *args))


def test_changes_are_shown_in_order_on_another_thread():
    panel = Panel()
    worker = IndicatorWorker(panel)
    worker.set_station("st1", "ringing")
    worker.show_box(0, 1)
    worker.set_station("st1", "busy")
    worker.show_box(0, 0)
    worker.close()
    assert panel.shown == [("station", "st1", "ringing"), ("box", 0, 1), ("station", "st1", "busy"), ("box", 0, 0)]
    assert threading.get_ident() not in panel.threads


def test_a_failed_change_is_logged_and_the_next_ones_still_shown(caplog):
    panel = Panel()
    worker = IndicatorWorker(panel)
    worker.set_station("broken", "ready")
    worker.set_station("st2", "ready")
    worker.close()
    assert panel.shown == [("station", "st2", "ready")]
    assert "panel LED update set_station('broken', 'ready') failed" in caplog.text
